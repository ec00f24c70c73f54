"""The cold build path (a store with no file: `BulkLoad`, CozoDB's bulk mode) gives the graph
the usual path gives: same entities and keys, same edges with their sites, candidates and
labels, same aliases, same per-file match names and file rows — on real code. And the store
it leaves is a complete one: every index of the schema, answering what the indices serve.
(kill -9 during a bulk build: `test_crash_points.py`, whose fresh runs take this path.)"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from isgraph.config import Config
from isgraph.index import service
from isgraph.store.connect import open_store
from isgraph.store.cozo import SCHEMA, CozoStore

# Real code that imports, subclasses and calls across files (and needs typeshed stubs).
STDLIB_PACKAGES = ("asyncio", "email", "json", "collections", "importlib", "http", "logging")


@pytest.fixture(scope="module")
def stdlib_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path_factory.mktemp("bulk") / "stdlib"
    for name in STDLIB_PACKAGES:
        shutil.copytree(stdlib / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def rows(store: CozoStore, relation: str) -> list[list[Any]]:
    """Every row of a relation, all columns, sorted (the store's own view of the graph)."""
    cols = {
        "file": "path, language, hash, size, mtime_ns, status, error, entities, edges",
        "entity": "key, language, kind, name, qualname, path, start_line, start_col, end_line,"
        " end_col, signature, doc, parent, fqn, metadata",
        "edge": "src, kind, target_name, path, dst, resolution, line, candidates, sites",
        "alias": "fqn, path, target",
        "edge_match": "path, name, srcs",
    }[relation]
    return sorted(store._run(f"?[{cols}] := *{relation}{{{cols}}}"), key=repr)


def indices(store: CozoStore) -> set[str]:
    return {str(r[0]) for r in store._run("::relations") if ":" in str(r[0])}


async def build(
    root: Path, db: Path, bulk: bool, monkeypatch: pytest.MonkeyPatch, engine: str = "sqlite"
) -> CozoStore:
    began: list[bool] = []
    real = CozoStore.begin_bulk

    def begin(self: CozoStore) -> bool:
        began.append(real(self))
        return began[-1]

    monkeypatch.setattr(CozoStore, "begin_bulk", begin)
    store = open_store(f"{engine}:{db}")
    assert isinstance(store, CozoStore)
    async with service.IndexService(root, store, Config(jobs=2)) as svc:
        svc.bulk = bulk
        summary = await svc.index()
        # The bulk path skips `_sync_stubs`: after it, there is nothing it would change.
        assert svc._stub_changes() == ([], [])
    assert began == ([True] if bulk else [])  # the path under test is the one that ran
    assert summary.stubs > 0 and summary.parsed > 100
    return store


# RocksDB's bulk mode keeps its indices up to date instead of building them at the end
# (`CozoStore._bulk_deferred`): the same graph either way.
@pytest.mark.parametrize("engine", ["sqlite", "rocksdb"])
async def test_bulk_build_equals_usual_build(
    stdlib_slice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    usual = await build(stdlib_slice, tmp_path / "usual" / "index.db", False, monkeypatch, engine)
    bulk = await build(stdlib_slice, tmp_path / "bulk" / "index.db", True, monkeypatch, engine)
    try:
        for relation in ("entity", "edge", "alias", "edge_match", "file"):
            want, got = rows(usual, relation), rows(bulk, relation)
            if relation == "file":  # the stub files' mtimes are the same files'; so are all
                want = [r[:4] + r[5:] for r in want]
                got = [r[:4] + r[5:] for r in got]
            only_usual = [r for r in want if r not in got][:5]
            only_bulk = [r for r in got if r not in want][:5]
            assert (relation, only_usual, only_bulk) == (relation, [], [])
            assert got == want
        # Not trivially equal: cross-file edges of every label, with sites and candidates.
        edges = rows(bulk, "edge")
        assert len(edges) > 8_000
        assert {"exact", "inferred", "unresolved"} <= {e[5] for e in edges}
        assert sum(1 for e in edges if e[7] and e[4]) > 1_000
        # Every index exists, and answers what it serves as the usual store's does.
        expected = {f"{name}:{index}" for name, _, idx in SCHEMA for index, _ in idx}
        assert indices(bulk) == indices(usual) == expected
        dsts = sorted({e[4] for e in edges if e[4]})[::97]
        assert bulk.edges_to(dsts) == usual.edges_to(dsts)
        names = sorted({e[1] for e in rows(bulk, "edge_match")})[::53]
        assert bulk.edge_paths_to_recheck(names) == usual.edge_paths_to_recheck(names)
        assert bulk.methods_named(names) == usual.methods_named(names)
        assert bulk.stats() == usual.stats()
    finally:
        usual.close()
        bulk.close()


def test_a_read_in_bulk_mode_builds_the_index_it_needs(tmp_path: Path) -> None:
    """A query while a cold build runs (the language server, a test) gets its answer: the
    index it reads through is built first, not found missing."""
    store = CozoStore("sqlite", str(tmp_path / "index.db"))
    try:
        assert store.begin_bulk()
        assert "edge:by_dst" not in indices(store)
        assert not store.begin_bulk()  # once
        assert store.edges_to(["python:function:a.py:f"]) == []
        assert "edge:by_dst" in indices(store)
        store.end_bulk()
        assert indices(store) == {f"{n}:{i}" for n, _, idx in SCHEMA for i, _ in idx}
    finally:
        store.close()


def test_a_store_killed_in_bulk_mode_gets_its_indices_on_open(tmp_path: Path) -> None:
    """What a kill -9 between `begin_bulk` and `end_bulk` leaves: the next open builds the
    missing indices before anything reads through them."""
    db = tmp_path / "index.db"
    store = CozoStore("sqlite", str(db))
    assert store.begin_bulk()
    store.close()  # as a killed process leaves it: the deferred indices missing
    again = CozoStore("sqlite", str(db))
    try:
        assert indices(again) == {f"{n}:{i}" for n, _, idx in SCHEMA for i, _ in idx}
        assert not again.begin_bulk() or again.file_states() == {}
    finally:
        again.close()


def test_an_index_another_process_built_meanwhile_is_as_good(tmp_path: Path) -> None:
    """Two processes opening a store a killed cold build left without its indices both build
    them: the one that comes second finds them there, and opens (or ends bulk mode) anyway."""
    db = tmp_path / "index.db"
    store = CozoStore("sqlite", str(db))
    try:
        assert store.begin_bulk()
        other = CozoStore("sqlite", str(db))  # builds them at open
        other.close()
        store.end_bulk()  # would create each again
        assert indices(store) == {f"{n}:{i}" for n, _, idx in SCHEMA for i, _ in idx}
        # Both saw them missing (`::relations`) before either created them.
        store._create_indices(set())
        assert indices(store) == {f"{n}:{i}" for n, _, idx in SCHEMA for i, _ in idx}
    finally:
        store.close()


def test_a_build_cut_short_leaves_bulk_mode_without_building(tmp_path: Path) -> None:
    """A cancelled cold build leaves bulk mode at once (its front must end in seconds): the
    first script that needs a deferred index builds them, and writes replace files again."""
    store = CozoStore("sqlite", str(tmp_path / "index.db"))
    try:
        assert store.begin_bulk()
        store.end_bulk(build=False)
        assert "edge:by_dst" not in indices(store)
        assert store._bulk_paths is None  # a write of a known path deletes its old rows
        assert store.methods_named({"f"}) == {}  # reads entity:by_name
        assert indices(store) == {f"{n}:{i}" for n, _, idx in SCHEMA for i, _ in idx}
    finally:
        store.close()
