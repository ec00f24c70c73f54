"""The Store contract: same data in, same answers out, on every backend."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from isgraph.model import SCHEMA_VERSION, Alias, Edge, Entity, FileResult, make_key
from isgraph.store.base import (
    BulkLoad,
    EdgeUpdate,
    Reach,
    SchemaMismatchError,
    Store,
    StoreError,
    StoreLockedError,
)
from isgraph.store.connect import default_store_url, open_store

from .conftest import url_for

PERSISTENT = ["sqlite", "rocksdb", "postgres"]  # mem has nothing to reopen or share
FILE_BACKED = ["sqlite", "rocksdb"]
SHARED = ["sqlite", "postgres"]  # several processes read and write one store


def ent(
    path: str, qual: str, kind: str = "function", line: int = 1, parent: str | None = None
) -> Entity:
    module = path[:-3].replace("/", ".")
    name = qual.rsplit(".", 1)[-1]
    return Entity(
        key=make_key("python", kind, path, qual),
        language="python",
        kind=kind,
        name=name,
        qualname=qual,
        path=path,
        start_line=line,
        start_col=4 if parent else 0,
        end_line=line + 2,
        end_col=4,
        signature="" if kind in ("class", "module") else "(x)",
        doc=f"doc of {name}",
        parent=parent,
        fqn=module if kind == "module" else f"{module}.{qual}",
        metadata='{"complexity": 1}' if kind == "method" else None,
    )


def mod(path: str) -> Entity:
    return ent(path, path[:-3].replace("/", "."), "module", line=1)


def call(src: Entity, dst: Entity | None, target: str, line: int, res: str = "exact") -> Edge:
    return Edge(
        src.key,
        "calls",
        target,
        src.path,
        line,
        dst.key if dst else None,
        res if dst else "unresolved",
        ("=" + target,) if res != "exact" or dst is None else (),
        ((line, 4), (line, 20), (line + 1, 8)),  # every call site round-trips
    )


# Two files: a.py: main -> helper -> b.util -> helper (a cycle); a.Child inherits b.Util;
# module a imports b.util; b.recurse calls itself; a.main calls the unresolved `len`.
A_MOD = mod("a.py")
A_MAIN = ent("a.py", "main", line=3)
A_HELPER = ent("a.py", "helper", line=7)
A_CHILD = ent("a.py", "Child", "class", line=11)
A_METH = ent("a.py", "Child.run", "method", line=12, parent=A_CHILD.key)
B_MOD = mod("b.py")
B_UTIL = ent("b.py", "util", line=3)
B_CLS = ent("b.py", "Util", "class", line=7)
B_REC = ent("b.py", "recurse", line=11)


def files() -> list[FileResult]:
    a = FileResult(
        "a.py",
        "python",
        "indexed",
        "h-a",
        10,
        1,
        None,
        [A_MOD, A_MAIN, A_HELPER, A_CHILD, A_METH],
        [
            Edge(A_MOD.key, "imports", "b.util", "a.py", 1, B_UTIL.key, "exact"),
            call(A_MAIN, A_HELPER, "helper", 4),
            call(A_MAIN, None, "len", 5),
            call(A_HELPER, B_UTIL, "b.util", 8),
            # a cross-file edge keeps its candidates: a change may re-resolve it
            Edge(A_CHILD.key, "inherits", "b.Util", "a.py", 11, B_CLS.key, "exact", ("=b.Util",)),
            call(A_METH, B_UTIL, "self.util", 13, res="inferred"),
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
        [B_MOD, B_UTIL, B_CLS, B_REC],
        [call(B_UTIL, A_HELPER, "a.helper", 4), call(B_REC, B_REC, "recurse", 12)],
    )
    return [a, b]


@pytest.fixture
def filled(store: Store) -> Store:
    store.write_files(files())
    return store


def names(reach: list[Reach]) -> dict[str, int]:
    """qualname -> depth."""
    return {r.key.rsplit(":", 1)[1]: r.depth for r in reach}


def snapshot(store: Store) -> tuple[object, ...]:
    return (
        store.find_entities(),
        store.edges(),
        store.file_states(),
        store.aliases(["a.util"]),
    )


# -- round trip and filters -----------------------------------------------------------------
def test_round_trip_of_every_field(filled: Store) -> None:
    for e in files()[0].entities + files()[1].entities:
        assert filled.get_entity(e.key) == e
    assert filled.get_entity("python:function:nope.py:x") is None
    assert filled.get_entities([A_MAIN.key, B_UTIL.key, "missing"]) == {
        A_MAIN.key: A_MAIN,
        B_UTIL.key: B_UTIL,
    }
    assert filled.get_entities([]) == {}
    got = {(e.src, e.kind, e.target_name): e for e in filled.edges()}
    want = files()[0].edges + files()[1].edges
    assert len(got) == len(want)
    for e in want:
        assert got[(e.src, e.kind, e.target_name)] == e
    states = filled.file_states()
    assert sorted(states) == ["a.py", "b.py"]
    a, b = states["a.py"], states["b.py"]
    assert (a.path, a.language, a.content_hash, a.size, a.mtime_ns, a.status, a.error) == (
        "a.py",
        "python",
        "h-a",
        10,
        1,
        "indexed",
        None,
    )
    assert b.error == "syntax error at line 3"
    assert filled.aliases(["a.util", "zzz"]) == {"a.util": Alias("a.py", "a.util", "b.util")}
    assert filled.counts() == (2, 9, 8)


def test_filters(filled: Store) -> None:
    assert [e.qualname for e in filled.find_entities(path="a.py")] == [
        "a",
        "main",
        "helper",
        "Child",
        "Child.run",
    ]
    assert filled.find_entities(name="util") == [B_UTIL]
    assert {e.name for e in filled.find_entities(name_contains="UTI")} == {"util", "Util"}
    assert [e.name for e in filled.find_entities(kind="class")] == ["Child", "Util"]
    assert filled.find_entities(name="util", kind="class") == []
    assert filled.find_entities(path="b.py", kind="function", limit=1) == [B_UTIL]
    assert len(filled.find_entities(limit=2)) == 2
    # edges come ordered by path, then line
    assert [(e.line, e.target_name) for e in filled.edges(path="a.py")] == [
        (1, "b.util"),
        (4, "helper"),
        (5, "len"),
        (8, "b.util"),
        (11, "b.Util"),
        (13, "self.util"),
    ]
    assert [e.target_name for e in filled.edges(kind="inherits")] == ["b.Util"]
    assert {e.target_name for e in filled.edges(src=A_MAIN.key)} == {"helper", "len"}
    assert {e.src for e in filled.edges(dst=B_UTIL.key)} == {A_MOD.key, A_HELPER.key, A_METH.key}
    assert {e.src for e in filled.edges(dst=B_UTIL.key, kind="calls")} == {
        A_HELPER.key,
        A_METH.key,
    }
    assert [e.target_name for e in filled.edges(resolution="unresolved")] == ["len"]
    assert [e.target_name for e in filled.edges(path="b.py", src=B_REC.key)] == ["recurse"]
    assert {e.target_name for e in filled.edges(path="b.py")} == {"a.helper", "recurse"}
    assert {e.src for e in filled.edges_from_paths(["b.py", "nope.py"])} == {B_UTIL.key, B_REC.key}
    assert filled.edges_from_paths([]) == []
    assert [e.dst for e in filled.edges_from_srcs([A_CHILD.key, B_UTIL.key], "inherits")] == [
        B_CLS.key
    ]
    assert filled.edges_to([]) == []
    to_cls = filled.edges_to([B_CLS.key, "nope"])
    assert [(e.src, e.kind) for e in to_cls] == [
        (e.src, e.kind) for e in filled.edges(dst=B_CLS.key)
    ] and to_cls
    assert filled.entities_by_fqn(["a.helper", "b.util", "a", "none"]) == {
        "a.helper": [A_HELPER],
        "b.util": [B_UTIL],
        "a": [A_MOD],
    }
    assert filled.methods_named(["run", "util"]) == {"run": [A_METH]}
    assert filled.aliases([]) == {}


# -- writes -----------------------------------------------------------------------------------
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
        [call(new_main, B_UTIL, "b.util", 2)],
    )
    filled.write_files([a2])
    assert filled.find_entities(path="a.py") == [new_main]
    assert [e.src for e in filled.edges(path="a.py")] == [new_main.key]
    assert filled.get_entity(A_METH.key) is None
    assert filled.edges(src=A_MAIN.key) == []
    assert filled.aliases(["a.util"]) == {}
    assert filled.file_states()["a.py"].content_hash == "h-a2"
    assert len(filled.find_entities(path="b.py")) == 4  # untouched
    assert len(filled.edges(path="b.py")) == 2
    assert filled.counts() == (2, 5, 3)


def test_failed_write_changes_nothing(filled: Store) -> None:
    """The deletes and the puts are one transaction: a put that fails undoes the deletes."""
    before = snapshot(filled)
    bad = ent("a.py", "broken", line=1)
    bad.start_line = None  # type: ignore[assignment]  # the put of this row fails
    with pytest.raises(StoreError) as err:
        filled.write_files(
            [FileResult("a.py", "python", "indexed", "h-x", 1, 1, None, [bad])], removed=["b.py"]
        )
    assert "\n" not in str(err.value)
    assert snapshot(filled) == before


def test_reader_never_sees_half_a_file(filled: Store) -> None:
    a1 = files()[0]
    a2 = FileResult("a.py", "python", "indexed", "h-a2", 1, 1, None, [A_MAIN])
    whole = {tuple(e.key for e in a1.entities), (A_MAIN.key,)}
    seen: set[tuple[str, ...]] = set()
    stop = threading.Event()
    failures: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                seen.add(tuple(e.key for e in filled.find_entities(path="a.py")))
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            filled.write_files([a2 if i % 2 else a1])
    finally:
        stop.set()
        reader.join()
    assert not failures
    assert seen <= whole


@pytest.mark.parametrize("backend", SHARED)
def test_reader_in_another_process_never_sees_half_a_file(backend: str, tmp_path: Path) -> None:
    """Shared stores: a reader in another process must not see a write half done."""
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.write_files(files())
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(Path(__file__).parents[2])!r})\n"
            "from tests.store.test_contract import files, A_MAIN\n"
            "from isgraph.model import FileResult\n"
            "from isgraph.store.connect import open_store\n"
            f"s = open_store({url!r})\n"
            "a2 = FileResult('a.py', 'python', 'indexed', 'h-a2', 1, 1, None, [A_MAIN])\n"
            "for i in range(200):\n"
            "    s.write_files([a2 if i % 2 else files()[0]])\n",
        ],
        stderr=subprocess.DEVNULL,
    )
    whole = {tuple(e.key for e in files()[0].entities), (A_MAIN.key,)}
    seen: set[tuple[str, ...]] = set()
    try:
        while writer.poll() is None:
            seen.add(tuple(e.key for e in s.find_entities(path="a.py")))
    finally:
        writer.wait(timeout=60)
        s.close()
    assert writer.returncode == 0
    assert seen <= whole


def test_removing_files(filled: Store) -> None:
    filled.write_files([], removed=["b.py", "never-indexed.py"])
    assert sorted(filled.file_states()) == ["a.py"]
    assert filled.find_entities(path="b.py") == [] and filled.edges(path="b.py") == []
    assert filled.get_entity(B_UTIL.key) is None
    assert filled.counts() == (1, 5, 6)
    filled.write_files([])  # nothing to do


def test_latest_result_of_a_path_wins(filled: Store) -> None:
    a_new = FileResult("a.py", "python", "indexed", "h-a3", 1, 1, None, [A_MAIN])
    filled.write_files([files()[0], a_new])
    assert filled.find_entities(path="a.py") == [A_MAIN]
    # removed and re-written in one batch: the result is kept
    filled.write_files([files()[0]], removed=["a.py"])
    assert len(filled.find_entities(path="a.py")) == 5


def test_edge_from_another_files_entity_is_refused(filled: Store) -> None:
    stray = FileResult(
        "c.py", "python", "indexed", "h-c", 1, 1, None, [], [call(B_UTIL, None, "x", 1)]
    )
    with pytest.raises(StoreError, match="not an entity of that file"):
        filled.write_files([stray])
    assert "c.py" not in filled.file_states()


def test_update_edges_and_meta(filled: Store) -> None:
    filled.update_edges(
        [
            EdgeUpdate("a.py", A_MAIN.key, "calls", "len", B_REC.key, "inferred"),
            # an edge that no longer exists (its file was rewritten) is skipped, not fatal
            EdgeUpdate("a.py", A_MAIN.key, "calls", "vanished", B_REC.key, "exact"),
        ]
    )
    edge = next(e for e in filled.edges(src=A_MAIN.key) if e.target_name == "len")
    assert (edge.dst, edge.resolution, edge.candidates, edge.line) == (
        B_REC.key,
        "inferred",
        ("=len",),
        5,
    )
    assert len(filled.edges()) == 8
    filled.update_edges([EdgeUpdate("a.py", A_MAIN.key, "calls", "len", None, "unresolved")])
    assert filled.edges(resolution="unresolved")[0].dst is None
    filled.update_edges([])
    assert filled.get_meta("resolve_pending") is None
    filled.set_meta("resolve_pending", "1")
    assert filled.get_meta("resolve_pending") == "1"
    assert filled.get_meta("schema_version") == str(SCHEMA_VERSION)


def test_add_edges_completes_only_files_waiting_for_them(store: Store) -> None:
    """Deferred calls (index.spool) go into files stored with an empty hash, from entities
    that exist; the file then gets its hash back. Other files are left alone."""
    a, b = files()
    deferred = next(e for e in a.edges if e.target_name == "b.util")
    a.edges.remove(deferred)
    a.content_hash, a.deferred_count = "", 1
    store.write_files([a, b])
    assert store.file_states()["a.py"].content_hash == ""
    assert store.file_states()["a.py"].edges == 6  # counted with the deferred call
    decided = Edge(deferred.src, "calls", "b.util", "a.py", 8, B_UTIL.key, "exact", ("=b.util",))
    ghost = Edge(make_key("python", "function", "a.py", "ghost"), "calls", "x", "a.py", 9)
    late = Edge(B_REC.key, "calls", "late", "b.py", 12)  # b.py is not waiting: refused
    store.add_edges([decided, ghost, late], [("a.py", "h-a"), ("b.py", "h-new")])
    assert store.file_states()["a.py"].content_hash == "h-a"
    assert store.file_states()["b.py"].content_hash == "h-b"
    got = {(e.src, e.target_name): (e.dst, e.resolution) for e in store.edges(path="a.py")}
    assert got[(A_HELPER.key, "b.util")] == (B_UTIL.key, "exact")
    assert (ghost.src, "x") not in got
    assert "late" not in {e.target_name for e in store.edges(path="b.py")}
    assert A_HELPER.key in {r.key for r in store.callers(B_UTIL.key)}
    # once complete, a second delivery is refused too
    store.add_edges([ghost], [("a.py", "h-other")])
    assert store.file_states()["a.py"].content_hash == "h-a"


def test_set_metadata(filled: Store) -> None:
    before = filled.get_entity(A_HELPER.key)
    assert before is not None and before.metadata is None
    filled.set_metadata(
        [
            (A_HELPER.key, '{"hover": "def helper()"}'),
            (A_METH.key, None),  # cleared
            ("python:function:gone.py:nothing", '{"hover": "x"}'),  # vanished: skipped
        ]
    )
    got = filled.get_entities([A_HELPER.key, A_METH.key, "python:function:gone.py:nothing"])
    assert set(got) == {A_HELPER.key, A_METH.key}
    assert got[A_HELPER.key].metadata == '{"hover": "def helper()"}'
    assert got[A_METH.key].metadata is None
    # everything else about the entity is as it was
    assert {**got[A_HELPER.key].record()} == {**before.record()}
    filled.set_metadata([])
    assert len(filled.find_entities()) == 9


def test_recheck_paths(filled: Store) -> None:
    assert filled.edge_paths_to_recheck(["nothing"]) == set()
    assert filled.edge_paths_to_recheck([]) == set()
    assert filled.edge_paths_to_recheck(["len"]) == {"a.py"}  # unresolved, named
    assert filled.edge_paths_to_recheck(["util"]) == {"a.py"}  # inferred `self.util`
    assert filled.edge_paths_to_recheck(["helper"]) == set()  # only exact edges name it
    filled.write_files([], removed=["b.py"])
    # edges into b.py were unlinked by that write: unresolved, so a recheck by name finds them
    assert filled.edge_paths_to_recheck(["util"]) == {"a.py"}
    assert filled.edge_paths_to_recheck(["Util"]) == {"a.py"}


def test_unresolved_calls_naming(filled: Store) -> None:
    """One read for an impact's unresolved frontier: the unresolved calls of the files whose
    edges may name the name, nothing resolved, nothing from files that do not name it."""
    got = filled.unresolved_calls_naming("len")
    assert [(e.src, e.target_name, e.resolution, e.sites) for e in got] == [
        (A_MAIN.key, "len", "unresolved", ((5, 4), (5, 20), (6, 8)))
    ]
    # a file that may name `util` (a.py, by its inferred `self.util`): its unresolved calls
    # only, for the caller to keep those that name it (none here)
    assert [e.target_name for e in filled.unresolved_calls_naming("util")] in ([], ["len"])
    assert filled.unresolved_calls_naming("recurse") == []  # b.py: no unresolved call
    assert filled.unresolved_calls_naming("nothing") == []


def frontier(store: Store, name: str) -> list[tuple[str, str, int]]:
    """(source, target as written, line) of the unresolved calls the store gives for ``name``."""
    return sorted((e.src, e.target_name, e.line) for e in store.unresolved_calls_naming(name))


M_MOD = mod("m.py")
M_F = ent("m.py", "f", line=2)
M_G = ent("m.py", "g", line=5)
M_SPIN = Edge(M_F.key, "calls", "x.spin", "m.py", 3, candidates=("?spin",))
M_LATER = Edge(M_G.key, "calls", "spin", "m.py", 6, candidates=("=spin",))


def m_file(edges: list[Edge], content_hash: str = "h-m") -> FileResult:
    return FileResult(
        "m.py", "python", "indexed", content_hash, 1, 1, None, [M_MOD, M_F, M_G], edges
    )


def test_unresolved_calls_naming_with_deferred_calls(store: Store) -> None:
    """A file's calls written with it and its deferred calls (``add_edges``) under one match
    name are both found: the deferred ones add their sources, never replace the others."""
    store.write_files([m_file([M_SPIN], content_hash="")])  # waiting for its deferred calls
    assert frontier(store, "spin") == [(M_F.key, "x.spin", 3)]
    store.add_edges([M_LATER], [("m.py", "h-m")])
    assert frontier(store, "spin") == [(M_F.key, "x.spin", 3), (M_G.key, "spin", 6)]
    assert frontier(store, "x") == []  # the text's owner is not a match name of `?spin`


def test_unresolved_calls_naming_rebuilds_every_form_of_key(store: Store) -> None:
    """The lookup keeps sources without their path and rebuilds them: a path with the
    characters a rebuild could trip on (``:``, ``$1``, ``%``) and a key of another form."""
    path = "odd $1:dir/10%.py"
    mod_ = Entity(
        make_key("python", "module", path, "m"), "python", "module", "m", "m", path, 1, 0, 9, 0
    )
    f = ent(path, "C.f#2", "method", line=2)
    other = Entity("custom:key:g", "python", "function", "g", "g", path, 5, 0, 6, 0, fqn="g")
    calls = [
        Edge(f.key, "calls", "spin", path, 3, candidates=("?spin",)),
        Edge(other.key, "calls", "x.spin", path, 6, candidates=("?spin",)),
    ]
    store.write_files(
        [FileResult(path, "python", "indexed", "h", 1, 1, None, [mod_, f, other], calls)]
    )
    assert frontier(store, "spin") == [("custom:key:g", "x.spin", 6), (f.key, "spin", 3)]


# The backends with a bulk mode (CozoDB's engines; PostgreSQL has none: `store.base.BulkLoad`).
@pytest.mark.parametrize("backend", ["mem", "sqlite", "rocksdb"])
def test_unresolved_calls_naming_with_deferred_calls_in_bulk_mode(store: Store) -> None:
    """In a cold build's bulk mode the deferred calls' rows are put without reading the
    rows there, except those the file's own write gave sources: those still merge."""
    assert isinstance(store, BulkLoad)
    assert store.begin_bulk()
    now = Edge(M_F.key, "calls", "x.spin", "m.py", 3)  # no candidates, unresolved: listed
    twirl = Edge(M_MOD.key, "calls", "twirl", "m.py", 9, candidates=("=twirl",))
    store.write_files([m_file([now], content_hash="")])
    store.add_edges([M_LATER, twirl], [("m.py", "h-m")])
    assert frontier(store, "spin") == [(M_F.key, "x.spin", 3), (M_G.key, "spin", 6)]
    assert frontier(store, "twirl") == [(M_MOD.key, "twirl", 9)]
    store.end_bulk()
    assert frontier(store, "spin") == [(M_F.key, "x.spin", 3), (M_G.key, "spin", 6)]


def test_unresolved_calls_naming_finds_calls_without_candidates(store: Store) -> None:
    """A call on a value of unknown type (no candidates, unresolved at extraction) is on the
    frontier of its name even in a file where no other edge names it; a call decided at
    extraction (exact, no candidates) is not, and neither file is a recheck's."""
    m = m_file(
        [
            Edge(M_F.key, "calls", "err.decode", "m.py", 3),
            Edge(M_G.key, "calls", "f", "m.py", 6, M_F.key, "exact"),
        ]
    )
    store.write_files([m])
    assert frontier(store, "decode") == [(M_F.key, "err.decode", 3)]
    assert frontier(store, "f") == []
    assert store.edge_paths_to_recheck(["decode", "f"]) == set()


def test_unresolved_calls_naming_follows_resolution(filled: Store) -> None:
    """Resolution changes without the match names being rewritten: a call with candidates
    is found once it is unresolved (its target vanished, or the resolver said so) and not
    while it is resolved."""
    exact = Edge(A_HELPER.key, "calls", "b.util", "a.py", 8, B_UTIL.key, "exact", ("=b.util",))
    a = files()[0]
    a.edges = [exact if e.target_name == "b.util" and e.kind == "calls" else e for e in a.edges]
    filled.write_files([a])
    assert frontier(filled, "util") == []  # resolved: `self.util` inferred, `b.util` exact
    filled.write_files([FileResult("b.py", "python", "indexed", "h-b2", 20, 3, None, [B_MOD], [])])
    assert frontier(filled, "util") == [(A_HELPER.key, "b.util", 8), (A_METH.key, "self.util", 13)]
    filled.update_edges([EdgeUpdate("a.py", A_HELPER.key, "calls", "b.util", B_UTIL.key, "exact")])
    assert frontier(filled, "util") == [(A_METH.key, "self.util", 13)]
    filled.update_edges([EdgeUpdate("a.py", A_MAIN.key, "calls", "len", None, "unresolved")])
    assert frontier(filled, "len") == [(A_MAIN.key, "len", 5)]


def test_unresolved_calls_naming_after_edits_equals_a_clean_write(
    backend: str, tmp_path: Path
) -> None:
    """Incremental = clean for the frontier's rows: after a file is edited (a call moves to
    another function, another is dropped) and another removed, the lookup answers as a store
    written once with the final files does."""
    edited = open_store(url_for(backend, tmp_path / "edited"))
    clean = open_store(url_for(backend, tmp_path / "clean"))
    try:
        a, b = files()
        moved = Edge(A_HELPER.key, "calls", "len", "a.py", 9, candidates=("=len",))
        spin = Edge(A_METH.key, "calls", "self.spin", "a.py", 14, candidates=("?spin",))
        edited.write_files([a, b, m_file([M_SPIN, M_LATER])])
        a2 = files()[0]
        a2.edges = [e for e in a2.edges if e.target_name != "len"] + [moved, spin]
        edited.write_files([a2], removed=["b.py"])
        edited.write_files([m_file([M_LATER], content_hash="h-m2")])
        clean.write_files([a2, m_file([M_LATER], content_hash="h-m2")])
        for name in ("len", "spin", "util", "helper", "x"):
            assert frontier(edited, name) == frontier(clean, name), name
        assert frontier(edited, "len") == [(A_HELPER.key, "len", 9)]
        assert frontier(edited, "spin") == [(M_G.key, "spin", 6), (A_METH.key, "self.spin", 14)]
        edited.write_files([], removed=["a.py", "m.py"])
        assert frontier(edited, "len") == frontier(edited, "spin") == []
    finally:
        edited.close()
        clean.close()


def test_recheck_paths_by_match_names(store: Store) -> None:
    """Edges are found by every candidate's match names (``model.edge_match_names``), written
    with the file or with its deferred calls, and gone with the file's next version."""
    m = Entity("c:module:m.c:m", "c", "module", "m", "m", "m.c", 1, 0, 9, 0, fqn="m.c")
    f = Entity("c:function:m.c:f", "c", "function", "f", "f", "m.c", 2, 0, 4, 0, fqn="f")
    include = Edge(m.key, "imports", "inc/x.h", "m.c", 1, candidates=("=inc/x.h", "~=x.h"))
    new = Edge(f.key, "calls", "Foo.new", "m.c", 3, candidates=("=Geo.Foo", "=Foo"))
    done = Edge(f.key, "calls", "g", "m.c", 3, "c:function:g.c:g", "exact", ("~=g",))
    waiting = FileResult("m.c", "c", "indexed", "", 1, 1, None, [m, f], [include])
    store.write_files([waiting])
    assert store.edge_paths_to_recheck(["inc/x.h"]) == {"m.c"}  # the whole path of a header
    assert store.edge_paths_to_recheck(["x.h", "h"]) == {"m.c"}  # and its last parts
    assert store.edge_paths_to_recheck(["Foo"]) == set()  # its calls are not written yet
    store.add_edges([new, done], [("m.c", "h-m")])
    assert store.edge_paths_to_recheck(["Foo"]) == {"m.c"}  # a candidate, not the text
    assert store.edge_paths_to_recheck(["new"]) == {"m.c"}  # the text's last part too
    assert store.edge_paths_to_recheck(["g"]) == set()  # exact
    # add_edges fills only files still waiting: nothing of these is kept
    late = Edge(f.key, "calls", "Late.new", "m.c", 3, candidates=("=Late",))
    store.add_edges([late], [("m.c", "h-m2")])
    assert store.edge_paths_to_recheck(["Late"]) == set()
    store.write_files([FileResult("m.c", "c", "indexed", "h-m3", 1, 2, None, [m, f], [])])
    assert store.edge_paths_to_recheck(["inc/x.h", "Foo", "new"]) == set()


def test_a_write_never_leaves_an_edge_dangling(filled: Store) -> None:
    # b.py loses `util` (renamed) but keeps `Util`: only the edges to `util` are unlinked
    b_new = FileResult("b.py", "python", "indexed", "h-b2", 20, 3, None, [B_MOD, B_CLS, B_REC], [])
    filled.write_files([b_new])
    edges = {(e.src, e.target_name): e for e in filled.edges()}
    for key in ((A_HELPER.key, "b.util"), (A_METH.key, "self.util"), (A_MOD.key, "b.util")):
        assert (edges[key].dst, edges[key].resolution) == (None, "unresolved")
    assert edges[(A_CHILD.key, "b.Util")].dst == B_CLS.key  # still there: untouched
    assert edges[(A_CHILD.key, "b.Util")].resolution == "exact"
    keys = {e.key for e in filled.find_entities()}
    assert all(e.dst is None or e.dst in keys for e in filled.edges())
    # removing a file unlinks every edge into it: a.helper was called from b.util (gone) only,
    # and a.main's call to a.helper is a.py's own; remove b.py, then a.py keeps no link to b
    filled.write_files([], removed=["b.py"])
    assert {e.dst for e in filled.edges()} == {A_HELPER.key, None}
    assert (edges := {(e.src, e.target_name): e for e in filled.edges()})
    assert edges[(A_CHILD.key, "b.Util")].dst is None
    assert edges[(A_CHILD.key, "b.Util")].resolution == "unresolved"


# -- graph queries ----------------------------------------------------------------------------
def test_callers_and_callees_with_depth(filled: Store) -> None:
    assert names(filled.callers(B_UTIL.key)) == {"helper": 1, "Child.run": 1}
    # main is two calls away; util itself, reached again through the cycle, is not its caller
    assert names(filled.callers(B_UTIL.key, depth=2)) == {"helper": 1, "Child.run": 1, "main": 2}
    assert names(filled.callers(B_UTIL.key, depth=9)) == {"helper": 1, "Child.run": 1, "main": 2}
    assert filled.callers(B_UTIL.key, depth=0) == []
    assert names(filled.callees(A_MAIN.key)) == {"helper": 1}  # `len` is unresolved
    assert names(filled.callees(A_MAIN.key, depth=3)) == {"helper": 1, "util": 2}
    assert names(filled.callers(B_REC.key)) == {}  # a self-loop is not a caller
    assert filled.callers("python:function:none.py:x") == []
    # ordered by depth, then key
    assert [r.depth for r in filled.callers(B_UTIL.key, depth=2)] == [1, 1, 2]


def test_impact_follows_every_resolved_kind(filled: Store) -> None:
    assert names(filled.impact(B_CLS.key)) == {"Child": 1}  # inherits
    assert names(filled.impact(B_UTIL.key, depth=1)) == {"helper": 1, "Child.run": 1, "a": 1}
    assert names(filled.impact(B_UTIL.key, depth=5)) == {
        "helper": 1,
        "Child.run": 1,
        "a": 1,
        "main": 2,
    }
    assert names(filled.impact(A_MAIN.key)) == {}


def test_cycles(filled: Store) -> None:
    found = filled.cycles("calls")
    assert [[k.rsplit(":", 1)[1] for k in c] for c in found] == [["helper", "util"], ["recurse"]]
    assert filled.cycles("calls", limit=1) == [sorted([A_HELPER.key, B_UTIL.key])]
    assert filled.cycles("inherits") == []
    assert filled.cycles("imports") == []
    assert filled.cycles("no-such-kind") == []


def test_cycles_of_a_bigger_graph(store: Store) -> None:
    """A 3-cycle with a tail into it, a 2-cycle, a DAG diamond: only the cycles come back."""
    fs = [ent("g.py", f"f{i}", line=i * 3 + 1) for i in range(9)]
    pairs = [(0, 1), (1, 2), (2, 0), (3, 0), (4, 5), (5, 4), (6, 7), (6, 8), (7, 8), (8, 8)]
    edges = [call(fs[s], fs[d], f"f{d}", fs[s].start_line + 1) for s, d in pairs]
    store.write_files([FileResult("g.py", "python", "indexed", "h", 1, 1, None, fs, edges)])
    assert [[k.rsplit(":", 1)[1] for k in c] for c in store.cycles()] == [
        ["f0", "f1", "f2"],
        ["f4", "f5"],
        ["f8"],
    ]


# -- search -----------------------------------------------------------------------------------
S_PARSER = ent("s.py", "Parser", "class", line=5)
SEARCH = [
    mod("s.py"),
    ent("s.py", "parse", line=1),
    S_PARSER,
    ent("s.py", "Parser.parse", "method", line=6, parent=S_PARSER.key),
    ent("s.py", "Parser.getSomeEntity", "method", line=7, parent=S_PARSER.key),
    ent("s.py", "parse_args", line=10),
    ent("s.py", "sparse", line=14),
    ent("s.py", "get_some_entity", line=18),
    ent("s.py", "pagesize", line=22),
]


@pytest.fixture
def searchable(store: Store) -> Store:
    store.write_files([FileResult("s.py", "python", "indexed", "h", 1, 1, None, SEARCH)])
    return store


def found(store: Store, query: str, limit: int = 20) -> list[str]:
    return [e.qualname for e in store.search(query, limit)]


def test_search_ranking(searchable: Store) -> None:
    # exact > prefix > substring; on ties shorter, then higher-level (function before method)
    expected = ["parse", "Parser.parse", "Parser", "parse_args", "sparse"]
    assert found(searchable, "parse") == expected
    assert found(searchable, "PARSE") == expected  # case-insensitive
    assert found(searchable, " parse ", limit=2) == expected[:2]
    assert found(searchable, "parse", limit=3) == expected[:3]
    # camel-hump (g-S-E / g-s-e) before a plain subsequence, even a shorter one
    assert found(searchable, "gse") == ["Parser.getSomeEntity", "get_some_entity", "pagesize"]
    assert found(searchable, "getsoment") == ["Parser.getSomeEntity", "get_some_entity"]
    assert found(searchable, "") == [] and found(searchable, "zzzz") == []
    assert found(searchable, "parse", limit=0) == []


def test_search_orders_ties_by_length_then_level(searchable: Store) -> None:
    assert found(searchable, "s") == [
        "s",  # the module: exact
        "sparse",  # prefix
        "parse",  # substring from here: 5 letters, top level
        "Parser.parse",  # 5 letters, a member
        "Parser",
        "pagesize",
        "parse_args",
        "Parser.getSomeEntity",
        "get_some_entity",
    ]


def test_search_sees_writes(searchable: Store) -> None:
    assert found(searchable, "parse_a") == ["parse_args"]
    kept = [e for e in SEARCH if e.name != "parse_args"]
    searchable.write_files([FileResult("s.py", "python", "indexed", "h2", 1, 1, None, kept)])
    assert found(searchable, "parse_a") == []


def test_search_ranks_the_workspace_before_stubs(store: Store) -> None:
    stub = "@typeshed/stdlib/builtins.pyi"
    mine = ent("app.py", "remove")
    theirs = ent(stub, "remove")
    store.write_files(
        [
            FileResult(stub, "python", "indexed", "h1", 1, 1, None, [theirs]),
            FileResult("app.py", "python", "indexed", "h2", 1, 1, None, [mine]),
        ]
    )
    assert [e.path for e in store.search("remove")] == ["app.py", stub]


def test_search_on_the_graph(filled: Store) -> None:
    assert found(filled, "util") == ["util", "Util"]  # both exact; then by source position
    assert found(filled, "hlpr") == ["helper"]
    assert found(filled, "ru") == ["Child.run", "recurse"]  # prefix, then subsequence


# -- stats ------------------------------------------------------------------------------------
def test_stats(filled: Store) -> None:
    s = filled.stats()
    assert (s.files, s.entities, s.edges) == (2, 9, 8)
    assert s.entities_by_kind == {"module": 2, "function": 4, "class": 2, "method": 1}
    assert s.entities_by_language == {"python": 9}
    assert s.edges_by_kind == {"calls": 6, "imports": 1, "inherits": 1}
    assert s.edges_by_resolution == {"exact": 6, "inferred": 1, "unresolved": 1}


def test_stats_leave_stubs_out_unless_asked(filled: Store) -> None:
    stub_mod = ent("@typeshed/stdlib/os.pyi", "os", "module")
    stub_fn = ent("@typeshed/stdlib/os.pyi", "getcwd")
    edge = Edge(stub_fn.key, "calls", "x", stub_fn.path, 2)
    filled.write_files(
        [
            FileResult(
                stub_mod.path, "python", "indexed", "h", 1, 1, None, [stub_mod, stub_fn], [edge]
            )
        ]
    )
    s = filled.stats()
    assert (s.files, s.entities, s.edges) == (2, 9, 8)
    assert s.entities_by_kind == {"module": 2, "function": 4, "class": 2, "method": 1}
    s = filled.stats(stubs=True)
    assert (s.files, s.entities, s.edges) == (3, 11, 9)
    assert s.edges_by_resolution["unresolved"] == 2


def test_an_empty_store(store: Store) -> None:
    s = store.stats()
    assert (s.files, s.entities, s.edges) == (0, 0, 0)
    assert s.edges_by_resolution == {"exact": 0, "inferred": 0, "unresolved": 0}
    assert store.counts() == (0, 0, 0)
    assert store.search("x") == [] and store.cycles() == [] and store.callers("x", 3) == []
    assert store.file_states() == {} and store.edge_paths_to_recheck(["x"]) == set()


# -- lifecycle and errors ---------------------------------------------------------------------
def test_closed_store_refuses_and_close_is_idempotent(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_entity(A_MAIN.key)


@pytest.mark.parametrize("backend", PERSISTENT)
def test_reopen_keeps_data(backend: str, tmp_path: Path) -> None:
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.write_files(files())
    s.close()
    s = open_store(url)
    try:
        assert s.counts() == (2, 9, 8)
        assert s.get_entity(A_METH.key) == A_METH
        assert names(s.callers(B_UTIL.key, 2)) == {"helper": 1, "Child.run": 1, "main": 2}
    finally:
        s.close()


@pytest.mark.parametrize("backend", PERSISTENT)
def test_schema_mismatch_is_refused(backend: str, tmp_path: Path) -> None:
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.set_meta("schema_version", "999")
    s.close()
    with pytest.raises(SchemaMismatchError) as err:
        open_store(url)
    msg = str(err.value)
    assert "999" in msg and str(SCHEMA_VERSION) in msg and "delete" in msg and "\n" not in msg
    # the failed open released the store: a rocksdb LOCK would otherwise stay held
    with pytest.raises(SchemaMismatchError):
        open_store(url)


@pytest.mark.parametrize("backend", PERSISTENT)
def test_second_process(backend: str, tmp_path: Path) -> None:
    """SQLite and PostgreSQL stores are shared (server + terminal); RocksDB refuses, saying
    why."""
    url = url_for(backend, tmp_path)
    s = open_store(url)
    s.write_files(files())
    try:
        code = (
            "from isgraph.store.connect import open_store\n"
            "from isgraph.store.base import StoreLockedError\n"
            f"try:\n    s = open_store({url!r}); print(s.counts()[1]); s.close()\n"
            "except StoreLockedError as e:\n    print('locked:', e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        ).stdout.strip()
        s.write_files([], removed=["b.py"])  # the first process still writes
        assert s.counts() == (1, 5, 6)
    finally:
        s.close()
    if backend in SHARED:
        assert out == "9"
    else:
        path = url.partition(":")[2]
        assert out.startswith("locked:") and path in out and "one process" in out


def test_bad_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("redis://x", "sqlite:", "rocks:x", ""):
        with pytest.raises(StoreError, match="expected"):
            open_store(url)
    # an unreachable server: one line naming the host, whatever the scheme's spelling
    for url, host in (
        ("postgresql://postgres@127.0.0.1:1/test", "127.0.0.1:1"),
        ("postgres://u@nonexistent.invalid/db?connect_timeout=2", "nonexistent.invalid"),
    ):
        with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as err:
            open_store(url)
        assert host in str(err.value) and "\n" not in str(err.value)
    m = open_store("mem")
    assert m.url == "mem"
    m.close()
    monkeypatch.chdir(tmp_path)  # relative paths are relative to the working directory
    s = open_store("sqlite:rel/dir/i.db")
    assert s.url == f"sqlite:{tmp_path.resolve() / 'rel' / 'dir' / 'i.db'}"
    s.close()
    assert (tmp_path / "rel" / "dir" / "i.db").is_file()


def test_default_store(tmp_path: Path) -> None:
    assert default_store_url(tmp_path) == f"sqlite:{tmp_path / '.isgraph' / 'index.db'}"
    s = open_store(None, root=tmp_path)
    s.close()
    assert (tmp_path / ".isgraph" / "index.db").is_file()


@pytest.mark.parametrize("backend", FILE_BACKED)
def test_unusable_paths_are_named(backend: str, tmp_path: Path) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("")
    target = blocker / "x" / "store"
    with pytest.raises(StoreError, match=str(blocker)):
        open_store(f"{backend}:{target}")
    if backend == "sqlite":
        (tmp_path / "d.db").mkdir()
        with pytest.raises(StoreError, match=str(tmp_path / "d.db")) as err:
            open_store(f"sqlite:{tmp_path / 'd.db'}")
        assert not isinstance(err.value, StoreLockedError)
        garbage = tmp_path / "g.db"
        garbage.write_bytes(b"not a database" * 100)
        with pytest.raises(StoreError, match=str(garbage)):
            open_store(f"sqlite:{garbage}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
@pytest.mark.parametrize("backend", FILE_BACKED)
def test_unwritable_directory(backend: str, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(StoreError, match=str(ro)):
            open_store(f"{backend}:{ro / 'sub' / 'store'}")
    finally:
        ro.chmod(0o755)


def test_interrupted_creation_is_completed(tmp_path: Path) -> None:
    """A store whose creation stopped half-way (no version yet) is finished on the next open."""
    from isgraph.store.cozo import CozoStore

    url = url_for("sqlite", tmp_path)
    s = open_store(url)
    assert isinstance(s, CozoStore)
    s._run("::index drop entity:by_name")
    s._run("::index drop alias:by_path")
    s._run("::remove alias")
    s._run("?[k] <- [['schema_version']] :rm meta {k}")
    s.close()
    s = open_store(url)
    try:
        s.write_files(files())
        assert s.aliases(["a.util"]) == {"a.util": Alias("a.py", "a.util", "b.util")}
        assert found(s, "util") == ["util", "Util"]
        assert s.get_meta("schema_version") == str(SCHEMA_VERSION)
    finally:
        s.close()


def test_one_alias_key_bound_twice_in_one_file(store: Store) -> None:
    """`import posixpath as path` / `import ntpath as path` under if/else: one alias key, two
    targets; every backend keeps the same one (the greater row), whatever the order."""
    for targets in (["ntpath", "posixpath"], ["posixpath", "ntpath"]):
        aliases = [Alias("os.py", "os.path", t) for t in targets]
        store.write_files(
            [FileResult("os.py", "python", "indexed", "h", 1, 1, None, [], [], aliases)]
        )
        assert store.aliases(["os.path"]) == {"os.path": Alias("os.py", "os.path", "posixpath")}


def test_a_workspace_alias_comes_before_a_stubs(store: Store) -> None:
    """The workspace's `os.py` and typeshed's os stub both bind `os.sep`: the workspace's is
    the one read (the resolver reads a stub's only where no workspace module shadows it)."""
    stub = "@typeshed/stdlib/os/__init__.pyi"
    for path, target in (("os.py", "posixpath.sep"), (stub, "posix.sep")):
        alias = Alias(path, "os.sep", target)
        store.write_files([FileResult(path, "python", "indexed", "h", 1, 1, None, [], [], [alias])])
    assert store.aliases(["os.sep"]) == {"os.sep": Alias("os.py", "os.sep", "posixpath.sep")}


def test_aliases_of_a_file(store: Store) -> None:
    """Every alias one file binds, sorted (a file's surface: what other files see of it)."""
    aliases = [Alias("m.py", "m.x", "io.BytesIO()"), Alias("m.py", "m.a", "os.path")]
    other = [Alias("n.py", "n.b", "m.a")]
    store.write_files(
        [
            FileResult("m.py", "python", "indexed", "h", 1, 1, None, [], [], aliases),
            FileResult("n.py", "python", "indexed", "h", 1, 1, None, [], [], other),
        ]
    )
    assert store.aliases_of("m.py") == sorted(aliases, key=lambda a: a.fqn)
    assert store.aliases_of("gone.py") == []


def test_symbol_rows_cover_every_file_in_chunks(store: Store) -> None:
    """What a large resolution reads into memory (`index.symbols`): every file's entities
    without doc/metadata/positions, aliases and inherits edges, in chunks of files."""
    files = [f"p{i:03}.py" for i in range(450)]  # more than two chunks
    base, sub = ent("p000.py", "Base", "class"), ent("p001.py", "Sub", "class", line=3)
    results = [
        FileResult(path, "python", "indexed", "h", 1, 1, None, [mod(path)], [], [])
        for path in files
    ]
    results[0].entities.append(base)
    results[1].entities.append(sub)
    results[1].edges.append(
        Edge(sub.key, "inherits", "p000.Base", "p001.py", 3, base.key, "exact", ("=p000.Base",))
    )
    results[1].aliases.append(Alias("p001.py", "p001.B", "p000.Base"))
    store.write_files(results)
    chunks = list(store.symbol_rows())
    assert len(chunks) >= 2
    entities = {e.key: e for c in chunks for e in c.entities}
    assert set(entities) == {e.key for r in results for e in r.entities}
    got = entities[sub.key]
    assert (got.fqn, got.kind, got.path, got.start_line, got.signature) == (
        "p001.Sub",
        "class",
        "p001.py",
        3,
        "",
    )
    assert (got.doc, got.metadata, got.end_line) == ("", None, 0)  # never read by resolution
    assert [a for c in chunks for a in c.aliases] == [Alias("p001.py", "p001.B", "p000.Base")]
    inherits = [e for c in chunks for e in c.inherits]
    assert [(e.src, e.dst, e.candidates) for e in inherits] == [
        (sub.key, base.key, ("=p000.Base",))
    ]
