"""A resolution against the in-memory symbol table (`index.symbols`, large resolutions) decides
every edge as the store-backed resolver does (small ones): same entities, same edges, same
labels, on real code.

One intended difference, not met by these corpora: the store-backed resolver gives up on an
edge after `resolve.MAX_ROUNDS` fetch rounds, and a mixin's ``self.m()`` whose candidate
lists 16 subclasses with deep bases can need more (one round per level of each); the table
has no rounds, so it decides such an edge as the rules say. On the whole stdlib: 12 edges of
224,896 (`test_argparse`'s and `test_robotparser`'s mixins: `unittest.TestCase` methods,
inferred) resolved by the table and left unresolved by the rounds."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index import service
from isgraph.index.symbols import SymbolTable
from isgraph.store.base import Store
from isgraph.store.connect import open_store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "langs"
# Packages of the standard library that import, subclass and call each other (real code).
STDLIB_PACKAGES = ("asyncio", "concurrent", "email", "json", "collections", "importlib")


def graph(store: Store) -> tuple[list[tuple[object, ...]], list[str]]:
    edges = sorted(
        (e.path, e.src, e.kind, e.target_name, e.dst or "", e.resolution, e.line)
        for e in store.edges()
    )
    return edges, sorted(e.key for e in store.find_entities())


async def index_with(root: Path, db: Path, table: bool, monkeypatch: pytest.MonkeyPatch) -> Store:
    loads: list[int] = []
    real = SymbolTable.load

    def load(store: Store) -> SymbolTable:
        loads.append(1)
        return real(store)

    monkeypatch.setattr(service, "TABLE_MIN_FILES", 0 if table else 10**9)
    monkeypatch.setattr(SymbolTable, "load", staticmethod(load))
    store = open_store(f"sqlite:{db}")
    async with service.IndexService(root, store, Config(jobs=2)) as svc:
        summary = await svc.index()
    assert summary.errors == []
    assert bool(loads) == table  # the path under test is the one that ran
    return store


@pytest.fixture
def stdlib_slice(tmp_path: Path) -> Path:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path / "stdlib"
    for name in STDLIB_PACKAGES:
        shutil.copytree(
            stdlib / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "test*")
        )
    return root


@pytest.mark.parametrize("corpus", ["stdlib", "langs"])
async def test_table_resolution_equals_store_resolution(
    corpus: str, stdlib_slice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = stdlib_slice if corpus == "stdlib" else FIXTURES
    cached = await index_with(root, tmp_path / "cached" / "index.db", False, monkeypatch)
    table = await index_with(root, tmp_path / "table" / "index.db", True, monkeypatch)
    try:
        edges, keys = graph(cached)
        got, got_keys = graph(table)
        assert got_keys == keys
        only_cached = sorted(set(edges) - set(got))[:10]
        only_table = sorted(set(got) - set(edges))[:10]
        assert (only_cached, only_table) == ([], [])
        assert got == edges
        # Not trivially equal: the corpus has cross-file edges of every label.
        labels = {e[5] for e in edges if e[4] and e[4].split(":")[2] != e[0]}
        assert {"exact", "inferred"} <= labels
        assert len(edges) > (5000 if corpus == "stdlib" else 200)
    finally:
        cached.close()
        table.close()
