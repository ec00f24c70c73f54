"""The query layer on a real indexed repo (SQLite store, the CLI's index): no server spawned.
Expected answers are written out from reading the fixture (tests/queries/conftest.py)."""

from __future__ import annotations

import pytest

from isgraph.queries import graph, impact, lookup
from isgraph.queries.page import paginate
from isgraph.store.base import Store

CORE = "python:{}:pkg/core.py:{}"
HELPER = CORE.format("method", "Base.helper")
START = CORE.format("method", "Base.start")
RUN = CORE.format("method", "Engine.run")
MAKE = CORE.format("function", "make")
ENGINE = CORE.format("class", "Engine")
BASE = CORE.format("class", "Base")
GO = "python:function:pkg/util.py:go"
POKE = "python:function:pkg/loose.py:poke"


def test_paginate_counts_and_cursor() -> None:
    page = paginate(list(range(7)), 3)
    assert (page.items, page.total, page.truncated, page.cursor) == ([0, 1, 2], 7, True, 3)
    last = paginate(list(range(7)), 3, 6)
    assert (last.items, last.truncated, last.cursor) == ([6], False, None)
    assert paginate([1, 2], None).record(str) == {
        "items": ["1", "2"],
        "total": 2,
        "truncated": False,
    }
    with pytest.raises(ValueError):
        paginate([1], 1, -1)


def test_find_targets_by_key_name_and_qualname(store: Store) -> None:
    assert [e.key for e in lookup.find_targets(store, RUN)] == [RUN]
    assert [e.key for e in lookup.find_targets(store, "Engine.run")] == [RUN]
    assert [e.key for e in lookup.find_targets(store, "pkg.core.make")] == [MAKE]
    assert lookup.find_targets(store, "nothing_here") == []
    with pytest.raises(lookup.QueryError, match="no such symbol 'nothing_here'"):
        lookup.require_targets(store, "nothing_here")
    with pytest.raises(lookup.QueryError, match="nearest: Engine"):
        lookup.require_targets(store, "Engin")


def test_entity_at_is_innermost(store: Store) -> None:
    at = lookup.entity_at(store, "pkg/core.py", 13)
    assert at is not None and at.key == RUN
    typ = lookup.entity_at(store, "pkg/core.py", 13, lookup.TYPE_KINDS)
    assert typ is not None and typ.key == ENGINE


def test_search_page_says_when_cut(store: Store) -> None:
    one = lookup.search(store, "helper", 5)
    assert [e.key for e in one.items] == [HELPER]
    assert (one.truncated, one.total, one.total_exact) == (False, 1, True)
    cut = lookup.search(store, "make", 1)  # also builtins' str.maketrans & co
    assert [e.key for e in cut.items] == [MAKE]
    assert cut.truncated and not cut.total_exact and cut.total == 2  # "at least 2"
    repo_only = lookup.search(store, "make", 5, stubs=False)
    assert [e.key for e in repo_only.items] == [MAKE]


def test_symbols_and_edges_pages(store: Store) -> None:
    methods = lookup.symbols(store, kind="method")
    assert [e.qualname for e in methods.items] == ["Base.start", "Base.helper", "Engine.run"]
    cut = lookup.symbols(store, kind="method", limit=2)
    assert (cut.total, cut.truncated, cut.cursor) == (3, True, 2)
    unresolved = graph.edges(store, resolution="unresolved")
    assert [(e.target_name, e.path) for e in unresolved.items] == [
        ("y.make", "pkg/loose.py"),
        ("pkg.extra.later", "pkg/util.py"),
    ]


def test_reach_callers_callees(store: Store) -> None:
    (make,) = lookup.find_targets(store, "make")
    callers = graph.reach(store, [make], "callers", 1)
    assert [(r.entity.key, r.depth) for r in callers.items] == [(RUN, 1), (GO, 1)]
    # go calls make twice, as `mk()` and `pkg.core.make()`: two edges, a site each
    assert callers.items[1].sites == [
        {"path": "pkg/util.py", "line": 8, "col": 4},
        {"path": "pkg/util.py", "line": 9, "col": 13},
    ]
    assert callers.items[0].record()["target"] == MAKE
    deep = graph.reach(store, [make], "callers", 2, limit=3)
    assert [r.entity.qualname for r in deep.items] == ["Engine.run", "go", "main"]
    assert deep.total == 4 and deep.truncated  # test_run, through Engine.run, is cut
    callees = graph.reach(store, lookup.find_targets(store, "go"), "callees", 1)
    assert {r.entity.qualname for r in callees.items} == {"Engine", "make", "Engine.run", "len"}


def test_references_carry_sites_and_sources(store: Store) -> None:
    refs = graph.references(store, HELPER)
    got = [
        (r.edge.src, r.edge.resolution, r.other.qualname if r.other else None) for r in refs.items
    ]
    assert got == [(START, "exact", "Base.start"), (POKE, "inferred", "poke")]
    rec = refs.items[1].record()
    # poke calls x.helper() twice: one edge, both sites (line, column of `helper`)
    assert rec["sites"] == [[2, 6], [3, 13]] and rec["other"]["key"] == POKE  # type: ignore[index]
    out = graph.outgoing(store, GO, limit=2)
    assert out.total == 6 and out.truncated and out.cursor == 2


def test_definitions_hierarchy_calls(store: Store) -> None:
    assert [e.key for e in graph.definitions_at(store, "pkg/util.py", 9)] == [MAKE]
    # line 11 `e.run()`: the cursor on `run` (col 6)
    assert [e.key for e in graph.definitions_at(store, "pkg/util.py", 11, 6)] == [RUN]
    assert graph.definitions_at(store, "pkg/util.py", 4) == []
    assert [e.key for e in graph.hierarchy(store, ENGINE, supertypes=True)] == [BASE]
    assert [e.key for e in graph.hierarchy(store, BASE, supertypes=False)] == [ENGINE]
    incoming = graph.calls(store, RUN, incoming=True)
    assert [r.other.qualname for r in incoming if r.other] == ["go", "test_run"]


def test_facts_and_cycles(store: Store) -> None:
    f = graph.facts(store, MAKE)
    # impact: Engine.run, go, pkg.util (imports it); then test_run, main, app (imports go)
    assert (f.callers, f.calls, f.callees, f.impact) == (2, 3, 1, 6)
    # make -> Engine (class): no call cycle; there are none in the fixture
    page = graph.cycles(store, "calls")
    assert page.items == [] and page.total == 0 and not page.truncated
    with pytest.raises(ValueError, match="kind must be one of"):
        graph.cycles(store, "bogus")


def test_impact_split_by_provenance(store: Store) -> None:
    (helper,) = lookup.find_targets(store, HELPER)
    got = impact.impact(store, helper, 3)
    certain = [(r.entity.qualname, r.depth) for r in got.certain.items]
    possible = [(r.entity.qualname, r.depth) for r in got.possible.items]
    # Base.start calls self.helper (exact); poke's x.helper() is a guess (inferred)
    assert certain == [("Base.start", 1), ("Engine.run", 2), ("go", 3), ("test_run", 3)]
    assert possible == [("poke", 1), ("test_loose", 2), ("test_poke", 2)]
    assert got.frontier.items == []
    # everything store.impact reaches, and nothing else
    every = {r.key for r in store.impact(HELPER, 3)}
    assert every == {r.entity.key for r in got.certain.items + got.possible.items}


def test_impact_frontier_and_limits(store: Store) -> None:
    (make,) = lookup.find_targets(store, MAKE)
    got = impact.impact(store, make, 3, limit=2)
    assert got.certain.total == 6 and got.certain.truncated and len(got.certain.items) == 2
    assert got.possible.total == 0
    (loose,) = got.frontier.items
    assert (loose.edge.target_name, loose.edge.path, loose.edge.line) == (
        "y.make",
        "pkg/loose.py",
        7,
    )
    assert loose.other is not None and loose.other.qualname == "far"
