"""What the word under a cursor means: the identifier at a position, answered for itself.

Every other language server answers for the symbol under the cursor, so the fronts (hover,
definition, references, call/type hierarchy, code actions) ask here instead of taking the
enclosing function. A word is either a *reference* — the name at one of an edge's sites (a
call's callee, an imported name, a base class in a class's list), answered with the edge's
target, or as unresolved with the number of entities so named — or a *definition's own name*
(found in the file's text: entities do not store their name's column). Anything else (a local,
a keyword, whitespace) means nothing here.

Positions are 1-based lines and ``str`` indexes within the line (a front converts its own
encoding: LSP's UTF-16 units through `source.char_index`). Sites are UTF-8 byte columns as
tree-sitter reports them; they are converted with the line's text when it is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from isgraph.model import Edge, Entity, referenced_word
from isgraph.queries.lookup import TYPE_KINDS
from isgraph.queries.source import byte_to_index, name_position, utf16_len
from isgraph.store.base import RESOLVE_PENDING, Store

_WORD = re.compile(r"[\w$]+")


@dataclass(frozen=True, slots=True)
class Span:
    """A word's place: 1-based ``line``, ``start``/``end`` as ``str`` indexes in the line."""

    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Symbol:
    """What the word at a position means.

    ``entity``: the definition it names (a reference's resolved target, or the definition
    whose name it is); None for an unresolved reference. ``edge``: the reference under the
    cursor (None on a definition's own name). ``candidates``: for an unresolved reference,
    how many entities carry its name (what a guess would have to choose from).
    ``provisional``: the reference is not decided yet (the store's resolution is pending) and
    ``entity`` is the one definition of that name — an `inferred` answer until it is."""

    word: str
    span: Span
    entity: Entity | None
    edge: Edge | None = None
    candidates: int = 0
    provisional: bool = False  # see `_provisional`: a guess while resolution is pending

    @property
    def unresolved(self) -> bool:
        return self.entity is None


def word_at(text: str, index: int) -> tuple[int, int] | None:
    """The identifier of ``text`` that holds ``index`` (or ends at it: a cursor just after
    a word is on it), as (start, end) ``str`` indexes."""
    for found in _WORD.finditer(text):
        if found.start() <= index <= found.end():
            return found.start(), found.end()
        if found.start() > index:
            break
    return None


def symbol_at(
    store: Store, path: str, line: int, index: int, lines: Sequence[str] | None
) -> Symbol | None:
    """The meaning of the word at (``line`` 1-based, ``index`` in the line) of ``path``:
    a reference first (the innermost site holding the cursor), then a definition's name.
    ``lines``: the file's text as the editor holds it (None: columns taken as ASCII, and no
    definition names are found)."""
    text = lines[line - 1] if lines is not None and 0 < line <= len(lines) else None
    ref = _reference_at(store, path, line, index, text)
    if ref is not None:
        return ref
    if lines is None:
        return None
    for ent in store.find_entities(path=path):
        pos = name_position(lines, ent)
        if pos is None or pos[0] != line - 1 or text is None:
            continue
        start = _utf16_to_index(text, pos[1])
        if start <= index <= start + len(ent.name):
            return Symbol(ent.name, Span(line, start, start + len(ent.name)), ent)
    return None


def _reference_at(
    store: Store, path: str, line: int, index: int, text: str | None
) -> Symbol | None:
    best: tuple[int, Edge, str, int] | None = None
    for edge in store.edges(path=path):
        word = referenced_word(edge.target_name)
        if not word:
            continue
        for ln, col in edge.occurrences():
            if ln != line:
                continue
            start = byte_to_index(text, col) if text is not None else col
            if text is not None and text[start : start + len(word)] != word:
                continue  # the file changed since it was indexed: not this word any more
            if start <= index <= start + len(word) and (best is None or start > best[0]):
                best = (start, edge, word, ln)
    if best is None:
        return None
    start, edge, word, ln = best
    span = Span(ln, start, start + len(word))
    target = store.get_entity(edge.dst) if edge.dst else None
    if target is not None:
        return Symbol(word, span, target, edge)
    named = store.find_entities(name=word)
    guess = _provisional(store, edge, path, named)
    if guess is not None:
        return Symbol(word, span, guess, edge, candidates=len(named), provisional=True)
    return Symbol(word, span, None, edge, candidates=len(named))


# What a reference of each kind can name, for a guess while resolution is pending (imports
# name modules by path: no guess by a bare name).
_GUESSABLE = {
    "calls": frozenset({"function", "method", "class", "struct", "macro"}),
    "inherits": TYPE_KINDS,
}


def _provisional(store: Store, edge: Edge, path: str, named: Sequence[Entity]) -> Entity | None:
    """While the store's edges wait for resolution (the first index of a large folder, a
    change not yet resolved), an unresolved reference is usually just *not decided yet*.
    Rather than answer nothing for seconds, take the definition of that name in the same
    file if there is exactly one, else the only one in the workspace; several: no guess.
    Once resolution has run, its verdict stands (this is never consulted)."""
    if store.get_meta(RESOLVE_PENDING) != "1":
        return None
    kinds = _GUESSABLE.get(str(edge.kind))
    if kinds is None:
        return None
    fits = [e for e in named if e.kind in kinds]
    local = [e for e in fits if e.path == path]
    if len(local) == 1:
        return local[0]
    return fits[0] if len(fits) == 1 else None


def _utf16_to_index(text: str, units: int) -> int:
    """The ``str`` index at ``units`` UTF-16 code units into ``text``."""
    for i in range(len(text) + 1):
        if utf16_len(text[:i]) >= units:
            return i
    return len(text)


def name_span(lines: Sequence[str] | None, ent: Entity) -> Span | None:
    """Where an entity's name is written at its definition (its selection range), when the
    file's text is known."""
    if lines is None:
        return None
    pos = name_position(lines, ent)
    if pos is None:
        return None
    start = _utf16_to_index(lines[pos[0]], pos[1])
    return Span(pos[0] + 1, start, start + len(ent.name))
