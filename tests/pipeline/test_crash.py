"""Crash consistency: kill -9 or Ctrl-C mid-index never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from isgraph.store.base import Store, StoreError
from isgraph.store.connect import open_store

from .conftest import clean_index, copy_stdlib, run_cli

PACKAGES = (
    "email",
    "json",
    "asyncio",
    "concurrent",
    "xml",
    "http",
    "logging",
    "urllib",
    "unittest",
    "idlelib",
    "lib2to3",
    "distutils",
    "tkinter",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred real files from CPython's standard library."""
    return copy_stdlib(tmp_path_factory.mktemp("corpus"), PACKAGES)


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with clean_index(corpus, tmp_path_factory.mktemp("ref")) as store:
        yield store


def file_rows(store: Store, path: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    ents = {e.key for e in store.find_entities(path=path)}
    edges = {(e.src, e.kind, e.target_name) for e in store.edges(path=path)}
    return ents, edges


def assert_consistent(store: Store, reference: Store, *, settled: bool = True) -> int:
    """Every stored file has exactly the rows a clean index gives it; no orphan rows.

    Unless ``settled``: a file whose cross-file calls were still held for resolution when the
    run died (its row has an empty hash, so the next run re-parses it) has all its entities
    and a subset of its edges, the missing ones all calls."""
    states = store.file_states()
    pending = 0
    for path, state in states.items():
        got, want = file_rows(store, path), file_rows(reference, path)
        if not state.content_hash:
            pending += 1
        if not settled and not state.content_hash:
            assert got[0] == want[0], path
            assert got[1] <= want[1], path
            assert {kind for _, kind, _ in want[1] - got[1]} <= {"calls"}, path
        else:
            assert got == want, path
    if settled:
        assert pending == 0, "files left waiting for their calls"
    orphan_entities = {e.path for e in store.find_entities()} - set(states)
    orphan_edges = {e.path for e in store.edges()} - set(states)
    assert not orphan_entities and not orphan_edges
    return len(states)


def start_index(corpus: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "isgraph",
            "index",
            str(corpus),
            "--db",
            f"sqlite:{db}",
            "--quiet",
            "--jobs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


# How long a run may take to reach the point a test stops it at (a loaded machine: ~30).
READY_WITHIN_S = 180.0


def start_and_wait(corpus: Path, db: Path, ready: Callable[[Store], bool]) -> subprocess.Popen[str]:
    """Start `isgraph index` and watch its store from this process (as a terminal query would)
    until ``ready``. The watcher opens the store before the run starts, so it only reads."""
    observer = open_store(f"sqlite:{db}")
    seen = False
    try:
        proc = start_index(corpus, db)
        deadline = time.monotonic() + READY_WITHIN_S
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(StoreError):
                if ready(observer):
                    seen = True
                    break
            time.sleep(0.01)
    finally:
        observer.close()
    if proc.poll() is not None:
        pytest.fail("the run finished before the signal could land: corpus too small")
    if not seen:  # a signal now would land at an unknown point of the run
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"the run did not reach the point to stop at in {READY_WITHIN_S:.0f} s")
    return proc


def files_written(n: int) -> Callable[[Store], bool]:
    return lambda s: len(s.file_states()) >= n


def resolving(s: Store) -> bool:
    return s.get_meta("resolve_pending") == "1"


@pytest.mark.parametrize(
    "ready", [files_written(1), files_written(100), resolving], ids=["first", "mid", "resolving"]
)
def test_kill_9_mid_index_then_rerun(
    corpus: Path, reference: Store, tmp_path: Path, ready: Callable[[Store], bool]
) -> None:
    db = tmp_path / "i.db"
    proc = start_and_wait(corpus, db, ready)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: parent and pool workers
    proc.wait()
    store = open_store(f"sqlite:{db}")
    try:
        assert_consistent(store, reference, settled=False)
    finally:
        store.close()
    run_cli("index", str(corpus), "--db", f"sqlite:{db}", "--quiet")
    store = open_store(f"sqlite:{db}")
    try:
        assert assert_consistent(store, reference) == len(reference.file_states())
        assert store.stats() == reference.stats()  # resolution finished after the crash too
    finally:
        store.close()


def test_ctrl_c_flushes_and_exits_130(corpus: Path, reference: Store, tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    proc = start_and_wait(corpus, db, files_written(30))
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, stderr = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.fail("the run finished before the interrupt landed: corpus too small")
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    store = open_store(f"sqlite:{db}")
    try:
        assert assert_consistent(store, reference, settled=False) >= 30
    finally:
        store.close()


async def test_a_killed_parser_process_costs_nothing(
    corpus: Path, reference: Store, tmp_path: Path
) -> None:
    """A pool worker killed mid-run (as the OOM killer would) is replaced; no file is lost."""
    import asyncio

    import psutil

    from isgraph.config import Config
    from isgraph.index.service import IndexService

    store = open_store(f"sqlite:{tmp_path / 'i.db'}")
    killed: list[int] = []

    async def killer() -> None:
        me = psutil.Process()
        while not killed:
            # pool workers are forked by the forkserver: they are its children
            workers = [
                w
                for p in me.children()
                if "forkserver" in " ".join(p.cmdline())
                for w in p.children()
            ]
            if workers and len(store.file_states()) > 20:
                workers[0].kill()
                killed.append(workers[0].pid)
                return
            await asyncio.sleep(0.01)

    try:
        async with IndexService(corpus, store, Config(jobs=2)) as service:
            task = asyncio.create_task(killer())
            summary = await service.index()
            task.cancel()
        assert killed, "no worker was killed: the run was too quick"
        assert [e for e in summary.errors if "crashed" in e["error"]] == []
        assert assert_consistent(store, reference) == len(reference.file_states())
    finally:
        store.close()
