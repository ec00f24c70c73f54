"""Graph walks and edge lookups: callers, callees, impact counts, references, call and type
hierarchies, definitions at a position, cycles, stats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isgraph.model import Edge, EdgeKind, Entity, is_external, referenced_word
from isgraph.queries.page import Page, paginate
from isgraph.store.base import RESOLVE_PENDING, Reach, Stats, Store

Walk = Callable[[Store, str, int], list[Reach]]

WALKS: dict[str, Walk] = {
    "callers": lambda s, k, d: s.callers(k, d),
    "callees": lambda s, k, d: s.callees(k, d),
    "impact": lambda s, k, d: s.impact(k, d),
}


DIRECTIONS = ("callers", "callees")  # walks along calls, whose links have call sites


def sites(edge: Edge) -> list[list[int]]:
    """Where an edge occurs in its file: ``[[line, column], ...]`` (1-based line, 0-based
    UTF-8 byte column of the name), in source order."""
    return [list(s) for s in edge.occurrences()]


@dataclass(slots=True, frozen=True)
class Reached:
    """An entity a walk reached from ``target`` (a key), ``depth`` edges away; for a walk
    along calls, ``sites``: every call site (path, line, col) of the calls linking it to the
    level before."""

    entity: Entity
    depth: int
    target: str
    sites: list[dict[str, Any]] | None = field(default=None)

    def record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {**self.entity.record(), "depth": self.depth, "target": self.target}
        if self.sites is not None:
            rec["sites"] = self.sites
        return rec


def reach(
    store: Store, targets: list[Entity], walk: str, depth: int, limit: int | None = None
) -> Page[Reached]:
    """What ``walk`` ("callers", "callees", "impact") reaches from each target, nearest
    first (then by path and line); callers and callees with their call sites."""
    fn = WALKS[walk]
    found: list[Reached] = []
    for target in targets:
        hops = fn(store, target.key, depth)
        ents = store.get_entities(r.key for r in hops)
        links = _link_sites(store, target.key, hops, walk) if walk in DIRECTIONS else None
        found += [
            Reached(
                ents[r.key], r.depth, target.key, None if links is None else links.get(r.key, [])
            )
            for r in hops
            if r.key in ents
        ]
    found.sort(key=lambda r: (r.depth, r.entity.path, r.entity.start_line))
    return paginate(found, limit)


def _link_sites(
    store: Store, start: str, reach: list[Reach], direction: str
) -> dict[str, list[dict[str, Any]]]:
    """For each reached key, the call sites of the edges between it and the level before
    it (the start at depth 1): a caller's calls to what it reaches, or the calls that reach
    a callee."""
    level = {r.key: r.depth for r in reach}
    level.setdefault(start, 0)
    if direction == "callers":  # edges from each reached caller into the level below it
        srcs = [r.key for r in reach]
    else:  # edges from the start and every level but the last into the next one
        srcs = [k for k, d in level.items() if d < max(level.values(), default=0)]
    out: dict[str, list[dict[str, Any]]] = {}
    for e in store.edges_from_srcs(srcs, EdgeKind.CALLS):
        if e.dst is None or e.dst not in level:
            continue
        near, far = (e.src, e.dst) if direction == "callers" else (e.dst, e.src)
        if level[near] - 1 != level[far] or (direction == "callees" and near == start):
            continue
        out.setdefault(near, []).extend(site_records(e))
    for found in out.values():
        found.sort(key=lambda s: (s["path"], s["line"], s["col"]))
    return out


def site_records(edge: Edge) -> list[dict[str, Any]]:
    """An edge's sites as records: where in ``edge.path`` the reference is written."""
    return [{"path": edge.path, "line": line, "col": col} for line, col in edge.occurrences()]


@dataclass(slots=True, frozen=True)
class Reference:
    """One edge into (or out of) an entity, with the entity at its other end if stored."""

    edge: Edge
    other: Entity | None

    def record(self) -> dict[str, object]:
        rec = self.edge.record()
        if self.other is not None:
            rec["other"] = {
                "key": self.other.key,
                "qualname": self.other.qualname,
                "kind": self.other.kind,
                "path": self.other.path,
                "start_line": self.other.start_line,
            }
        return rec


def references(
    store: Store, key: str, *, kind: str | None = None, limit: int | None = None, cursor: int = 0
) -> Page[Reference]:
    """The resolved edges into ``key`` (of ``kind`` if given), each with its source entity and
    every site, by path then line."""
    edges = store.edges(dst=key, kind=kind)
    page = paginate(edges, limit, cursor)
    srcs = store.get_entities(e.src for e in page.items)
    return page.map(lambda e: Reference(e, srcs.get(e.src)))


def outgoing(
    store: Store, key: str, *, kind: str | None = None, limit: int | None = None, cursor: int = 0
) -> Page[Reference]:
    """The edges leaving ``key`` (resolved or not), each with its target entity if any."""
    edges = store.edges(src=key, kind=kind)
    page = paginate(edges, limit, cursor)
    dsts = store.get_entities(e.dst for e in page.items if e.dst)
    return page.map(lambda e: Reference(e, dsts.get(e.dst) if e.dst else None))


def edges(
    store: Store,
    *,
    kind: str | None = None,
    path: str | None = None,
    resolution: str | None = None,
    stubs: bool = False,
    limit: int | None = None,
) -> Page[Edge]:
    """Edges by kind, file and resolution (by path, then line); stub files' own edges only
    with ``stubs`` or a ``path``."""
    found = store.edges(kind=kind, path=path, resolution=resolution)
    if not (stubs or path is not None):
        found = [e for e in found if not is_external(e.path)]
    return paginate(found, limit)


def calls(store: Store, key: str, incoming: bool) -> list[Reference]:
    """Resolved calls into ``key`` (``incoming``) or out of it, each with the entity at the
    other end (call hierarchy)."""
    page = (references if incoming else outgoing)(store, key, kind=EdgeKind.CALLS)
    return [r for r in page.items if r.other is not None]


def hierarchy(store: Store, key: str, supertypes: bool) -> list[Entity]:
    """Classes one resolved ``inherits`` edge away: bases (supertypes) or subclasses."""
    if supertypes:
        ends = [e.dst for e in store.edges(kind=EdgeKind.INHERITS, src=key) if e.dst]
    else:
        ends = [e.src for e in store.edges(kind=EdgeKind.INHERITS, dst=key)]
    got = store.get_entities(ends)
    return [got[k] for k in dict.fromkeys(ends) if k in got]


def definitions_at(store: Store, path: str, line: int, col: int | None = None) -> list[Entity]:
    """Where the names used at (``line`` 1-based, ``col`` 0-based) of a file are defined:
    the targets of the resolved edges with a site on that line; of those, the ones whose
    name the column is on, when it is on one."""
    on_line = [
        e for e in store.edges(path=path) if e.dst and any(ln == line for ln, _ in e.occurrences())
    ]
    under = [
        e
        for e in on_line
        if col is not None
        and any(
            ln == line and c <= col <= c + len(referenced_word(e.target_name))
            for ln, c in e.occurrences()
        )
    ]
    got = store.get_entities(e.dst for e in (under or on_line) if e.dst)
    return list(got.values())


@dataclass(slots=True, frozen=True)
class Facts:
    """Counts shown on hover and code lens: direct callers, their call sites, direct
    callees, and the impact's size at ``impact_depth``."""

    callers: int
    calls: int
    callees: int
    impact: int
    impact_depth: int

    def record(self) -> dict[str, int]:
        return {
            "callers": self.callers,
            "calls": self.calls,
            "callees": self.callees,
            "impact": self.impact,
            "impact_depth": self.impact_depth,
        }


def facts(store: Store, key: str, *, callees: bool = True, impact_depth: int = 3) -> Facts:
    """Callers and calls into ``key`` (each site counted; recursion left out), callees
    (skipped when not wanted) and the impact's size."""
    edges = [e for e in store.edges(kind=EdgeKind.CALLS, dst=key) if e.src != key]
    return Facts(
        callers=len({e.src for e in edges}),
        calls=sum(len(e.occurrences()) for e in edges),
        callees=len(store.callees(key, 1)) if callees else 0,
        impact=len(store.impact(key, impact_depth)),
        impact_depth=impact_depth,
    )


def cycles(store: Store, kind: str = "calls", limit: int | None = 100) -> Page[list[str]]:
    """Strongly connected components of resolved edges of one kind, largest first."""
    if kind not in set(EdgeKind):
        raise ValueError(f"kind must be one of {sorted(EdgeKind)}, got {kind!r}")
    return paginate(store.cycles(kind, 1 << 30), limit)


def complete(store: Store) -> bool:
    """Whether every index run that wrote the store also resolved its edges. False after a
    run was cut short (Ctrl-C, a crash) or while one is running: answers may then miss
    edges, and the next ``isgraph index`` completes the resolution."""
    return store.get_meta(RESOLVE_PENDING) != "1"


def stats(store: Store, stubs: bool = False) -> Stats:
    return store.stats(stubs)
