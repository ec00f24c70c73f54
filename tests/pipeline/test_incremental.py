"""Incremental equals clean (tests/differential.py): a bounded number of seeded random edits
through each route — CLI reruns, PostgreSQL, the server's file watcher, the server's unsaved
buffers — each compared with a clean index of the tree. A difference fails the test with its
reproduction (route, seed, step, edit, rows); `bench/incremental_check.py --steps N` is the
long mode. Plus the tester's own check: a drift it must see is seen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.store.base import Store
from isgraph.store.connect import open_store
from tests.differential import ServerRoute, StoreRoute, Tally, Tree, build_corpus, run
from tests.pg import pg_url, require_postgres, unique_schema
from tests.reliability import record

# Steps per route in the suite (seconds each on a loaded machine); the bench runs thousands.
STEPS = int(os.environ.get("ISGRAPH_DIFF_STEPS", "12"))
SEED = int(os.environ.get("ISGRAPH_DIFF_SEED", "2026"))
CONFIG = Config(jobs=1)


@pytest.fixture
def tree_root(tmp_path: Path) -> Path:
    return build_corpus(tmp_path / "tree")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:{tmp_path / 'i.db'}")
    yield store
    store.close()


def _check(tally: Tally, route: str) -> None:
    record(
        f"differential {route}",
        steps=tally.total,
        differing=tally.failed,
        ops=len({k.split()[1] for k in tally.steps}),
    )
    assert tally.failed == 0, "incremental != clean:\n" + "\n".join(tally.reproductions)


async def _run(route: StoreRoute | ServerRoute, root: Path, seed: int) -> Tally:
    tally = Tally()
    try:
        await route.start()
        await run(route, Tree(root, seed), seed, STEPS, tally, report=lambda _: None)
    finally:
        await route.close()
    return tally


async def test_cli_reruns_equal_clean(tree_root: Path, sqlite_store: Store) -> None:
    tally = await _run(StoreRoute("cli", tree_root, sqlite_store, CONFIG), tree_root, SEED)
    _check(tally, "cli")


async def test_postgres_equals_clean(tree_root: Path) -> None:
    require_postgres()
    store = open_store(pg_url(schema=unique_schema(), repo="diff"), tree_root)
    try:
        route = StoreRoute("postgres", tree_root, store, CONFIG)
        tally = await _run(route, tree_root, SEED + 1)
    finally:
        store.close()
    _check(tally, "postgres")


@pytest.mark.parametrize("name", ["watch", "didchange"])
async def test_server_equals_clean(name: str, tree_root: Path, tmp_path: Path) -> None:
    route = ServerRoute(name, tree_root, f"sqlite:{tmp_path / 'db' / 's.db'}")
    tally = await _run(route, tree_root, SEED + 2)
    _check(tally, name)


async def test_the_tester_sees_drift(tree_root: Path, sqlite_store: Store) -> None:
    """Edits the store never hears of must be caught, each with a reproduction, and repaired
    so that the next step starts clean."""
    route = StoreRoute("deaf", tree_root, sqlite_store, CONFIG)
    route.index_after_edit = False
    tally = await _run(route, tree_root, SEED)
    assert tally.failed == tally.total == STEPS
    assert all(f"seed={SEED} step=" in r for r in tally.reproductions)
    assert all("differs" in r or "missing" in r or "extra" in r for r in tally.reproductions)


async def test_files_in_a_new_directory_are_indexed(tmp_path: Path) -> None:
    """inotify only watches a new directory once it is reported: a file written into it at
    once may have no event of its own (the differential tester found such files missing)."""
    import asyncio

    from tests.lsp.rawclient import RawClient

    from .conftest import PROJECT, write_tree

    root = write_tree(tmp_path / "p", PROJECT)
    client = await RawClient.start(root, f"sqlite:{tmp_path / 'db' / 'i.db'}")

    async def search(name: str) -> list[str]:
        found = await client.request("isgraph/query", {"query": "search", "target": name})
        return [r["name"] for r in found["result"]["results"]]

    try:
        for _ in range(600):
            if await search("make"):
                break
            await asyncio.sleep(0.05)
        for i in range(5):
            folder = root / f"fresh{i}" / "deeper"
            folder.mkdir(parents=True)
            (folder / f"mod{i}.py").write_text(f"def brand_new_{i}():\n    pass\n")
        for _ in range(100):  # the watcher's event, then the run
            if all([await search(f"brand_new_{i}") for i in range(5)]):
                break
            await asyncio.sleep(0.1)
        assert [await search(f"brand_new_{i}") for i in range(5)] == [
            [f"brand_new_{i}"] for i in range(5)
        ]
        answer = await client.request(
            "workspace/executeCommand", {"command": "isgraph.verify", "arguments": []}, 300
        )
        assert answer["result"]["drift"] is False, answer["result"]
    finally:
        await client.request("shutdown", None)
        await client.notify("exit", None)
        await asyncio.wait_for(client.proc.wait(), 30)
