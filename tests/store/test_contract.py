"""The Store contract: same data in, same answers out, on every backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from isgraph.model import SCHEMA_VERSION, Alias, Edge, Entity, FileResult, make_key
from isgraph.store.base import EdgeUpdate, SchemaMismatchError, Store, StoreError, StoreLockedError
from isgraph.store.connect import open_store

from .conftest import url_for

PERSISTENT = ["sqlite", "rocksdb"]  # mem has nothing to reopen or share


def ent(
    path: str, qual: str, kind: str = "function", line: int = 1, parent: str | None = None
) -> Entity:
    name = qual.rsplit(".", 1)[-1]
    return Entity(
        key=make_key("python", kind, path, qual),
        language="python",
        kind=kind,
        name=name,
        qualname=qual,
        path=path,
        start_line=line,
        start_col=0,
        end_line=line + 2,
        end_col=4,
        signature="(x)" if kind != "class" else "",
        doc=f"doc of {name}",
        parent=parent,
        fqn=f"{path[:-3].replace('/', '.')}.{qual}",
    )


def call(src: Entity, dst: Entity | None, target: str, line: int = 2, res: str = "exact") -> Edge:
    return Edge(
        src.key,
        "calls",
        target,
        src.path,
        line,
        dst.key if dst else None,
        res if dst else "unresolved",
        ("=" + target,),
    )


# A small graph: a.py: main -> helper -> util (b.py) -> helper (cycle), b.Util <- a.Child,
# a self-recursive function, an unresolved call.
A_MAIN = ent("a.py", "main", line=1)
A_HELPER = ent("a.py", "helper", line=5)
A_CHILD = ent("a.py", "Child", "class", line=9)
A_METH = ent("a.py", "Child.run", "method", line=10, parent=A_CHILD.key)
B_UTIL = ent("b.py", "util", line=1)
B_CLS = ent("b.py", "Util", "class", line=5)
B_REC = ent("b.py", "recurse", line=9)


def files() -> list[FileResult]:
    a = FileResult(
        "a.py",
        "python",
        "indexed",
        "h-a",
        10,
        1,
        None,
        [A_MAIN, A_HELPER, A_CHILD, A_METH],
        [
            call(A_MAIN, A_HELPER, "helper"),
            call(A_HELPER, B_UTIL, "b.util"),
            call(A_MAIN, None, "len", line=3),
            Edge(A_CHILD.key, "inherits", "b.Util", "a.py", 9, B_CLS.key, "exact"),
            call(A_METH, B_UTIL, "b.util", res="inferred"),
        ],
        [Alias("a.py", "a.util", "b.util")],
    )
    b = FileResult(
        "b.py",
        "python",
        "indexed",
        "h-b",
        20,
        2,
        "syntax error at line 3",
        [B_UTIL, B_CLS, B_REC],
        [call(B_UTIL, A_HELPER, "a.helper"), call(B_REC, B_REC, "recurse")],
    )
    return [a, b]


@pytest.fixture
def filled(store: Store) -> Store:
    store.write_files(files())
    return store


def keys(reach: list) -> dict[str, int]:  # type: ignore[type-arg]
    return {r.key.rsplit(":", 1)[1]: r.depth for r in reach}


def test_round_trip_of_every_field(filled: Store) -> None:
    assert filled.get_entity(A_METH.key) == A_METH
    assert filled.get_entity("python:function:nope.py:x") is None
    assert filled.get_entities([A_MAIN.key, B_UTIL.key, "missing"]) == {
        A_MAIN.key: A_MAIN,
        B_UTIL.key: B_UTIL,
    }
    got = {(e.src, e.target_name): e for e in filled.edges()}
    for e in files()[0].edges + files()[1].edges:
        assert got[(e.src, e.target_name)] == e
    states = filled.file_states()
    assert states["b.py"].error == "syntax error at line 3"
    assert (states["a.py"].content_hash, states["a.py"].size, states["a.py"].mtime_ns) == (
        "h-a",
        10,
        1,
    )
    assert filled.aliases(["a.util", "zzz"]) == {"a.util": Alias("a.py", "a.util", "b.util")}


def test_filters(filled: Store) -> None:
    assert [e.qualname for e in filled.find_entities(path="a.py")] == [
        "main",
        "helper",
        "Child",
        "Child.run",
    ]
    assert [e.key for e in filled.find_entities(name="util")] == [B_UTIL.key]
    assert {e.name for e in filled.find_entities(name_contains="UTI")} == {"util", "Util"}
    assert [e.name for e in filled.find_entities(kind="class")] == ["Child", "Util"]
    assert len(filled.find_entities(limit=2)) == 2
    assert [e.target_name for e in filled.edges(kind="inherits")] == ["b.Util"]
    assert {e.target_name for e in filled.edges(src=A_MAIN.key)} == {"helper", "len"}
    assert {e.src for e in filled.edges(dst=B_UTIL.key)} == {A_HELPER.key, A_METH.key}
    assert [e.target_name for e in filled.edges(resolution="unresolved")] == ["len"]
    assert {e.target_name for e in filled.edges(path="b.py")} == {"a.helper", "recurse"}
    assert {e.src for e in filled.edges_from_paths(["b.py"])} == {B_UTIL.key, B_REC.key}
    assert [e.dst for e in filled.edges_from_srcs([A_CHILD.key, B_UTIL.key], "inherits")] == [
        B_CLS.key
    ]
    assert filled.entities_by_fqn(["a.helper", "b.util", "none"]) == {
        "a.helper": [A_HELPER],
        "b.util": [B_UTIL],
    }
    assert filled.methods_named(["run", "util"]) == {"run": [A_METH]}


def test_replacing_a_file_is_whole_and_leaves_others(filled: Store) -> None:
    new_main = ent("a.py", "main2", line=1)
    a2 = FileResult(
        "a.py",
        "python",
        "indexed",
        "h-a2",
        5,
        3,
        None,
        [new_main],
        [call(new_main, B_UTIL, "b.util")],
    )
    filled.write_files([a2])
    assert [e.name for e in filled.find_entities(path="a.py")] == ["main2"]
    assert [e.src for e in filled.edges(path="a.py")] == [new_main.key]
    assert filled.aliases(["a.util"]) == {}
    assert filled.file_states()["a.py"].content_hash == "h-a2"
    assert len(filled.find_entities(path="b.py")) == 3  # untouched
    assert len(filled.edges(path="b.py")) == 2


def test_removing_files(filled: Store) -> None:
    filled.write_files([], removed=["b.py"])
    assert sorted(filled.file_states()) == ["a.py"]
    assert filled.find_entities(path="b.py") == [] and filled.edges(path="b.py") == []
    assert filled.stats().entities == 4


def test_update_edges_and_meta(filled: Store) -> None:
    filled.update_edges([EdgeUpdate("a.py", A_MAIN.key, "calls", "len", B_REC.key, "inferred")])
    edge = next(e for e in filled.edges(src=A_MAIN.key) if e.target_name == "len")
    assert (edge.dst, edge.resolution, edge.candidates) == (B_REC.key, "inferred", ("=len",))
    assert filled.get_meta("resolve_pending") is None
    filled.set_meta("resolve_pending", "1")
    assert filled.get_meta("resolve_pending") == "1"
    assert filled.get_meta("schema_version") == str(SCHEMA_VERSION)


def test_recheck_paths(filled: Store) -> None:
    assert filled.edge_paths_to_recheck(["nothing"]) == set()
    assert filled.edge_paths_to_recheck(["len"]) == {"a.py"}  # unresolved, named
    assert filled.edge_paths_to_recheck(["util"]) == {"a.py"}  # inferred, named
    filled.write_files([], removed=["b.py"])  # edges into b.py now dangle
    assert filled.edge_paths_to_recheck([]) == {"a.py"}


def test_callers_callees_impact(filled: Store) -> None:
    assert keys(filled.callers(B_UTIL.key)) == {"helper": 1, "Child.run": 1}
    # the start itself (reached again through the cycle) is not its own caller
    assert keys(filled.callers(B_UTIL.key, depth=2)) == {"helper": 1, "Child.run": 1, "main": 2}
    assert keys(filled.callees(A_MAIN.key, depth=1)) == {"helper": 1}
    assert keys(filled.callees(A_MAIN.key, depth=3)) == {"helper": 1, "util": 2}
    assert keys(filled.impact(B_CLS.key, depth=3)) == {"Child": 1}
    assert keys(filled.impact(B_UTIL.key, depth=5)) == {"helper": 1, "Child.run": 1, "main": 2}
    assert filled.callers("python:function:none.py:x") == []


def test_cycles(filled: Store) -> None:
    found = filled.cycles("calls")
    assert [sorted(k.rsplit(":", 1)[1] for k in c) for c in found] == [
        ["helper", "util"],
        ["recurse"],
    ]
    assert filled.cycles("inherits") == []


def test_search_ranking(filled: Store) -> None:
    # exact (case-insensitive) first, ties by source position
    assert [e.name for e in filled.search("util")] == ["util", "Util"]
    # prefix before substring before subsequence
    assert [e.name for e in filled.search("ru")] == ["run", "recurse"]
    assert [e.name for e in filled.search("hlpr")] == ["helper"]
    assert filled.search("") == [] and filled.search("zzzz") == []


def test_stats(filled: Store) -> None:
    s = filled.stats()
    assert (s.files, s.entities, s.edges) == (2, 7, 7)
    assert s.entities_by_kind == {"function": 4, "class": 2, "method": 1}
    assert s.entities_by_language == {"python": 7}
    assert s.edges_by_kind == {"calls": 6, "inherits": 1}
    assert s.edges_by_resolution == {"exact": 5, "inferred": 1, "unresolved": 1}


@pytest.mark.parametrize("backend", PERSISTENT)
def test_reopen_keeps_data(backend: str, tmp_path: Path) -> None:
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.write_files(files())
    s.close()
    s.close()  # idempotent
    s = open_store(url)
    try:
        assert s.stats().entities == 7
    finally:
        s.close()


@pytest.mark.parametrize("backend", PERSISTENT)
def test_schema_mismatch_is_refused(backend: str, tmp_path: Path) -> None:
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.set_meta("schema_version", "999")
    s.close()
    with pytest.raises(SchemaMismatchError, match="999"):
        open_store(url)


@pytest.mark.parametrize("backend", PERSISTENT)
def test_second_process(backend: str, tmp_path: Path) -> None:
    """SQLite stores are shared (server + terminal); RocksDB refuses clearly."""
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.write_files(files())
    try:
        code = (
            "from isgraph.store.connect import open_store\n"
            "from isgraph.store.base import StoreLockedError\n"
            f"try:\n    s = open_store({url!r}); print(s.stats().entities)\n"
            "except StoreLockedError as e:\n    print('locked:', e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        ).stdout.strip()
    finally:
        s.close()
    if backend == "sqlite":
        assert out == "7"
    else:
        assert out.startswith("locked:") and "one process" in out


def test_bad_urls_and_paths(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="expected"):
        open_store("redis://x")
    with pytest.raises(StoreError, match="not implemented"):
        open_store("postgresql://localhost/test")
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(StoreError, match=str(blocker)):
        open_store(f"sqlite:{blocker / 'x' / 'i.db'}")
    assert not issubclass(StoreLockedError, SchemaMismatchError)
