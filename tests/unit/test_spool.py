"""The spool of deferred calls: what goes in comes out once, by path, decided later."""

from __future__ import annotations

from isgraph.index.spool import EdgeSpool, pack, should_defer
from isgraph.model import Edge


def _call(src: str, target: str, line: int, cands: tuple[str, ...] = ("=m.f",)) -> Edge:
    return Edge(src, "calls", target, "p.py", line, None, "unresolved", cands)


def test_only_cross_file_calls_are_deferred() -> None:
    assert should_defer(_call("k", "f", 1))
    assert not should_defer(_call("k", "f", 1, ()))  # decided at extraction
    assert not should_defer(Edge("k", "imports", "m", "p.py", 1, None, "unresolved", ("=m",)))


def test_round_trip_by_path_and_once() -> None:
    with EdgeSpool() as spool:
        one = [_call("k1", "f", 3), _call("k2", "g.h", 7, ("=g.h", "?h"))]
        spool.add("p.py", "hash-p", pack(one))
        spool.add("q.py", "hash-q", pack([_call("k3", "x", 1)]))
        assert len(spool) == 2 and "p.py" in spool
        edges, hashes = spool.take(["p.py", "missing.py"])
        assert hashes == [("p.py", "hash-p")]
        assert [(e.src, e.target_name, e.line, e.candidates, e.path) for e in edges] == [
            ("k1", "f", 3, ("=m.f",), "p.py"),
            ("k2", "g.h", 7, ("=g.h", "?h"), "p.py"),
        ]
        assert spool.take(["p.py"]) == ([], [])  # taken once
        assert spool.paths() == ["q.py"]


def test_a_later_add_replaces_and_discard_forgets() -> None:
    with EdgeSpool() as spool:
        spool.add("p.py", "h1", pack([_call("k1", "old", 1)]))
        spool.add("p.py", "h2", pack([_call("k1", "new", 2)]))
        spool.add("q.py", "hq", pack([_call("k9", "z", 1)]))
        spool.discard(["q.py"])
        edges, hashes = spool.take(["p.py", "q.py"])
        assert [e.target_name for e in edges] == ["new"] and hashes == [("p.py", "h2")]
