"""An in-memory symbol table for resolving the whole store at once.

`resolve.Resolver` reads the store through bounded caches: a batch of edges misses, the
resolver fetches what it missed in one query per kind, and tries again (a few rounds per
batch). That keeps memory flat for a small re-resolution, but a full one (a cold build, a
large change, a run after a crash) pays tens of thousands of small store queries: on the
stdlib most of resolution's time. `SymbolTable` instead reads, a chunk of files at a time
(`Store.symbol_rows`), what the rules can ask about — every entity's names, key, kind, path
and return annotation, every alias, every ``inherits`` edge — and `TableResolver` answers the
rules' lookups from it, never missing. The rules themselves are `Resolver`'s, untouched.

Memory grows with the number of *names* (tens of bytes of fields per entity; docstrings,
metadata and positions are left in the store), not with file contents or edges.
"""

from __future__ import annotations

from dataclasses import dataclass

from isgraph.index.gobuild import DIRECTIVE
from isgraph.index.resolve import Resolver, base_order, family
from isgraph.index.stubs import is_external
from isgraph.memory import release_memory
from isgraph.model import Edge, Entity
from isgraph.store.base import Store, SymbolRows

# The kinds `Store.methods_named` returns (the `?name` / `%T.name` heuristics' universe).
_NAMED_KINDS = frozenset({"method", "property"})
# Entities a name-uniqueness guess keeps per language family (see `Resolver._fetch`).
_NAMED_PER_FAMILY = 2


@dataclass(slots=True)
class SymbolTable:
    """What `Resolver`'s rules read, for the whole store, in the orders the store's lookups
    give (so that ties are broken as they are on the cached path)."""

    by_fqn: dict[str, list[Entity]]  # each list by (path, start_line, key)
    by_key: dict[str, Entity]
    aliases: dict[str, tuple[str, bool]]  # fqn -> (target, defined in a stub)
    named: dict[str, list[Entity]]  # method name -> at most 2 per family, not in stubs
    inherits: dict[str, list[Edge]]  # class key -> its inherits edges, in source order

    @classmethod
    def load(cls, store: Store) -> SymbolTable:
        """The table of every file of ``store`` (read a chunk of files at a time)."""
        builder = _Builder()
        for rows in store.symbol_rows():
            builder.add(rows)
        table = builder.table()
        release_memory(force=True)  # the reads' buffers (~35 MB of RSS on the stdlib)
        return table


class _Builder:
    """Accumulates `SymbolRows` chunk by chunk; `table()` orders what needs an order."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}  # one copy of each repeated short string (path, kind)
        self.by_key: dict[str, Entity] = {}
        self.by_fqn: dict[str, list[Entity]] = {}
        self.methods: dict[str, list[Entity]] = {}  # every method/property by name
        self.aliases: dict[str, list[tuple[bool, str, str]]] = {}  # (in a stub, path, target)
        self.inherits: dict[str, list[Edge]] = {}

    def add(self, rows: SymbolRows) -> None:
        strings = self.strings
        for e in rows.entities:
            e.language = strings.setdefault(e.language, e.language)
            e.kind = strings.setdefault(e.kind, e.kind)
            e.path = strings.setdefault(e.path, e.path)
            # Resolution reads a signature only for an `async ` prefix, a `-> T` annotation
            # or a Go file's build constraint (`index.gobuild`).
            sig = e.signature
            if not (sig.startswith(("async ", DIRECTIVE)) or "->" in sig):
                e.signature = ""
            self.by_key[e.key] = e
            self.by_fqn.setdefault(e.fqn, []).append(e)
            if e.kind in _NAMED_KINDS:
                self.methods.setdefault(e.name, []).append(e)
        for a in rows.aliases:
            self.aliases.setdefault(a.fqn, []).append((is_external(a.path), a.path, a.target))
        for edge in rows.inherits:
            self.inherits.setdefault(edge.src, []).append(edge)

    def table(self) -> SymbolTable:
        by_key = self.by_key
        for e in by_key.values():  # the parent's own key string, not a copy per child
            if e.parent is not None:
                parent = by_key.get(e.parent)
                if parent is not None:
                    e.parent = parent.key
        for ents in self.by_fqn.values():  # as `Store.entities_by_fqn` orders them
            if len(ents) > 1:
                ents.sort(key=lambda e: (e.path, e.start_line, e.key))
        # `?name`: only uniqueness matters; the first two per family in key order (the
        # order `Store.methods_named` gives), never a stub's (see `Resolver._fetch`).
        named: dict[str, list[Entity]] = {}
        for name, ents in self.methods.items():
            kept: list[Entity] = []
            per: dict[str, int] = {}
            for e in sorted(ents, key=lambda e: e.key):
                fam = family(e.language)
                if not is_external(e.path) and per.get(fam, 0) < _NAMED_PER_FAMILY:
                    per[fam] = per.get(fam, 0) + 1
                    kept.append(e)
            named[name] = kept
        # One alias per name: the workspace's before a stub's, then by path (`Store.aliases`).
        aliases = {fqn: (min(found)[2], min(found)[0]) for fqn, found in self.aliases.items()}
        for edges in self.inherits.values():
            edges.sort(key=base_order)  # as `Resolver._fetch` orders them
        return SymbolTable(self.by_fqn, by_key, aliases, named, self.inherits)


_NONE: list[Entity] = []
_NO_EDGES: list[Edge] = []


class TableResolver(Resolver):
    """`Resolver`'s rules over a `SymbolTable`: no lookup misses, so no fetch rounds."""

    def __init__(self, store: Store, table: SymbolTable) -> None:
        super().__init__(store)
        self.table = table

    def _entities(self, fqn: str) -> list[Entity]:
        return self.table.by_fqn.get(fqn, _NONE)

    def _entity_by_key(self, key: str) -> Entity | None:
        return self.table.by_key.get(key)

    def _alias_of(self, fqn: str) -> tuple[str, bool] | None:
        return self.table.aliases.get(fqn)

    def _by_name(self, name: str) -> list[Entity]:
        return self.table.named.get(name, _NONE)

    def _inherits_of(self, key: str) -> list[Edge]:
        return self.table.inherits.get(key, _NO_EDGES)
