"""Graph queries shared by the fronts (CLI, language server): the same records either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from isgraph.model import Edge, EdgeKind, Entity
from isgraph.store.base import Reach, Store

Walk = Callable[[Store, str, int], list[Reach]]
Direction = Literal["callers", "callees"]


def find_targets(store: Store, name_or_key: str) -> list[Entity]:
    """The entities a user means by a key, a bare name or a qualified name (``Class.method``,
    or a fully qualified one); empty when nothing matches."""
    ent = store.get_entity(name_or_key)
    if ent is not None:
        return [ent]
    found = store.find_entities(name=name_or_key)
    if not found:
        found = [
            e
            for e in store.find_entities(name=name_or_key.rsplit(".", 1)[-1])
            if e.qualname == name_or_key or e.fqn == name_or_key
        ]
    return found


def reach_records(
    store: Store,
    targets: list[Entity],
    walk: Walk,
    depth: int,
    direction: Direction | None = None,
) -> list[dict[str, Any]]:
    """What ``walk`` (callers, callees, impact) reaches from each target, as entity records
    with ``depth`` and ``target`` (the target's key), nearest first. With a ``direction``
    (the walk follows calls that way), each record also lists ``sites``: every call site
    (``path``, ``line``, ``col``) of the calls that link it to the level before."""
    records: list[dict[str, Any]] = []
    for target in targets:
        reach = walk(store, target.key, depth)
        ents = store.get_entities(r.key for r in reach)
        sites = _link_sites(store, target.key, reach, direction) if direction else {}
        for r in reach:
            ent = ents.get(r.key)
            if ent is not None:
                rec = {**ent.record(), "depth": r.depth, "target": target.key}
                if direction:
                    rec["sites"] = sites.get(r.key, [])
                records.append(rec)
    records.sort(key=lambda r: (r["depth"], r["path"], r["start_line"]))
    return records


def _link_sites(
    store: Store, start: str, reach: list[Reach], direction: Direction
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
