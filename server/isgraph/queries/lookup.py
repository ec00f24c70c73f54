"""Finding entities: by key or name, by position in a file, by ranked search, by filters."""

from __future__ import annotations

from collections.abc import Collection

from isgraph.model import Entity, is_external
from isgraph.queries.page import Page, paginate
from isgraph.store.base import Store

TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum"})


class QueryError(ValueError):
    """A query's arguments name nothing or are out of range; the message is for a user."""


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


NEAREST = 5  # names suggested for a symbol that matches nothing


def require_targets(store: Store, name_or_key: str) -> list[Entity]:
    """`find_targets`, or a `QueryError` ("no such symbol") naming the nearest names."""
    found = find_targets(store, name_or_key)
    if not found:
        near = nearest_names(store, name_or_key.rsplit(".", 1)[-1])
        hint = f"; nearest: {', '.join(near)}" if near else ""
        raise QueryError(f"no such symbol {name_or_key!r} (no entity has that name or key){hint}")
    return found


def nearest_names(store: Store, name: str, limit: int = NEAREST) -> list[str]:
    """Qualified names close to ``name``: ranked search on ever shorter prefixes of it, until
    one answers (``Engin`` finds ``Engine``; ``dumpz`` finds ``dump``, ``dumps``)."""
    for end in range(len(name), 1, -1):
        found = store.search(name[:end], limit)
        if found:
            return list(dict.fromkeys(e.qualname for e in found))
    return []


def innermost(ents: Collection[Entity], line: int, kinds: Collection[str] = ()) -> Entity | None:
    """The smallest of ``ents`` whose lines hold ``line`` (1-based), of ``kinds`` if given."""
    inside = [
        e for e in ents if e.start_line <= line <= e.end_line and (not kinds or e.kind in kinds)
    ]
    return min(inside, key=lambda e: e.end_line - e.start_line, default=None)


def entity_at(store: Store, path: str, line: int, kinds: Collection[str] = ()) -> Entity | None:
    """The innermost entity of a file whose lines contain ``line`` (1-based)."""
    return innermost(store.find_entities(path=path), line, kinds)


# Path parts and file suffixes of code a project carries but did not write: left out of search
# unless asked for (a minified bundle's thousand one-letter names would drown the answer).
VENDORED_DIRS = frozenset({"vendor", "vendored", "third_party", "node_modules", "bower_components"})
MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".min.cjs", "-min.js", ".bundle.js")


def is_vendored(path: str) -> bool:
    """A vendored or minified file (``vendor/``, ``third_party/``, ``*.min.js``…)."""
    parts = path.split("/")
    return path.endswith(MINIFIED_SUFFIXES) or any(p in VENDORED_DIRS for p in parts[:-1])


def qualified(store: Store, query: str) -> list[Entity]:
    """The entities a dotted name means as people type it: ``Class.method``,
    ``module.function``, ``package.module.function`` — a qualname, or a dotted suffix of the
    fully qualified name (whole parts only); the qualifier's case is ignored when nothing
    matches as typed (the last part is looked up by index, as typed)."""
    q = query.strip()
    last = q.rsplit(".", 1)[-1]
    if "." not in q or not last:
        return []
    named = store.find_entities(name=last)  # an index lookup: the last part's case as typed

    def means(e: Entity, fold: bool) -> bool:
        qn, fqn, want = e.qualname, e.fqn, q
        if fold:
            qn, fqn, want = qn.lower(), fqn.lower(), want.lower()
        return qn == want or fqn == want or fqn.endswith("." + want)

    return [e for e in named if means(e, False)] or [e for e in named if means(e, True)]


def search(
    store: Store, query: str, limit: int = 20, *, stubs: bool = True, vendored: bool = True
) -> Page[Entity]:
    """Ranked fuzzy search over names (``Store.search``'s tiers); a dotted query
    (``Class.method``, ``pkg.mod.func``) ranks what it qualifies first (`qualified`).
    ``stubs=False`` leaves out typeshed's stub files, ``vendored=False`` vendored and
    minified files (`is_vendored`). The total is a lower bound when the page is full:
    ranking stops once it has more than a page."""
    if limit < 1:
        raise QueryError(f"limit must be >= 1, got {limit}")

    def keep(e: Entity) -> bool:
        return (stubs or not is_external(e.path)) and (vendored or not is_vendored(e.path))

    exact = [e for e in qualified(store, query) if keep(e)]
    wanted = limit + 1 - len(exact)
    found: list[Entity] = []
    if wanted > 0:
        # Ranking cannot filter: ask for more while what it returns is filtered out.
        asked = wanted
        while True:
            ranked = store.search(query, asked)
            found = [e for e in ranked if keep(e)]
            if len(found) >= wanted or len(ranked) < asked or asked >= 64 * wanted:
                break
            asked *= 4
    seen = {e.key for e in exact}
    found = [*exact, *(e for e in found if e.key not in seen)]
    more = len(found) > limit
    return Page(found[:limit], len(found), more, None, total_exact=not more)


def symbols(
    store: Store,
    *,
    name_contains: str | None = None,
    kind: str | None = None,
    path: str | None = None,
    limit: int | None = None,
    stubs: bool = False,
) -> Page[Entity]:
    """Entities by name substring, kind and file (ordered by path, then line). Stub files
    are left out unless ``stubs`` or a ``path`` is given (they sort first, so they are
    filtered before the limit applies)."""
    ents = store.find_entities(name_contains=name_contains, kind=kind, path=path)
    if not (stubs or path is not None):
        ents = [e for e in ents if not is_external(e.path)]
    return paginate(ents, limit)
