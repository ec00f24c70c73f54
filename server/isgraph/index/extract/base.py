"""What every language extractor returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from isgraph.model import Alias, Edge, Entity


@dataclass(slots=True)
class Extraction:
    """Entities, edges and import aliases of one file.

    ``syntax_error`` is None for a clean parse, else a short description of the first error
    (e.g. ``"syntax error at line 12"``); the entities that did parse are still returned.
    """

    entities: list[Entity] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    syntax_error: str | None = None
