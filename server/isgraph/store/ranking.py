"""Search ranking shared by backends that rank in Python (no database access here).

The tiers and tie-breaks are the ones ``CozoStore.search`` documents: exact name, prefix,
substring, camel-hump, subsequence (case-insensitive); within a tier shorter names first, then
higher-level entities (modules, top-level definitions, members), then source position; the
workspace's own definitions before typeshed stubs within a tier. ``store/cozo.py`` and
``store/postgres.py`` both rank with these; the contract suite checks that they agree.
"""

from __future__ import annotations

import re

from isgraph.model import Entity, is_external

WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def level(e: Entity) -> int:
    return level_of(e.kind, e.qualname)


def level_of(kind: str, qualname: str) -> int:
    # A module's qualname is its dotted module path: its dots say nothing about nesting.
    return 0 if kind == "module" else qualname.count(".") + 1


OrderKey = tuple[bool, int, str, int, str]  # stub?, level, path, start line, key


def order_key(e: Entity) -> OrderKey:
    """How entities of one name (so of one tier and length) are ordered by `order`."""
    return (is_external(e.path), level(e), e.path, e.start_line, e.key)


def tier(name: str, q: str) -> int | None:
    """Match quality of ``q`` (lowercase) against ``name``: 0 best; None when no match."""
    lname = name.lower()
    if lname == q:
        return 0
    if lname.startswith(q):
        return 1
    if q in lname:
        return 2
    if not is_subsequence(q, lname):
        return None
    return 3 if humps(q, [w.lower() for w in WORD.findall(name)]) else 4


def is_subsequence(q: str, s: str) -> bool:
    it = iter(s)
    return all(ch in it for ch in q)


def humps(q: str, words: list[str]) -> bool:
    """Camel-hump match: ``q`` splits into pieces, each a prefix of a later word than the last
    (``gse`` and ``getse`` match ``get_some_entity`` and ``getSomeEntity``)."""

    def go(qi: int, wi: int) -> bool:
        if qi == len(q):
            return True
        for w in range(wi, len(words)):
            word = words[w]
            k = 0
            while k < len(word) and qi + k < len(q) and word[k] == q[qi + k]:
                k += 1
            if any(go(qi + take, w + 1) for take in range(k, 0, -1)):
                return True
        return False

    return go(0, 0)


def take(ranked: list[tuple[int, int, str, int]], limit: int) -> list[str]:
    """Names of ``ranked`` (tier, length, name, entity count), sorted, up to the end of the
    (tier, length) group in which the entity count reaches ``limit``: the final order starts
    with (tier, length), so no entity that belongs in the answer is left unfetched."""
    wanted: list[str] = []
    total = 0
    cut: tuple[int, int] | None = None
    for t, length, name, count in ranked:
        if cut is not None and (t, length) != cut:
            break
        wanted.append(name)
        total += count
        if total >= limit and cut is None:
            cut = (t, length)
    return wanted


def order(ents: list[Entity], q: str) -> list[Entity]:
    """The final order of fetched entities (all of which match ``q``)."""

    def key(e: Entity) -> tuple[int, bool, int, int, str, int, str]:
        stub, lvl, path, line, k = order_key(e)  # the workspace's own definitions before stubs
        return (_tier_or_last(e.name, q), stub, len(e.name), lvl, path, line, k)

    return sorted(ents, key=key)


def _tier_or_last(name: str, q: str) -> int:
    t = tier(name, q)
    return 5 if t is None else t
