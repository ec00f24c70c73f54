"""Runs that write now and resolve later (`index(resolve=False)`, then `resolve_owed()`: the
language server's re-index runs) end with the same edges as runs that resolve each time."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from isgraph.config import Config
from isgraph.index.service import IndexService
from isgraph.store.base import RESOLVE_PENDING, Store
from isgraph.store.connect import open_store

from .conftest import write_tree
from .test_crash import assert_consistent


def edges(store: Store) -> set[tuple[object, ...]]:
    return {(e.src, e.kind, e.target_name, e.dst, e.resolution) for e in store.edges()}


async def test_deferred_resolution_equals_resolving_each_run(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "src",
        {
            "base.py": "class A:\n    def m(self):\n        pass\n\nclass B:\n    pass\n",
            "sub.py": "from base import B\n\nclass S(B):\n    def run(self):\n        self.m()\n",
            "user.py": "from sub import S\n\ndef go():\n    S().run()\n    later()\n",
            **{f"filler{i}.py": f"def f{i}():\n    go{i}()\n" for i in range(6)},
        },
    )
    each = open_store(f"sqlite:{tmp_path / 'each' / 'index.db'}")
    late = open_store(f"sqlite:{tmp_path / 'late' / 'index.db'}")
    base, sub = root / "base.py", root / "sub.py"
    steps = [
        lambda: sub.write_text(sub.read_text() + "        return 1\n"),  # body only
        lambda: base.write_text(base.read_text().replace("class B:", "class B(A):")),
        lambda: write_tree(root, {"extra.py": "def later():\n    return 2\n"}),
        lambda: base.write_text(base.read_text().replace("def m(self)", "def other(self)")),
        lambda: write_tree(root, {"mixin.py": "class M:\n    def m(self):\n        pass\n"}),
        lambda: (root / "extra.py").unlink(),
        lambda: write_tree(root, {"extra.py": "def later():\n    return 3\n"}),
    ]
    paths = ["sub.py", "base.py", "extra.py", "base.py", "mixin.py", "extra.py", "extra.py"]
    try:
        async with (
            IndexService(root, each, Config(jobs=1)) as a,
            IndexService(root, late, Config(jobs=1)) as b,
        ):
            await a.index()
            await b.index()
            assert edges(each) == edges(late)
            for step, path in zip(steps, paths, strict=True):
                step()
                await a.index(only=[path])
                await b.index(only=[path], resolve=False)
                assert path in b.owed_paths
                assert late.get_meta(RESOLVE_PENDING) == "1"
            assert edges(each) != edges(late)  # the deferred store is behind
            # A resolution cancelled (the server does so when a change arrives) owes it all.
            owed = b.owed_paths
            for delay in (0.0, 0.05):
                task = asyncio.create_task(b.resolve_owed())
                await asyncio.sleep(delay)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                if not task.cancelled():
                    break  # it finished within the delay: nothing owed any more
                assert b.owed_paths == owed and late.get_meta(RESOLVE_PENDING) == "1"
            # ... and a change written after it is resolved with the rest.
            write_tree(root, {"late.py": "def later():\n    return 4\n"})
            await a.index(only=["late.py"])
            await b.index(only=["late.py"], resolve=False)
            await b.resolve_owed()
            assert b.owed_paths == set()
            assert late.get_meta(RESOLVE_PENDING) == "0"
            assert edges(each) == edges(late)
            # A run that resolves takes what is owed with it.
            base.write_text(base.read_text() + "\n\nclass C(B):\n    pass\n")
            await b.index(only=["base.py"], resolve=False)
            await a.index(only=["base.py"])
            await b.index()
            assert b.owed_paths == set() and edges(each) == edges(late)
    finally:
        each.close()
        late.close()


async def test_a_run_cancelled_while_resolving_leaves_every_file_consistent(
    tmp_path: Path,
) -> None:
    """Cancelled during resolution (Ctrl-C, a signal, the client gone), a run writes what is
    queued and leaves the calls it still holds for resolution (index.spool), as a kill does:
    each file is complete, or has its entities and some of its calls with an empty hash (the
    next run parses it again); the next run brings the store to the clean index."""
    files = {
        f"m{i}.py": f"from m{(i + 1) % 130} import f{(i + 1) % 130}\n\n"
        f"def f{i}():\n    return f{(i + 1) % 130}() + g{i}()\n\n"
        f"def g{i}():\n    return len([])\n"
        for i in range(130)
    }
    root = write_tree(tmp_path / "src", files)
    ref = open_store(f"sqlite:{tmp_path / 'ref' / 'index.db'}")
    store = open_store(f"sqlite:{tmp_path / 'cut' / 'index.db'}")
    try:
        async with IndexService(root, ref, Config(jobs=2)) as service:
            await service.index()
        resolving = asyncio.Event()
        async with IndexService(root, store, Config(jobs=2)) as service:

            def phase(name: str, done: int, total: int) -> None:
                resolving.set()

            run = asyncio.create_task(service.index(phase=phase))
            await resolving.wait()
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
        assert store.file_states()
        assert_consistent(store, ref, settled=False)
        assert store.get_meta(RESOLVE_PENDING) == "1"  # the next run resolves everything
        async with IndexService(root, store, Config(jobs=2)) as service:
            await service.index()
        assert edges(store) == edges(ref)
    finally:
        ref.close()
        store.close()
