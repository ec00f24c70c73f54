"""The single writer: batching, futures, retries, poisoned files, backpressure, shutdown.

Success paths run against a real in-memory CozoDB store; faults are injected by a thin wrapper
that fails chosen calls before delegating to the real store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence

import pytest

from isgraph.index import writer as writer_mod
from isgraph.index.writer import Writer
from isgraph.model import Entity, FileResult, FileStatus, make_key
from isgraph.store.base import Store
from isgraph.store.connect import open_store


def _file(path: str, n: int = 2) -> FileResult:
    ents = [
        Entity(
            key=make_key("python", "function", path, f"f{i}"),
            language="python",
            kind="function",
            name=f"f{i}",
            qualname=f"f{i}",
            path=path,
            start_line=i + 1,
            start_col=0,
            end_line=i + 1,
            end_col=10,
            fqn=f"m.f{i}",
        )
        for i in range(n)
    ]
    return FileResult(path, "python", FileStatus.INDEXED, content_hash=path, entities=ents)


class Flaky:
    """Delegates to a real store; fails the first ``fail_first`` writes, and every write that
    contains ``poison``."""

    def __init__(self, real: Store, fail_first: int = 0, poison: str | None = None) -> None:
        self.real = real
        self.fail_first = fail_first
        self.poison = poison
        self.calls = 0
        self.gate: threading.Event | None = None

    def write_files(self, results: Sequence[FileResult], removed: Sequence[str] = ()) -> None:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.calls <= self.fail_first:
            raise RuntimeError("injected transient failure")
        if self.poison and any(r.path == self.poison for r in results):
            raise RuntimeError(f"injected failure for {self.poison}")
        self.real.write_files(results, removed)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store("mem")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_mod, "BACKOFF_S", (0.0, 0.0, 0.0))


async def _run(writer: Writer) -> asyncio.Task[None]:
    return asyncio.create_task(writer.run())


async def test_batches_many_commands_into_few_transactions(store: Store) -> None:
    w = Writer(store, queue_size=64)  # room for all 40 before the writer starts
    futures = [await w.replace_files([_file(f"f{i}.py")]) for i in range(40)]
    task = await _run(w)  # everything is queued before the writer starts: it must batch
    outcomes = await asyncio.gather(*futures)
    await w.shutdown()
    await task
    assert all(o.written == 1 and not o.failed for o in outcomes)
    assert w.stats.transactions < 10
    assert store.stats().entities == 80
    assert len(store.file_states()) == 40


async def test_transient_failures_are_retried(store: Store) -> None:
    flaky = Flaky(store, fail_first=2)
    w = Writer(flaky)  # type: ignore[arg-type]
    task = await _run(w)
    outcome = await (await w.replace_files([_file("a.py")]))
    await w.shutdown()
    await task
    assert outcome.written == 1 and not outcome.failed
    assert w.stats.retries == 2
    assert store.get_entity(make_key("python", "function", "a.py", "f0")) is not None


async def test_poisoned_file_costs_only_itself(store: Store) -> None:
    flaky = Flaky(store, poison="bad.py")
    w = Writer(flaky)  # type: ignore[arg-type]
    f1 = await w.replace_files([_file("a.py"), _file("bad.py"), _file("b.py")])
    task = await _run(w)
    outcome = await f1
    # The writer carries on with later commands after giving up on one file.
    later = await (await w.replace_files([_file("c.py")]))
    await w.shutdown()
    await task
    assert outcome.written == 2
    assert [p for p, _ in outcome.failed] == ["bad.py"]
    assert "injected failure" in outcome.failed[0][1]
    assert later.written == 1
    assert sorted(store.file_states()) == ["a.py", "b.py", "c.py"]
    assert w.stats.failures == outcome.failed
    assert w.stats.retries == writer_mod.RETRIES  # the batch was retried before splitting


async def test_flush_waits_for_earlier_writes_and_remove_works(store: Store) -> None:
    w = Writer(store)
    task = await _run(w)
    await w.replace_files([_file("a.py"), _file("b.py")])
    await w.flush()
    assert sorted(store.file_states()) == ["a.py", "b.py"]
    await w.remove_files(["a.py"])
    await w.flush()
    assert sorted(store.file_states()) == ["b.py"]
    assert store.find_entities(path="a.py") == []
    await w.shutdown()
    await task
    assert task.done()
    with pytest.raises(RuntimeError):
        await w.flush()


async def test_full_queue_makes_senders_wait(store: Store) -> None:
    flaky = Flaky(store)
    flaky.gate = threading.Event()  # the first transaction blocks until we open the gate
    w = Writer(flaky, queue_size=2)  # type: ignore[arg-type]
    task = await _run(w)
    await w.replace_files([_file("0.py")])
    await asyncio.sleep(0.05)  # the writer has taken command 0 and is stuck in the store
    await w.replace_files([_file("1.py")])
    await w.replace_files([_file("2.py")])
    blocked = asyncio.create_task(w.replace_files([_file("3.py")]))
    await asyncio.sleep(0.05)
    assert not blocked.done()  # backpressure: the queue is full
    flaky.gate.set()
    await asyncio.wait_for(blocked, 5)
    await w.shutdown()
    await task
    assert len(store.file_states()) == 4


async def test_cancelled_writer_fails_its_waiters(store: Store) -> None:
    """The event loop's teardown cancels the writer and a run flushing into it at once: the
    flush, the command being written, a sender waiting for room and any later sender get an
    error, none waits for good (a wait here kept `isgraph serve` alive after its client left)."""
    flaky = Flaky(store)
    flaky.gate = threading.Event()
    w = Writer(flaky, queue_size=1)  # type: ignore[arg-type]
    task = await _run(w)
    writing = await w.replace_files([_file("0.py")])
    await asyncio.sleep(0.05)  # the writer is inside the store with command 0
    flush = asyncio.create_task(w.flush())  # queued: the queue is full now
    await asyncio.sleep(0.05)
    blocked = asyncio.create_task(w.replace_files([_file("1.py")]))  # waits for room
    await asyncio.sleep(0.05)
    task.cancel()
    flaky.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(RuntimeError, match="shut down"):
        await asyncio.wait_for(writing, 5)
    with pytest.raises(RuntimeError, match="shut down"):
        await asyncio.wait_for(flush, 5)
    with pytest.raises(RuntimeError, match="shut down"):
        await asyncio.wait_for(await asyncio.wait_for(blocked, 5), 5)
    with pytest.raises(RuntimeError, match="shut down"):
        await w.flush()


async def test_large_deferred_calls_go_in_bounded_transactions_of_whole_files(
    store: Store,
) -> None:
    """A resolution batch's deferred calls beyond `max_rows` are written as several
    transactions (one store call holds the GIL for all its rows: a server's event loop
    stalls that long), never splitting a file: each file's calls and hash land together."""
    from isgraph.model import Edge

    files = [_file(f"f{i}.py", n=1) for i in range(4)]
    for f in files:
        f.content_hash = ""  # waiting for its deferred calls (index.spool)
    store.write_files(files)
    src = {f.path: f.entities[0].key for f in files}
    sizes = {"f0.py": 3, "f1.py": 3, "f2.py": 5, "f3.py": 1}  # f2.py alone exceeds max_rows
    edges = [
        Edge(src[path], "calls", f"g{j}", path, j + 1)
        for path, n in sizes.items()
        for j in range(n)
    ]
    w = Writer(store, max_rows=4)
    task = await _run(w)
    before = w.stats.transactions
    outcome = await (await w.add_edges(edges, [(p, f"h-{p}") for p in sizes]))
    await w.shutdown()
    await task
    assert outcome.written == len(edges) and not outcome.failed
    assert w.stats.transactions - before == 4  # f0 | f1 | f2 | f3: no part over 4 but f2
    for path, n in sizes.items():
        assert store.file_states()[path].content_hash == f"h-{path}"
        assert len([e for e in store.edges(path=path) if e.kind == "calls"]) == n
