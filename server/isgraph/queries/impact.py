"""Impact with provenance: what a change to an entity reaches, and how sure that is.

``Store.impact`` walks every resolved edge; an agent deciding what to re-test needs to know
which of those dependents are *proved* (a path of ``exact`` edges), which hang on at least
one heuristic (``inferred``) edge, and where calls by the same name were never resolved at
all (the places a grep would still have to look). One walk towards dependents, a layer per
query (``Store.edges_to``), carries both distances at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from isgraph.model import Edge, EdgeKind, Entity, Resolution, edge_match_names
from isgraph.queries.graph import Reached, Reference
from isgraph.queries.page import Page, paginate
from isgraph.store.base import Store


@dataclass(slots=True, frozen=True)
class Impact:
    """``certain``: dependents over exact edges only; ``possible``: the others, reached only
    through at least one inferred edge; ``frontier``: unresolved calls by the target's name."""

    target: Entity
    depth: int
    certain: Page[Reached]
    possible: Page[Reached]
    frontier: Page[Reference]


def dependents(store: Store, key: str, depth: int) -> tuple[dict[str, int], dict[str, int]]:
    """(least depth over any resolved edge, least depth over exact edges only) of every
    entity that reaches ``key`` within ``depth`` edges (calls, imports, inherits)."""
    any_d: dict[str, int] = {}
    exact_d: dict[str, int] = {}
    f_any, f_exact = {key}, {key}
    for d in range(1, depth + 1):
        if not f_any and not f_exact:
            break
        n_any: set[str] = set()
        n_exact: set[str] = set()
        for e in store.edges_to(f_any | f_exact):
            src = e.src
            if src == key:
                continue
            if e.dst in f_any and src not in any_d:
                any_d[src] = d
                n_any.add(src)
            if e.resolution == Resolution.EXACT and e.dst in f_exact and src not in exact_d:
                exact_d[src] = d
                n_exact.add(src)
        f_any, f_exact = n_any, n_exact
    return any_d, exact_d


def unresolved_calls(store: Store, name: str) -> list[Edge]:
    """Calls left unresolved whose candidate names include ``name``: read by the store's
    index of match names, unresolved calls only (``Store.unresolved_calls_naming``), not by
    scanning every edge."""
    found = [
        e
        for e in store.unresolved_calls_naming(name)
        if e.kind == EdgeKind.CALLS
        and e.resolution == Resolution.UNRESOLVED
        # every match name is a part of the target or of a candidate: a cheap test first
        # (most calls the store gives are its sources' other unresolved calls)
        and (name in e.target_name or any(name in c for c in e.candidates))
        and name in edge_match_names(e)
    ]
    found.sort(key=lambda e: (e.path, e.line, e.src))
    return found


def impact(store: Store, target: Entity, depth: int = 3, limit: int | None = None) -> Impact:
    """The provenance-split impact of ``target`` (each part paged by ``limit``)."""
    any_d, exact_d = dependents(store, target.key, depth)
    ents = store.get_entities(any_d)

    def reached(depths: dict[str, int]) -> list[Reached]:
        out = [Reached(ents[k], d, target.key) for k, d in depths.items() if k in ents]
        out.sort(key=lambda r: (r.depth, r.entity.path, r.entity.start_line, r.entity.key))
        return out

    certain = reached(exact_d)
    possible = reached({k: d for k, d in any_d.items() if k not in exact_d})
    loose = unresolved_calls(store, target.name)
    srcs = store.get_entities(e.src for e in loose[: limit if limit is not None else None])
    frontier = paginate(loose, limit).map(lambda e: Reference(e, srcs.get(e.src)))
    return Impact(target, depth, paginate(certain, limit), paginate(possible, limit), frontier)
