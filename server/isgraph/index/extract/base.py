"""What every language extractor returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from isgraph.model import Alias, Edge, Entity, Site

# Fields that hold the name a reference ends in: Python `attribute`, JS `property`, Go/Rust
# `field`, most grammars' `name` (scoped identifiers, qualified names, method invocations).
_NAME_FIELDS = ("attribute", "property", "field", "name")


def name_site(node: Node) -> Site:
    """The site of the name a reference ends in: ``helper`` of ``self.helper``, ``Join`` of
    ``path.Join``, ``b`` of ``a::b`` — where an editor puts a reference's range (the
    word a user renames), not the start of the whole expression."""
    for _ in range(8):
        for name in _NAME_FIELDS:
            child = node.child_by_field_name(name)
            if child is not None:
                node = child
                break
        else:
            break
    row, col = node.start_point
    return (row + 1, col)


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
