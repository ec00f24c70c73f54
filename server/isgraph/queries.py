"""Graph queries shared by the fronts (CLI, language server): the same records either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isgraph.model import Entity
from isgraph.store.base import Reach, Store

Walk = Callable[[Store, str, int], list[Reach]]


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
    store: Store, targets: list[Entity], walk: Walk, depth: int
) -> list[dict[str, Any]]:
    """What ``walk`` (callers, callees, impact) reaches from each target, as entity records
    with ``depth`` and ``target`` (the target's key), nearest first."""
    records: list[dict[str, Any]] = []
    for target in targets:
        reach = walk(store, target.key, depth)
        ents = store.get_entities(r.key for r in reach)
        for r in reach:
            ent = ents.get(r.key)
            if ent is not None:
                records.append({**ent.record(), "depth": r.depth, "target": target.key})
    records.sort(key=lambda r: (r["depth"], r["path"], r["start_line"]))
    return records
