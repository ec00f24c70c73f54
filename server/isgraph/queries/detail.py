"""One symbol in depth: what an agent reads before it edits or calls it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isgraph.model import Entity
from isgraph.queries import graph
from isgraph.queries.page import Page, paginate
from isgraph.queries.source import read_lines
from isgraph.store.base import Store


@dataclass(slots=True, frozen=True)
class Detail:
    """An entity with its fqn, enrichment metadata, source excerpt, direct callers and
    callees, and (for types) bases, subclasses and members."""

    entity: Entity
    source: str | None
    source_truncated: bool
    callers: Page[graph.Reached]
    callees: Page[graph.Reached]
    bases: list[Entity]
    subclasses: list[Entity]
    members: Page[Entity]

    def record(self) -> dict[str, Any]:
        e = self.entity
        out: dict[str, Any] = {**e.record(), "fqn": e.fqn, "metadata": metadata(e.metadata)}
        out["source"] = self.source
        out["source_truncated"] = self.source_truncated
        out["callers"] = self.callers.record(_brief_reached)
        out["callees"] = self.callees.record(_brief_reached)
        if self.bases or self.subclasses or self.members.total:
            out["bases"] = [brief(b) for b in self.bases]
            out["subclasses"] = [brief(s) for s in self.subclasses]
            out["members"] = self.members.record(brief)
        return out


def brief(e: Entity) -> dict[str, Any]:
    """The few fields an agent needs to name and find an entity."""
    return {
        "key": e.key,
        "kind": e.kind,
        "qualname": e.qualname,
        "signature": e.signature,
        "path": e.path,
        "line": e.start_line,
    }


def _brief_reached(r: graph.Reached) -> dict[str, Any]:
    return {**brief(r.entity), "depth": r.depth}


def metadata(text: str | None) -> Any:
    """Stored metadata as JSON (enrichment stores a JSON object), else the raw text."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def detail(
    store: Store, root: Path, entity: Entity, *, limit: int = 10, max_lines: int = 60
) -> Detail:
    """``entity`` in depth; lists paged by ``limit``, the source cut at ``max_lines``."""
    got = read_lines(root, entity, max_lines) if max_lines > 0 else None
    callers = graph.reach(store, [entity], "callers", 1, limit)
    callees = graph.reach(store, [entity], "callees", 1, limit)
    bases = graph.hierarchy(store, entity.key, supertypes=True)
    subclasses = graph.hierarchy(store, entity.key, supertypes=False)
    members: list[Entity] = []
    if entity.kind != "module" and entity.kind not in ("function", "method"):
        members = [e for e in store.find_entities(path=entity.path) if e.parent == entity.key]
    return Detail(
        entity,
        got[0] if got else None,
        got[1] if got else False,
        callers,
        callees,
        bases,
        subclasses,
        paginate(members, limit),
    )
