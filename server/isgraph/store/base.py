"""The Store protocol: the only view of storage the rest of isgraph has.

Writes come only from the writer coroutine (one per store connection); reads may come from
anywhere. Every write method is one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from isgraph.model import (
    Alias,
    Edge,
    EdgeKind,
    Entity,
    FileResult,
    FileState,
    Resolution,
    edge_match_names,
    encode_sites,
)

# Store meta flag: "1" from the first write of an index run until its resolution is done, so
# a run cut short (even before resolution starts) is resolved in full by the next one, and
# queries can say that the index they answer from is incomplete.
RESOLVE_PENDING = "resolve_pending"
# Store meta: the root directory an embedded store indexes (queries refuse another root's).
ROOT_META = "root"


class StoreError(Exception):
    """A store failure with a message fit for a user (one line)."""


class StoreLockedError(StoreError):
    """The store is held by another process (e.g. RocksDB's single-process LOCK)."""


class SchemaMismatchError(StoreError):
    """The store was written by an incompatible schema version."""


@dataclass(slots=True, frozen=True)
class EdgeUpdate:
    """A resolver's verdict for one stored edge (identified by its store identity)."""

    path: str
    src: str
    kind: str
    target_name: str
    dst: str | None
    resolution: str


@dataclass(slots=True)
class SymbolRows:
    """What a resolution of the whole store reads of some files (`index.symbols.SymbolTable`),
    instead of many rounds of small lookups: their entities without what resolution never
    reads (``doc``, ``metadata``, columns: 0), their aliases, their ``inherits`` edges."""

    entities: list[Entity]
    aliases: list[Alias]
    inherits: list[Edge]


SYMBOL_CHUNK_FILES = 200  # files whose rows one read of `symbol_rows` brings in

# (query, params) -> rows, as a backend reads; the three symbol queries of a backend
Read = Callable[[str, dict[str, Any]], Iterable[Sequence[Any]]]


def read_symbol_rows(
    paths: Iterable[str],
    read: Read,
    queries: tuple[str, str, str],
    edge: Callable[[Sequence[Any]], Edge],
) -> Iterator[SymbolRows]:
    """`Store.symbol_rows` for a backend: its entity, alias and inherits queries (each taking
    ``$paths`` / ``%(paths)s`` and giving the columns below) read ``SYMBOL_CHUNK_FILES`` files
    at a time, so one read never holds every row of the store at once."""
    ordered = sorted(paths)
    ents_q, aliases_q, inherits_q = queries
    for i in range(0, len(ordered), SYMBOL_CHUNK_FILES):
        params: dict[str, Any] = {"paths": ordered[i : i + SYMBOL_CHUNK_FILES]}
        entities = [
            Entity(k, lang, kind, name, qn, path, line, 0, 0, 0, sig, "", parent, fqn)
            for k, lang, kind, name, qn, path, line, sig, parent, fqn in read(ents_q, params)
        ]
        aliases = [Alias(p, f, t) for f, p, t in read(aliases_q, params)]
        yield SymbolRows(entities, aliases, [edge(r) for r in read(inherits_q, params)])


@dataclass(slots=True, frozen=True)
class Reach:
    """One entity reached by a traversal, with its distance from the start."""

    key: str
    depth: int


@dataclass(slots=True)
class Stats:
    files: int
    entities: int
    edges: int
    entities_by_kind: dict[str, int]
    entities_by_language: dict[str, int]
    edges_by_kind: dict[str, int]
    edges_by_resolution: dict[str, int]

    def record(self) -> dict[str, object]:
        return {
            "files": self.files,
            "entities": self.entities,
            "edges": self.edges,
            "entities_by_kind": self.entities_by_kind,
            "entities_by_language": self.entities_by_language,
            "edges_by_kind": self.edges_by_kind,
            "edges_by_resolution": self.edges_by_resolution,
        }


def edge_row(e: Edge) -> list[Any]:
    """An edge as both stores write it: path, src, kind, target_name, dst, resolution, line,
    candidates, sites (``model.encode_sites``)."""
    return [
        e.path,
        e.src,
        str(e.kind),
        e.target_name,
        e.dst,
        str(e.resolution),
        e.line,
        list(e.candidates),
        encode_sites(e.sites),
    ]


def match_rows(edges: Iterable[Edge]) -> list[tuple[str, str, list[str]]]:
    """The ``edge_match`` rows of some edges: (path, match name, sources), one per match name
    of an edge with candidates (``model.edge_match_names``; the others were decided at
    extraction, in their own file: no other file's change alters them), and of a call
    without candidates left unresolved (a call on a value of unknown type, ``err.decode()``:
    nothing re-resolves it, but an impact's frontier lists it; a recheck reads such a file
    and keeps none of its edges).

    ``sources``: the keys of the sources of those calls under that name, sorted. They let an
    impact's unresolved frontier (``Store.unresolved_calls_naming``) reach those calls by
    key, a few seeks, instead of reading every edge of every file that names it. Every call
    with candidates is listed whatever its resolution, which changes without the match names
    being rewritten (an exact call becomes unresolved when its target vanishes). (How a store
    keeps them is its own: CozoStore packs them.)"""
    srcs: dict[tuple[str, str], set[str]] = {}
    for e in edges:
        call = e.kind == EdgeKind.CALLS
        if not e.candidates and not (call and e.resolution == Resolution.UNRESOLVED):
            continue
        for name in edge_match_names(e):
            held = srcs.setdefault((e.path, name), set())
            if call:
                held.add(e.src)
    return [(path, name, sorted(held)) for (path, name), held in sorted(srcs.items())]


def fold_stats(
    files: Iterable[Sequence[Any]],
    entities: Iterable[Sequence[Any]],
    edges: Iterable[Sequence[Any]],
    *,
    stubs: bool,
) -> Stats:
    """Stats from grouped counts: files (external, n), entities (kind, language, external,
    n), edges (kind, resolution, external, n); rows of external files (typeshed stubs) count
    only with ``stubs``."""
    ent_kind: dict[str, int] = defaultdict(int)
    ent_lang: dict[str, int] = defaultdict(int)
    for kind, language, external, n in entities:
        if stubs or not external:
            ent_kind[kind] += n
            ent_lang[language] += n
    edge_kind: dict[str, int] = defaultdict(int)
    by_res = {r.value: 0 for r in Resolution}
    for kind, resolution, external, n in edges:
        if stubs or not external:
            edge_kind[kind] += n
            by_res[resolution] = by_res.get(resolution, 0) + n
    return Stats(
        files=sum(n for external, n in files if stubs or not external),
        entities=sum(ent_kind.values()),
        edges=sum(by_res.values()),
        entities_by_kind=dict(ent_kind),
        entities_by_language=dict(ent_lang),
        edges_by_kind=dict(edge_kind),
        edges_by_resolution=by_res,
    )


@runtime_checkable
class BulkLoad(Protocol):
    """A store that loads an empty store faster with some of its secondary indices built
    once at the end (the cold build path, `index.service`). Only the writer's thread calls
    these; reads stay correct meanwhile (a read that needs a deferred index builds it first).
    A store that does not offer this (PostgreSQL, a shard's view) is written as always."""

    def begin_bulk(self) -> bool:
        """Enter bulk mode if the store holds no file yet (else do nothing); whether it did."""
        ...

    def end_bulk(self, build: bool = True) -> None:
        """Leave bulk mode and build the deferred indices (nothing if not in it). With
        ``build=False`` (a run cut short: its front must end in seconds) they stay deferred:
        built by the first read or write that needs one, or when the store is next opened."""
        ...


class Store(Protocol):
    """Storage backend. Implementations: ``store.cozo.CozoStore`` (mem/sqlite/rocksdb)."""

    url: str

    def close(self) -> None: ...

    # -- writes (writer coroutine only) -------------------------------------------------
    def write_files(self, results: Sequence[FileResult], removed: Sequence[str] = ()) -> None:
        """One transaction: for each result, replace the file's old rows (entities, edges,
        aliases, file row) with the new ones; delete every row of each ``removed`` path. Edges
        (from any file) to an entity that is gone after the write become ``unresolved`` with
        no ``dst`` in the same transaction: no edge ever dangles."""
        ...

    def update_edges(self, updates: Sequence[EdgeUpdate]) -> None:
        """One transaction: set ``dst``/``resolution`` of existing edges."""
        ...

    def add_edges(self, edges: Sequence[Edge], hashes: Sequence[tuple[str, str]]) -> None:
        """One transaction: insert the deferred calls of the files in ``hashes`` (decided;
        see `index.spool`) and set each file's hash. Only files whose stored hash is still
        empty (waiting for them) take them, and only edges whose source entity exists."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Record a store-level fact (e.g. ``resolve_pending``)."""
        ...

    def set_metadata(self, rows: Sequence[tuple[str, str | None]]) -> None:
        """One transaction: set the ``metadata`` of existing entities by key (enrichment);
        keys that no longer exist are skipped."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def edge_paths_to_recheck(self, names: Iterable[str]) -> set[str]:
        """Paths holding non-exact edges with one of ``names`` among their match names
        (``model.edge_match_names``; ``names``: the match names of what a change defined or
        removed): the edges whose resolution the change may alter. An index lookup, not a
        scan: the store keeps each file's match names (``write_files``, ``add_edges``)."""
        ...

    # -- reads ------------------------------------------------------------------------------
    def file_states(self) -> dict[str, FileState]: ...

    def get_entity(self, key: str) -> Entity | None: ...

    def get_entities(self, keys: Iterable[str]) -> dict[str, Entity]: ...

    def find_entities(
        self,
        *,
        name: str | None = None,
        name_contains: str | None = None,
        kind: str | None = None,
        path: str | None = None,
        limit: int | None = None,
    ) -> list[Entity]:
        """Entities matching every given filter, ordered by path then start line."""
        ...

    def entities_by_fqn(self, fqns: Iterable[str]) -> dict[str, list[Entity]]: ...

    def methods_named(self, names: Iterable[str]) -> dict[str, list[Entity]]:
        """Entities of kind method/property/classmethod... by bare name (for heuristics)."""
        ...

    def aliases_of(self, path: str) -> list[Alias]:
        """Every alias a file binds (for what other files can see of it), sorted."""
        ...

    def aliases(self, fqns: Iterable[str]) -> dict[str, Alias]:
        """One alias per name; where the workspace and a typeshed stub both bind the name
        (the workspace defines a module of the standard library), the workspace's."""
        ...

    def edges(
        self,
        *,
        kind: str | None = None,
        path: str | None = None,
        src: str | None = None,
        dst: str | None = None,
        resolution: str | None = None,
    ) -> list[Edge]:
        """Edges matching every given filter, ordered by path then line."""
        ...

    def edges_from_paths(self, paths: Iterable[str]) -> list[Edge]: ...

    def unresolved_calls_naming(self, name: str) -> list[Edge]:
        """Unresolved ``calls`` edges of the entities that hold a call with candidates that
        may name ``name`` (``match_rows``: the match names with the calls' sources), in one
        read: an impact's unresolved frontier reads those sources' calls by key instead of
        every edge of every file naming it. Among them are those sources' other unresolved
        calls: the caller keeps the edges that do name it (`model.edge_match_names`)."""
        ...

    def edges_to(self, dsts: Iterable[str]) -> list[Edge]:
        """Edges (any kind, exact or inferred) whose ``dst`` is one of ``dsts``, ordered by
        path then line: one layer of a walk towards dependents in one query, for walks that
        must see each edge's resolution (``queries.impact``)."""
        ...

    def edges_from_srcs(self, srcs: Iterable[str], kind: str) -> list[Edge]:
        """Edges of one kind leaving any of ``srcs`` (one query for many entities)."""
        ...

    def symbol_rows(self) -> Iterator[SymbolRows]:
        """The entities (slim), aliases and ``inherits`` edges of every file (see
        ``SymbolRows``), a few hundred files per chunk: one read of the whole store would
        hold every row at once (~250 MB more peak RSS on the stdlib)."""
        ...

    def callers(self, key: str, depth: int = 1) -> list[Reach]:
        """Entities with a resolved ``calls`` path of length <= depth to ``key``."""
        ...

    def callees(self, key: str, depth: int = 1) -> list[Reach]: ...

    def impact(self, key: str, depth: int = 3) -> list[Reach]:
        """Transitive dependents: entities that reach ``key`` through any resolved edge."""
        ...

    def cycles(self, kind: str = "calls", limit: int = 100) -> list[list[str]]:
        """Strongly connected components (size > 1, or self-loops) of resolved edges."""
        ...

    def search(self, query: str, limit: int = 20) -> list[Entity]:
        """Ranked fuzzy name search."""
        ...

    def stats(self, stubs: bool = False) -> Stats:
        """Full breakdown (scans every row: for ``isgraph stats``, not hot paths). Rows of
        external files (typeshed stubs, ``@…`` paths) count only with ``stubs``."""
        ...

    def known_repos(self) -> list[str] | None:
        """The repositories a shared store holds (PostgreSQL: those with files), to say so
        when the asked one is not among them; None for a store of one workspace."""
        ...

    def counts(self) -> tuple[int, int, int]:
        """(files, entities, edges), cheaply."""
        ...
