"""CozoDB store (embedded: mem, sqlite, rocksdb). The only module that imports pycozo.

Relations (``*`` marks keys):
  meta   {*k => v}
  file   {*path => language, hash, size, mtime_ns, status, error, entities, edges}
  entity {*key => language, kind, name, qualname, path, start_line, start_col, end_line,
          end_col, signature, doc, parent, fqn, metadata}      indices: by_path, by_fqn, by_name
  edge   {*src, *kind, *target_name => path, dst, resolution, line, candidates, sites}
                                                                index: by_dst
(An edge's ``src`` is always an entity of the edge's own file (write_files checks it), so a
file's edges are found through its entities: keying edges by ``src`` serves callees and file
replacement with one index fewer to maintain on every write.)
  alias  {*fqn, *path => target}                                index: by_path
  edge_match {*name, *path => srcs}                             index: by_path
(``edge_match``: the match names of a file's edges with candidates, ``model.edge_match_names``,
so that the edges a change may re-resolve are found by a key prefix, not by scanning every
edge; ``srcs``: the sources of the file's calls with candidates that have that match name
(``store.base.match_rows``), so that an impact's unresolved frontier reaches those calls by
key; packed without the path they share (``_pack_srcs``). Written with the edges, never
updated by resolution (it changes neither candidates nor names); a file's deferred calls
add their sources to its rows.)

Every write method is one Cozo transaction (a chain of ``{...}`` blocks in one script), so a
file's old rows and new rows change together; `CozoStore` explains how reads see one state.
Scripts are module constants: Cozo parses the text on each call, but building it once keeps
the hot paths (point lookups) lean. Graph traversals run in Cozo as recursive rules.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pycozo.client import Client, QueryException

from isgraph.memory import release_memory
from isgraph.model import (
    SCHEMA_VERSION,
    Alias,
    Edge,
    Entity,
    FileResult,
    FileState,
    decode_sites,
    edge_match_names,
    is_external,
    may_change_elsewhere,
)
from isgraph.store import ranking, rocksdb_options
from isgraph.store.base import (
    EdgeUpdate,
    Reach,
    SchemaMismatchError,
    Stats,
    StoreError,
    StoreLockedError,
    SymbolRows,
    edge_row,
    fold_stats,
    match_rows,
    read_symbol_rows,
)
from isgraph.store.names import SUFFIX as NAMES_SUFFIX
from isgraph.store.names import NameIndex
from isgraph.store.sqlite_checkpoint import Checkpointer

T = TypeVar("T")
log = logging.getLogger(__name__)

_ENTITY_COLS = (
    "key",
    "language",
    "kind",
    "name",
    "qualname",
    "path",
    "start_line",
    "start_col",
    "end_line",
    "end_col",
    "signature",
    "doc",
    "parent",
    "fqn",
    "metadata",
)
_EDGE_COLS = (
    "path",
    "src",
    "kind",
    "target_name",
    "dst",
    "resolution",
    "line",
    "candidates",
    "sites",
)
_FILE_COLS = (
    "path",
    "language",
    "hash",
    "size",
    "mtime_ns",
    "status",
    "error",
    "entities",
    "edges",
)
_E = ", ".join(_ENTITY_COLS)
_E_VALS = ", ".join(_ENTITY_COLS[1:])
_G = ", ".join(_EDGE_COLS)
_F = ", ".join(_FILE_COLS)

# (relation, :create statement, [(index name, index columns)]). Created idempotently on open.
SCHEMA: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("meta", ":create meta {k: String => v: String}", []),
    (
        "file",
        ":create file {path: String => language: String, hash: String, size: Int, mtime_ns: Int,"
        " status: String, error: String?, entities: Int, edges: Int}",
        [],
    ),
    (
        "entity",
        ":create entity {key: String => language: String, kind: String, name: String,"
        " qualname: String, path: String, start_line: Int, start_col: Int, end_line: Int,"
        " end_col: Int, signature: String, doc: String, parent: String?, fqn: String,"
        " metadata: String?}",
        [("by_path", "{path}"), ("by_fqn", "{fqn}"), ("by_name", "{name}")],
    ),
    (
        "edge",
        ":create edge {src: String, kind: String, target_name: String =>"
        " path: String, dst: String?, resolution: String, line: Int, candidates: [String],"
        " sites: String}",
        [("by_dst", "{dst, kind, src}")],
    ),
    (
        "alias",
        ":create alias {fqn: String, path: String => target: String}",
        [("by_path", "{path}")],
    ),
    (
        "edge_match",
        ":create edge_match {name: String, path: String => srcs: [(String, [String])]}",
        [("by_path", "{path, name}")],
    ),
]

# The indices a cold build (`begin_bulk`) builds once at the end instead of maintaining on every
# write: none of them is read while a build writes and resolves (a file's rows are found by
# `entity:by_path`, names by `entity:by_fqn`, aliases by `alias:by_path`, which stay). They are
# ~270k of the ~840k rows a cold stdlib build puts (edge:by_dst alone adds ~50 % to an edge
# put, measured: bench/store_load_bench.py and bench/README.md).
BULK_DEFERRED = (("edge", "by_dst"), ("edge_match", "by_path"), ("entity", "by_name"))

_INDEX_SPECS = {(name, index): spec for name, _, indices in SCHEMA for index, spec in indices}

_DELETE_PATHS = [  # edges first: they are found through the file's (old) entities
    "{?[src, kind, target_name] := path in $paths, *entity:by_path{path, key: src},"
    " *edge{src, kind, target_name} :rm edge {src, kind, target_name}}",
    "{?[key] := path in $paths, *entity:by_path{path, key} :rm entity {key}}",
    "{?[fqn, path] := path in $paths, *alias:by_path{path, fqn} :rm alias {fqn, path}}",
    "{?[name, path] := path in $paths, *edge_match:by_path{path, name}"
    " :rm edge_match {name, path}}",
    "{?[path] := path in $paths, *file{path} :rm file {path}}",
]
_PUT_ENTITIES = f"{{?[{_E}] <- $entities :put entity {{key => {_E_VALS}}}}}"
_PUT_EDGES = (
    f"{{?[{_G}] <- $edges :put edge {{src, kind, target_name => path, dst, resolution, line,"
    " candidates, sites}}"
)
# Before a write deletes a file's entities: edges from anywhere to an entity that the new
# version of the file no longer has become unresolved in the same transaction, so no edge
# ever dangles (and `edge_paths_to_recheck` needs no scan for dangling ones).
_UNLINK_VANISHED = """{
old[key] := path in $paths, *entity:by_path{path, key}
keep[key] <- $keys
gone[key] := old[key], not keep[key]
?[src, kind, target_name, dst, resolution] := gone[d], *edge:by_dst{dst: d, kind, src, target_name},
                                              dst = null, resolution = 'unresolved'
:update edge {src, kind, target_name => dst, resolution}
}"""
_PUT_ALIASES = "{?[fqn, path, target] <- $aliases :put alias {fqn, path => target}}"
_PUT_MATCHES = "{?[path, name, srcs] <- $matches :put edge_match {name, path => srcs}}"
_PUT_FILES = f"{{?[{_F}] <- $files :put file {{path => {', '.join(_FILE_COLS[1:])}}}}}"
# Only edges that still exist: a file rewritten since the resolver read its edges has new
# edges (resolved again later); `:update` of a vanished key would fail the whole batch.
_UPDATE_EDGES = """
r[src, kind, target_name, dst, resolution] <- $rows
?[src, kind, target_name, dst, resolution] := r[src, kind, target_name, dst, resolution],
                                              *edge{src, kind, target_name}
:update edge {src, kind, target_name => dst, resolution}
"""
# Deferred calls (see `index.spool`): put only for files still waiting for them (empty hash)
# and only from entities that exist, then the file gets its hash back. Each source and each
# path is looked up once (rules `live`, `waiting`), not once per edge: 160k stdlib calls
# have ~4x fewer distinct sources, and the per-edge seeks cost more than the put (measured:
# 3.5 -> 2.5 CPU-s for the join, 1.5 without it). Their `edge_match` rows: `$merges` add
# their sources to a row the file's write may have given sources (a union: reading those
# rows cost a stdlib cold build ~3 CPU-s when every row was merged), `$matches` are put
# (rows new, or without sources: `CozoStore.add_edges` says which in bulk mode).
_ADD_EDGES = f"""{{
r[{_G}] <- $edges
s[src] := r[{_G}]
live[src] := s[src], *entity{{key: src}}
p[path] := r[{_G}]
waiting[path] := p[path], *file{{path, hash: ''}}
?[{_G}] := r[{_G}], live[src], waiting[path]
:put edge {{src, kind, target_name => path, dst, resolution, line, candidates, sites}}
}}
{{
m[path, name, srcs] <- $matches
p[path] := m[path, name, srcs]
waiting[path] := p[path], *file{{path, hash: ''}}
?[path, name, srcs] := m[path, name, srcs], waiting[path]
:put edge_match {{name, path => srcs}}
}}
{{
m[path, name, srcs] <- $merges
p[path] := m[path, name, srcs]
waiting[path] := p[path], *file{{path, hash: ''}}
old[path, name, srcs] := m[path, name, new], waiting[path], *edge_match{{path, name, srcs}}
had[path, name] := old[path, name, srcs]
?[path, name, srcs] := m[path, name, new], old[path, name, held], srcs = union(held, new)
?[path, name, srcs] := m[path, name, srcs], waiting[path], not had[path, name]
:put edge_match {{name, path => srcs}}
}}
{{
h[path, hash] <- $hashes
?[path, hash] := h[path, hash], *file{{path, hash: ''}}
:update file {{path => hash}}
}}"""
# Enrichment: only entities that still exist (a file re-indexed meanwhile has new rows).
_SET_METADATA = """
r[key, metadata] <- $rows
?[key, metadata] := r[key, metadata], *entity{key}
:update entity {key => metadata}
"""
_GET_META = "?[v] := *meta{k: $k, v}"
_ANY_FILE = "?[path] := *file{path} :limit 1"
_PUT_META = "?[k, v] <- [[$k, $v]] :put meta {k => v}"
_GET_ENTITY = f"?[{_E_VALS}] := *entity{{key: $key, {_E_VALS}}}"
_GET_ENTITIES = f"?[{_E}] := key in $keys, *entity{{{_E}}}"
# Index lookups are separate rules: joined in one rule with the main relation, Cozo's
# planner scans the relation instead of seeking by the keys the index yields (~30x slower).
_BY_FQN = f"k[key] := fqn in $fqns, *entity:by_fqn{{fqn, key}}\n?[{_E}] := k[key], *entity{{{_E}}}"
_BY_NAME = (
    "k[key] := name in $names, *entity:by_name{name, key}\n"
    f"?[{_E}] := k[key], *entity{{{_E}}}, kind in ['method', 'property']"
)
_ALIASES = "?[fqn, path, target] := fqn in $fqns, *alias{fqn, path, target}"
_ALIASES_OF = (
    "k[fqn] := *alias:by_path{path: $path, fqn}\n"
    "?[fqn, path, target] := k[fqn], path = $path, *alias{fqn, path, target}"
)
_EDGES_OF_PATHS = (
    f"k[src] := path in $paths, *entity:by_path{{path, key: src}}\n?[{_G}] := k[src], *edge{{{_G}}}"
)
# An impact's unresolved frontier: the sources of the calls with that match name in every
# file (`edge_match.srcs`, one key-prefix read; unpacked, see `_pack_srcs`), then those
# sources' calls (a key-prefix read each): ~500 seeks for `dedent` on the stdlib, where
# reading every edge of the 110 files that name it read 14,810 entities' edges (0.5-5 s).
_UNRESOLVED_CALLS_NAMING = f"""
g[path, pre, q] := *edge_match{{name: $name, path, srcs}}, grp in srcs, pre = get(grp, 0),
                   qs = get(grp, 1), q in qs
k[src] := g[path, pre, q], pre == '', src = q
k[src] := g[path, pre, q], pre != '', src = concat(pre, path, ':', q)
?[{_G}] := k[src], *edge{{{_G}}}, kind = 'calls', resolution = 'unresolved'
"""
# The bridging rule must bind *every* key column of the main relation, or Cozo scans.
_EDGES_OF_SRCS = f"?[{_G}] := src in $srcs, *edge{{{_G}}}, kind = $kind"
_EDGES_TO_DSTS = (
    "k[src, kind, target_name] := dst in $dsts, *edge:by_dst{dst, kind, src, target_name}\n"
    f"?[{_G}] := k[src, kind, target_name], *edge{{{_G}}}"
)
_FILE_STATES = f"?[{_F}] := *file{{{_F}}}"
_FILE_PATHS = "?[path] := *file{path}"
# What `symbol_rows` reads of some files: the columns resolution needs (index seeks by path).
_SYM_COLS = "key, language, kind, name, qualname, path, start_line, signature, parent, fqn"
_SYM_ENTITIES = (
    f"k[key] := path in $paths, *entity:by_path{{path, key}}\n"
    f"?[{_SYM_COLS}] := k[key], *entity{{{_SYM_COLS}}}"
)
_SYM_ALIASES = (
    "k[fqn, path] := path in $paths, *alias:by_path{path, fqn}\n"
    "?[fqn, path, target] := k[fqn, path], *alias{fqn, path, target}"
)
_SYM_INHERITS = (
    "k[src] := path in $paths, *entity:by_path{path, key: src}\n"
    f"?[{_G}] := k[src], *edge{{{_G}}}, kind = 'inherits'"
)
_COUNTS = "?[count(path), sum(entities), sum(edges)] := *file{path, entities, edges}"

# Traversals: seeded with the start key inside the rule body, joined with the STORED relation
# (a recursive rule called with a constant computes the whole closure first), and `min(d)` in
# the recursive head, a semi-lattice aggregate, so each entity is carried once at its least
# depth instead of once per depth (4x faster at depth 12 on a 50k-entity graph).
_CALLERS = """
reach[k, min(d)] := *edge:by_dst{dst: $key, kind: 'calls', src: k}, d = 1
reach[k, min(d)] := reach[m, d0], d0 < $depth, *edge:by_dst{dst: m, kind: 'calls', src: k},
                    d = d0 + 1
?[k, d] := reach[k, d], k != $key
"""
_CALLEES = """
reach[k, min(d)] := *edge{src: $key, kind: 'calls', dst: k}, !is_null(k), d = 1
reach[k, min(d)] := reach[m, d0], d0 < $depth, *edge{src: m, kind: 'calls', dst: k},
                    !is_null(k), d = d0 + 1
?[k, d] := reach[k, d], k != $key
"""
_IMPACT = """
reach[k, min(d)] := *edge:by_dst{dst: $key, src: k}, d = 1
reach[k, min(d)] := reach[m, d0], d0 < $depth, *edge:by_dst{dst: m, src: k}, d = d0 + 1
?[k, d] := reach[k, d], k != $key
"""
# cozo-embedded 0.7.6 has the graph fixed rules under their plural names
# (`StronglyConnectedComponents`, alias `SCC`; the singular is "not found"). Only members of
# components of size > 1, and self-loops, come back to Python. The rule panics on an empty
# graph ("called Option::unwrap() on a None value"), so a sentinel edge between two strings
# that are never keys keeps it non-empty; its ends are two components of size 1.
_CYCLES = """
g[src, dst] := *edge{src, kind: $kind, dst}, !is_null(dst)
g[src, dst] := src = '', dst = ' '
comp[node, c] <~ StronglyConnectedComponents(g[src, dst])
size[c, count(node)] := comp[node, c]
?[c, node] := comp[node, c], size[c, n], n > 1
?[c, node] := g[node, node], comp[node, c]
"""
# The files whose edges have one of the names among their match names (`edge_match`, a key
# prefix: ~1 ms), then, a few files at a time, their non-exact edges, whose own match names are
# checked in Python (reading edges costs ~5 us each: 400 ms for the 75k edges of the 200 files
# 20 random stdlib names select, in short reads). (A scan of every edge's target took ~1 s on
# the stdlib and held up snapshot reads; an index on the edges' last part cost 20 % of a
# cold index, resolution updates maintaining it: the match names are never updated.)
_PATHS_MATCHING = "?[path] := name in $names, *edge_match{name, path}"
# Edges of these paths that another file's change may alter (`model.may_change_elsewhere`
# filters: not exact, or exact through a type).
_RECHECKABLE_OF_PATHS = """
k[src] := path in $paths, *entity:by_path{path, key: src}
?[path, kind, target_name, candidates, resolution] := k[src], *edge{src, kind, target_name,
                                          path, resolution, candidates}, length(candidates) > 0
"""
RECHECK_CHUNK = 16  # files whose edges one read of `edge_paths_to_recheck` reads
_NAME_COUNTS = "?[name, count(key)] := *entity:by_name{name, key}"
_BY_NAMES = (
    f"k[key] := name in $names, *entity:by_name{{name, key}}\n?[{_E}] := k[key], *entity{{{_E}}}"
)
# What `ranking.order_key` needs of every entity of a name, for the cache of heavy names.
_ORDER_KEYS = (
    "?[name, path, kind, qualname, start_line, key] := name in $names,"
    " *entity:by_name{name, key}, *entity{key, path, kind, qualname, start_line}"
)
_STATS_FILES = "?[ext, count(path)] := *file{path}, ext = starts_with(path, '@')"
_STATS_ENTITIES = (
    "?[kind, language, ext, count(key)] := *entity{key, kind, language, path},"
    " ext = starts_with(path, '@')"
)
_STATS_EDGES = (
    "?[kind, resolution, ext, count(src)] := *edge{src, kind, resolution, path},"
    " ext = starts_with(path, '@')"
)
# Prefixed to a read on SQLite: a put of no rows makes Cozo run the script as a write-mode
# transaction (BEGIN ... COMMIT), so every step of the read sees one snapshot. It writes nothing.
_SNAPSHOT = "{?[k, v] <- [] :put meta {k => v}}"
# Every write_files bumps this (a fresh token, no read-modify-write), so a process holding a
# cache of names knows, with one point read, whether any process has changed the store.
# The generation it replaces is kept as prev_generation: a process that patched its cache of
# names for its own write knows from it whether another write came in between (`_patch_names`).
_BUMP_GENERATION = (
    "{?[k, v] := *meta{k: g, v}, g = 'generation', k = 'prev_generation' :put meta {k => v}}\n"
    "{?[k, v] <- [['generation', $generation]] :put meta {k => v}}"
)
_GENERATIONS = "?[k, v] := k in ['generation', 'prev_generation'], *meta{k, v}"
_NAMES_OF_PATHS = (
    "k[key] := path in $paths, *entity:by_path{path, key}\n"
    "?[name, count(key)] := k[key], *entity{key, name}"
)
# A write of at most this many files patches a loaded cache of names instead of dropping it.
NAMES_PATCH_MAX_PATHS = 64
# A name with more entities than this has the order keys of all of them cached once a search
# needs them: reading __init__'s 4,000 entities to return the first 100 takes ~50 ms in Cozo.
HEAVY_NAME = 100


BUSY_TIMEOUT_S = 10.0
WAL_CHECKPOINT_BYTES = 64 << 20


def _retry_busy(op: Callable[[], T]) -> T:
    """Run an engine call, retrying while SQLite reports the database busy.

    Cozo's SQLite engine sets no busy timeout, so a second process that opens or reads the
    store while another commits gets "database is locked" — on open even as a Rust panic
    (pyo3's PanicException, a BaseException). Both are retried with backoff for up to
    BUSY_TIMEOUT_S, then surface as an ordinary exception.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            return op()
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            # A QueryException keeps the engine's message in a dict: read it all.
            text = f"{exc} {_one_line(exc)}"
            busy = "database is locked" in text or "database is busy" in text
            if not busy or time.monotonic() > deadline:
                if isinstance(exc, Exception):
                    raise
                raise RuntimeError(_one_line(exc)) from exc  # a panic: make it catchable
            # Short sleeps: a busy writer commits back to back, and the gaps between its
            # transactions are milliseconds wide.
            time.sleep(delay)
            delay = min(delay * 1.5, 0.02)


def _entity(row: Sequence[Any]) -> Entity:
    return Entity(*row)


def _edge(row: Sequence[Any]) -> Edge:
    path, src, kind, target_name, dst, resolution, line, candidates, sites = row
    return Edge(
        src, kind, target_name, path, line, dst, resolution, tuple(candidates), decode_sites(sites)
    )


def _edge_order(e: Edge) -> tuple[str, int, str, str]:
    return (e.path, e.line, e.src, e.target_name)


def _one_line(exc: BaseException) -> str:
    """A one-line message from a Cozo error, a pyo3 panic or any other exception."""
    resp = getattr(exc, "resp", None)  # QueryException: a dict, or a plain string
    if isinstance(resp, dict):
        causes = [str(c) for c in resp.get("causes") or ()]
        text = ": ".join(str(p) for p in (resp.get("message"), *causes) if p)
    elif resp is not None:
        text = str(resp)
    else:
        text = str(exc)
    # Cozo's messages may be miette reports: strip their box-drawing frame to get one line.
    frame = " \u2502\u00d7\u256d\u2570\u2500\u25b6"
    lines = [ln.strip(frame).strip() for ln in text.splitlines() if ln.strip(frame).strip()]
    return " ".join(lines)[:300] if lines else type(exc).__name__


class CozoStore:
    """A Store on embedded CozoDB. ``engine`` is mem, sqlite or rocksdb.

    Consistent reads: a write is one transaction, but Cozo 0.7.6 does not give a multi-step
    read (an index scan, then point gets, ...) one snapshot. SQLite reads run statement by
    statement outside any transaction, so a reader in another process could see a file half
    replaced; RocksDB iterators are not pinned to a snapshot, so a reader in this process could.
    Hence `_read`: on SQLite it runs the query inside a write-mode transaction (after a
    zero-row put, which writes nothing) so that SQLite holds one snapshot for all of it; on
    RocksDB, the only engine without cross-process sharing, a reader-writer lock in this
    process keeps reads and writes apart.
    """

    def __init__(self, engine: str, path: str = "") -> None:
        self.engine = engine
        self.path = path
        self.url = "mem" if engine == "mem" else f"{engine}:{path}"
        self._closed = False
        self._names: NameIndex | None = None  # search
        self._heavy: dict[str, list[ranking.OrderKey]] = {}  # heavy name -> its sorted keys
        self._names_generation: str | None = None
        self._names_lock = threading.Lock()  # replacing the cache (reload or patch)
        # Held from a write that will patch the cache until it has: a search that meets the
        # new generation first waits for the patch instead of reloading every name.
        self._names_patching = threading.Lock()
        self._lock = threading.Lock()  # guards close() against concurrent use
        self._rw = _ReadWriteLock() if engine == "rocksdb" else None
        self._checkpointing = threading.Lock()  # held while a checkpoint runs
        # Bulk mode (`begin_bulk`): the paths written since it began (a path written again is
        # a replacement, which needs the full write), and the indices not built yet with the
        # names a script must mention to need one. The lock orders building them (by a
        # reader that needs one, or `end_bulk`) with the bulk writes.
        self._bulk_paths: set[str] | None = None
        self._deferred: dict[str, str] = {}  # "edge:by_dst" -> its ::index create spec
        self._bulk_lock = threading.RLock()
        # (path, match name) of the `edge_match` rows a bulk write put with sources: the only
        # ones a file's deferred calls must merge into (`add_edges`) rather than put.
        self._bulk_srcs: set[tuple[str, str]] = set()
        self._checkpointer = Checkpointer(path)
        if engine != "mem":
            _check_writable(engine, Path(path))
        if engine == "sqlite":
            _create_wal_database(Path(path))
        try:
            self._db = _retry_busy(lambda: Client(engine, path, dataframe=False))
            if engine == "rocksdb" and rocksdb_options.ensure(Path(path)):
                # A new store (or one made before isgraph bounded RocksDB's memory): reopen
                # it with the options file written from what RocksDB persisted.
                self._db.close()
                self._db = _retry_busy(lambda: Client(engine, path, dataframe=False))
        except Exception as exc:
            msg = _one_line(exc)
            if engine == "rocksdb" and "lock" in msg.lower():
                raise StoreLockedError(
                    f"store {path} is locked by another process: the rocksdb engine allows one "
                    "process at a time (use a sqlite: store to share an index)"
                ) from exc
            if "database is locked" in msg:
                raise StoreLockedError(
                    f"store {path} stayed locked by another process's write for "
                    f"{BUSY_TIMEOUT_S:.0f} s"
                ) from exc
            raise StoreError(f"cannot open store {self.url}: {msg}") from exc
        try:
            self._ensure_schema()
        except BaseException:
            self._db.close()  # or a rocksdb LOCK would stay held by this process
            raise

    # -- plumbing -----------------------------------------------------------------------------
    def _run(
        self,
        script: str,
        params: dict[str, Any] | None = None,
        *,
        write: bool = False,
        snapshot: bool = False,
    ) -> list[list[Any]]:
        """Run one script (one transaction). Reads of one step (a point get, a single scan)
        call this directly; reads of several steps go through `_read`."""
        if self._closed:
            raise StoreError(f"store {self.url} is closed")
        if self._deferred and any(name in script for name in self._deferred):
            self._build_deferred()  # a read (or write) that needs an index a build deferred
        rw = self._rw
        try:
            if rw is None or not (write or snapshot):
                res = _retry_busy(lambda: self._db.run(script, params or {}))
            else:
                with rw.write() if write else rw.read():
                    res = _retry_busy(lambda: self._db.run(script, params or {}))
        except QueryException as exc:
            raise StoreError(f"store query failed: {_one_line(exc)}") from exc
        except Exception as exc:  # engine errors (I/O, disk full) come as plain Exception
            raise StoreError(f"store error ({self.url}): {_one_line(exc)}") from exc
        rows: list[list[Any]] = res["rows"]
        return rows

    def _read(self, script: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """A read of several steps that must all see one committed state (see the class)."""
        if self.engine == "sqlite":
            script = f"{_SNAPSHOT}\n{{{script}}}"
        return self._run(script, params, snapshot=True)

    def _ensure_schema(self) -> None:
        """Check the schema version, or create whatever part of the schema is missing.

        Creation is idempotent and the version is written last, so a store whose creation was
        interrupted is completed on the next open instead of failing on "already exists".
        """
        relations = {str(r[0]) for r in self._run("::relations")}  # lists indices too
        rows = self._run(_GET_META, {"k": "schema_version"}) if "meta" in relations else []
        if rows:
            found = str(rows[0][0])
            if found != str(SCHEMA_VERSION):
                where = self.path if self.engine == "rocksdb" else str(Path(self.path).parent)
                raise SchemaMismatchError(
                    f"store {self.url} has schema version {found} but this isgraph needs "
                    f"{SCHEMA_VERSION}: delete the index directory {where} and index again"
                )
            # A cold build killed before it built its deferred indices (`begin_bulk`) left
            # them missing: build them now, before anything reads through them.
            self._create_indices(relations)
            return
        for name, create, indices in SCHEMA:
            if name not in relations:
                self._run(create, write=True)
            for index, spec in indices:
                if f"{name}:{index}" not in relations:
                    self._run(f"::index create {name}:{index} {spec}", write=True)
        self.set_meta("schema_version", str(SCHEMA_VERSION))

    def _checkpoint_if_large(self) -> None:
        """Fold SQLite's write-ahead log back into the database when it has grown large.

        Cozo's SQLite engine never checkpoints while the store is open: the WAL grows with every
        transaction (3x the database size after a cold index; without end for a language
        server that stays up). A separate process runs the checkpoint: in this process, a
        second SQLite library would not see Cozo's POSIX locks (they are per process) and could
        fold pages a reader still needs (see `sqlite_checkpoint`). It runs in the background,
        one at a time.
        """
        if self.engine != "sqlite" or self._checkpointing.locked():
            return
        try:
            size = os.path.getsize(f"{self.path}-wal")
        except OSError:
            return
        if size < WAL_CHECKPOINT_BYTES:
            return
        self._checkpointing.acquire()
        threading.Thread(target=self._checkpoint, name="isgraph-checkpoint", daemon=True).start()

    def _checkpoint(self) -> None:
        try:
            self._checkpointer.run()
        finally:
            self._checkpointing.release()

    def close(self) -> None:
        """Release the engine (and RocksDB's LOCK). Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
                self._checkpointer.close()

    def _create_indices(self, relations: set[str]) -> None:
        """Create every index of `SCHEMA` missing from ``relations`` (`::relations` rows)."""
        for name, _create, indices in SCHEMA:
            for index, spec in indices:
                if f"{name}:{index}" not in relations:
                    self._create_index(f"{name}:{index}", spec)

    def _create_index(self, name: str, spec: str) -> None:
        """``::index create``; one that another process created meanwhile (two opening a
        store a killed cold build left without it) is as good."""
        try:
            self._exec(f"::index create {name} {spec}")
        except StoreError as exc:
            if "already exists" not in str(exc):
                raise

    # -- the cold build (`store.base.BulkLoad`) ------------------------------------------------
    def begin_bulk(self) -> bool:
        """On a store with no file: drop the `BULK_DEFERRED` indices (empty, so free) and
        write new files without the deletes a replacement needs, until `end_bulk`. A kill
        meanwhile leaves them missing; the next open builds them (`_ensure_schema`)."""
        with self._bulk_lock:
            if self._bulk_paths is not None or self._run(_ANY_FILE):
                return False
            relations = {str(r[0]) for r in self._run("::relations")}
            for name, index in self._bulk_deferred():
                spec = _INDEX_SPECS[name, index]
                if f"{name}:{index}" in relations:
                    self._run(f"::index drop {name}:{index}", write=True)
                self._deferred[f"{name}:{index}"] = spec
            self._bulk_paths = set()
            self._bulk_srcs = set()
            return True

    def _bulk_deferred(self) -> tuple[tuple[str, str], ...]:
        """The indices this engine builds at the end of a bulk load. None on RocksDB: there
        an ``::index create`` is one transaction whose writes RocksDB holds in memory until it
        commits (+~200 MB of peak memory for the stdlib's indices, measured), while keeping
        them up to date costs CPU, not memory."""
        return () if self.engine == "rocksdb" else BULK_DEFERRED

    def end_bulk(self, build: bool = True) -> None:
        """Leave bulk mode and build the deferred indices, one pass over each relation
        (``build=False``: left to the first script that names one, or the next open)."""
        with self._bulk_lock:
            self._bulk_paths = None
            self._bulk_srcs = set()
            if build:
                self._build_deferred()

    def _build_deferred(self) -> None:
        with self._bulk_lock:
            while self._deferred:
                name, spec = next(iter(self._deferred.items()))
                self._create_index(name, spec)  # another process opening it may have
                del self._deferred[name]
            release_memory(force=True)
            self._checkpoint_if_large()

    def _exec(self, script: str) -> None:
        """A schema statement, without `_run`'s check for deferred indices (it builds them)."""
        rw = self._rw
        try:
            if rw is None:
                _retry_busy(lambda: self._db.run(script, {}))
            else:
                with rw.write():
                    _retry_busy(lambda: self._db.run(script, {}))
        except QueryException as exc:
            raise StoreError(f"store query failed: {_one_line(exc)}") from exc
        except Exception as exc:
            raise StoreError(f"store error ({self.url}): {_one_line(exc)}") from exc

    # -- writes -------------------------------------------------------------------------------
    def write_files(self, results: Sequence[FileResult], removed: Sequence[str] = ()) -> None:
        """One transaction: delete every row of each result's and each removed path, then put
        the results' rows. A path both removed and in ``results`` ends up holding the result;
        of two results for one path, the later wins (rows are never a union of versions)."""
        latest = list({r.path: r for r in results}.values())
        paths = sorted({r.path for r in latest} | set(removed))
        if not paths:
            return
        for r in latest:
            _check_edges(r)
        with self._bulk_lock:
            bulk = self._bulk_paths
            # Bulk mode: files new to the store have nothing to delete or unlink. A removal
            # or a path written again is a replacement: it leaves bulk mode (and needs
            # `edge:by_dst`, built then).
            fresh = bulk is not None and not removed and bulk.isdisjoint(paths)
            if bulk is not None and not fresh:
                self.end_bulk()
            self._write_files(latest, paths, removed, fresh)

    def _write_files(
        self, latest: list[FileResult], paths: list[str], removed: Sequence[str], fresh: bool
    ) -> None:
        entities = [
            [
                e.key,
                e.language,
                e.kind,
                e.name,
                e.qualname,
                e.path,
                e.start_line,
                e.start_col,
                e.end_line,
                e.end_col,
                e.signature,
                e.doc,
                e.parent,
                e.fqn,
                e.metadata,
            ]
            for r in latest
            for e in r.entities
        ]
        edges = [edge_row(e) for r in latest for e in r.edges]
        aliases = [[a.fqn, a.path, a.target] for r in latest for a in r.aliases]
        matches = _match_rows(e for r in latest for e in r.edges)
        files = [
            [
                r.path,
                r.language,
                r.content_hash,
                r.size,
                r.mtime_ns,
                r.status,
                r.error,
                len(r.entities),
                len(r.edges) + r.deferred_count,
            ]
            for r in latest
        ]
        base = None if fresh else self._names_patch_base(paths)
        blocks = [_BUMP_GENERATION]
        if not fresh:
            blocks[:0] = [_UNLINK_VANISHED, *_DELETE_PATHS]
        # a fresh token (uuid4's bytes, without importing uuid on a query's path)
        params: dict[str, Any] = {"generation": os.urandom(16).hex()}
        if not fresh:  # what the deletes and the unlink read
            params.update(paths=paths, keys=[[row[0]] for row in entities])
        for block, name, rows in (
            (_PUT_ENTITIES, "entities", entities),
            (_PUT_EDGES, "edges", edges),
            (_PUT_ALIASES, "aliases", aliases),
            (_PUT_MATCHES, "matches", matches),
            (_PUT_FILES, "files", files),
        ):
            if rows:
                blocks.append(block)
                params[name] = rows
        if base is None:
            self._run("\n".join(blocks), params, write=True)
            if fresh and self._bulk_paths is not None:
                self._bulk_paths.update(paths)
                self._bulk_srcs.update((r[0], r[1]) for r in matches if r[2])
        else:
            with self._names_patching:
                self._run("\n".join(blocks), params, write=True)
                self._patch_names(base, paths, latest, params["generation"])
        release_memory()
        self._checkpoint_if_large()

    def update_edges(self, updates: Sequence[EdgeUpdate]) -> None:
        """One transaction; updates of edges that no longer exist are skipped."""
        if updates:
            rows = [[u.src, str(u.kind), u.target_name, u.dst, str(u.resolution)] for u in updates]
            self._run(_UPDATE_EDGES, {"rows": rows}, write=True)
            release_memory()
            self._checkpoint_if_large()

    def add_edges(self, edges: Sequence[Edge], hashes: Sequence[tuple[str, str]]) -> None:
        """One transaction: put a file's deferred edges and give the file its hash back."""
        if not hashes:
            return
        rows = [edge_row(e) for e in edges]
        matches = _match_rows(edges)
        with self._bulk_lock:
            # In bulk mode this process wrote every file, and knows which rows hold sources;
            # otherwise any row may (another writer, a file written before), so all merge.
            held = self._bulk_srcs if self._bulk_paths is not None else None
            merges = [m for m in matches if held is None or (m[0], m[1]) in held]
            puts = [m for m in matches if held is not None and (m[0], m[1]) not in held]
            params = {
                "edges": rows,
                "hashes": [list(h) for h in hashes],
                "matches": puts,
                "merges": merges,
            }
            self._run(_ADD_EDGES, params, write=True)
        release_memory()
        self._checkpoint_if_large()

    def set_meta(self, key: str, value: str) -> None:
        self._run(_PUT_META, {"k": key, "v": value}, write=True)

    def set_metadata(self, rows: Sequence[tuple[str, str | None]]) -> None:
        if rows:
            self._run(_SET_METADATA, {"rows": [[k, m] for k, m in rows]}, write=True)

    # -- reads --------------------------------------------------------------------------------
    def known_repos(self) -> list[str] | None:
        return None  # one workspace per embedded store (its root: meta "root")

    def get_meta(self, key: str) -> str | None:
        rows = self._run(_GET_META, {"k": key})
        return str(rows[0][0]) if rows else None

    def file_states(self) -> dict[str, FileState]:
        return {r[0]: FileState(*r[:9]) for r in self._run(_FILE_STATES)}

    def counts(self) -> tuple[int, int, int]:
        # Per-file counts kept in the file rows: summing 2k rows beats counting 300k.
        rows = self._run(_COUNTS)
        files, entities, edges = rows[0] if rows else (0, 0, 0)
        return int(files), int(entities or 0), int(edges or 0)

    def get_entity(self, key: str) -> Entity | None:
        rows = self._run(_GET_ENTITY, {"key": key})
        return Entity(key, *rows[0]) if rows else None

    def get_entities(self, keys: Iterable[str]) -> dict[str, Entity]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        return {r[0]: _entity(r) for r in self._read(_GET_ENTITIES, {"keys": wanted})}

    def find_entities(
        self,
        *,
        name: str | None = None,
        name_contains: str | None = None,
        kind: str | None = None,
        path: str | None = None,
        limit: int | None = None,
    ) -> list[Entity]:
        body = [f"*entity{{{_E}}}"]
        params: dict[str, Any] = {}
        prelude = ""
        if path is not None:  # seek through an index (in its own rule: see _BY_FQN)
            prelude = "k[key] := *entity:by_path{path: $path, key}\n"
            params["path"] = path
        elif name is not None:
            prelude = "k[key] := *entity:by_name{name: $name, key}\n"
        if prelude:
            body.insert(0, "k[key]")
        if name is not None:
            body.append("name = $name")
            params["name"] = name
        if name_contains is not None:
            body.append("str_includes(lowercase(name), $sub)")
            params["sub"] = name_contains.lower()
        if kind is not None:
            body.append("kind = $kind")
            params["kind"] = kind
        script = f"{prelude}?[{_E}] := {', '.join(body)} :order path, start_line, key"
        if limit is not None:
            script += " :limit $limit"
            params["limit"] = limit
        return [_entity(r) for r in self._read(script, params)]

    def entities_by_fqn(self, fqns: Iterable[str]) -> dict[str, list[Entity]]:
        wanted = list(set(fqns))
        out: dict[str, list[Entity]] = defaultdict(list)
        if wanted:
            for row in self._read(_BY_FQN, {"fqns": wanted}):
                ent = _entity(row)
                out[ent.fqn].append(ent)
        for ents in out.values():
            ents.sort(key=lambda e: (e.path, e.start_line, e.key))
        return dict(out)

    def methods_named(self, names: Iterable[str]) -> dict[str, list[Entity]]:
        wanted = list(set(names))
        out: dict[str, list[Entity]] = defaultdict(list)
        if wanted:
            for row in self._read(_BY_NAME, {"names": wanted}):
                ent = _entity(row)
                out[ent.name].append(ent)
        return dict(out)

    def aliases_of(self, path: str) -> list[Alias]:
        return [Alias(p, f, t) for f, p, t in sorted(self._read(_ALIASES_OF, {"path": path}))]

    def aliases(self, fqns: Iterable[str]) -> dict[str, Alias]:
        wanted = list(set(fqns))
        out: dict[str, Alias] = {}
        if wanted:
            # One per name: the workspace's before a stub's (see Store.aliases).
            rows = self._read(_ALIASES, {"fqns": wanted})
            for fqn, path, target in sorted(rows, key=lambda r: (r[0], is_external(r[1]), r[1])):
                out.setdefault(fqn, Alias(path, fqn, target))
        return out

    def edges(
        self,
        *,
        kind: str | None = None,
        path: str | None = None,
        src: str | None = None,
        dst: str | None = None,
        resolution: str | None = None,
    ) -> list[Edge]:
        # Constants go into the atoms themselves: Cozo then seeks by key prefix or through an
        # index instead of scanning (a bound-by-equality variable after the atom does not).
        params: dict[str, Any] = {}
        cols = {c: c for c in _EDGE_COLS}
        for col, value in (
            ("kind", kind),
            ("path", path),
            ("src", src),
            ("dst", dst),
            ("resolution", resolution),
        ):
            if value is not None:
                cols[col] = f"{col}: ${col}"
                params[col] = value
        body = [f"*edge{{{', '.join(cols.values())}}}"]
        prelude = ""
        if src is None and dst is not None:  # seek through the index, in its own rule
            prelude = (
                "k[src, kind, target_name] := *edge:by_dst{dst: $dst, kind, src, target_name}\n"
            )
            body = ["k[src, kind, target_name]", f"*edge{{{_G}}}"]
        elif src is None and path is not None:  # a file's edges leave its entities
            prelude = "k[src] := *entity:by_path{path: $path, key: src}\n"
            body = ["k[src]", f"*edge{{{_G}}}"]
        body += [f"{col} = ${col}" for col in params]
        script = f"{prelude}?[{_G}] := {', '.join(body)} :order path, line, src, target_name"
        return [_edge(r) for r in self._read(script, params)]

    def edges_from_srcs(self, srcs: Iterable[str], kind: str) -> list[Edge]:
        wanted = list(set(srcs))
        if not wanted:
            return []
        return [_edge(r) for r in self._read(_EDGES_OF_SRCS, {"srcs": wanted, "kind": kind})]

    def edges_to(self, dsts: Iterable[str]) -> list[Edge]:
        wanted = list(set(dsts))
        if not wanted:
            return []
        rows = self._read(_EDGES_TO_DSTS, {"dsts": wanted})
        return sorted((_edge(r) for r in rows), key=_edge_order)

    def edges_from_paths(self, paths: Iterable[str]) -> list[Edge]:
        wanted = list(set(paths))
        return [_edge(r) for r in self._read(_EDGES_OF_PATHS, {"paths": wanted})] if wanted else []

    def unresolved_calls_naming(self, name: str) -> list[Edge]:
        return [_edge(r) for r in self._read(_UNRESOLVED_CALLS_NAMING, {"name": name})]

    def symbol_rows(self) -> Iterator[SymbolRows]:
        paths = [r[0] for r in self._run(_FILE_PATHS)]
        queries = (_SYM_ENTITIES, _SYM_ALIASES, _SYM_INHERITS)
        return read_symbol_rows(paths, self._read, queries, _edge)

    def edge_paths_to_recheck(self, names: Iterable[str]) -> set[str]:
        wanted = set(names)
        if not wanted:
            return set()
        # Separate reads, not one snapshot: this only selects files to re-resolve (which reads
        # them again), and short reads let the language server's reads in between.
        paths = sorted(str(r[0]) for r in self._run(_PATHS_MATCHING, {"names": sorted(wanted)}))
        found: set[str] = set()
        for i in range(0, len(paths), RECHECK_CHUNK):
            rows = self._run(_RECHECKABLE_OF_PATHS, {"paths": paths[i : i + RECHECK_CHUNK]})
            found.update(
                str(r[0])
                for r in rows
                if may_change_elsewhere(r[4], r[3]) and _edge_matches(wanted, *r[1:4])
            )
        return found

    def _reach(self, script: str, key: str, depth: int) -> list[Reach]:
        if depth < 1:
            return []
        rows = self._read(script, {"key": key, "depth": depth})
        return sorted((Reach(k, d) for k, d in rows), key=lambda r: (r.depth, r.key))

    def callers(self, key: str, depth: int = 1) -> list[Reach]:
        return self._reach(_CALLERS, key, depth)

    def callees(self, key: str, depth: int = 1) -> list[Reach]:
        return self._reach(_CALLEES, key, depth)

    def impact(self, key: str, depth: int = 3) -> list[Reach]:
        return self._reach(_IMPACT, key, depth)

    def cycles(self, kind: str = "calls", limit: int = 100) -> list[list[str]]:
        """Components sorted by size (largest first), then by their first key."""
        comps: dict[int, list[str]] = defaultdict(list)
        for comp, node in self._read(_CYCLES, {"kind": kind}):
            comps[comp].append(node)
        found = sorted((sorted(c) for c in comps.values()), key=lambda c: (-len(c), c))
        return found[: max(limit, 0)]

    def search(self, query: str, limit: int = 20) -> list[Entity]:
        """Tiers: exact name, prefix, substring, camel-hump, subsequence (case-insensitive);
        within a tier shorter names first, then higher-level ones (modules, then top-level
        definitions, then members), then by source position."""
        q = query.strip().lower()
        if not q or limit <= 0:
            return []
        # A scan in Cozo costs ~1.5 us a row (300+ ms on the stdlib), so the distinct names
        # live in an index here (`store.names`), refreshed when the store's generation changes;
        # ranking runs over it and only the winning names' entities are read.
        index = self._name_index()
        ranked = index.ranked(q, limit)
        wanted = ranking.take(ranked, limit)
        if not wanted:
            return []
        tiers = {name: t for t, _, name, _ in ranked}
        counts = {name: count for _, _, name, count in ranked}
        light = [n for n in wanted if counts[n] <= HEAVY_NAME]
        ents = [_entity(r) for r in self._read(_BY_NAMES, {"names": light})] if light else []

        # The final order (`ranking.order`): entities of a heavy name take part by their
        # cached order keys, the first `limit` of each; only the winners are read whole.
        Rank = tuple[int, bool, int, int, str, int, str]

        def rank(name: str, k: ranking.OrderKey) -> Rank:
            stub, level, path, line, key = k
            return (tiers[name], stub, len(name), level, path, line, key)

        picks: list[tuple[Rank, Entity | None]] = [
            (rank(e.name, ranking.order_key(e)), e) for e in ents
        ]
        heavy = [n for n in wanted if counts[n] > HEAVY_NAME]
        cached = self._heavy_keys(heavy, index) if heavy else {}
        for name in heavy:
            picks += [(rank(name, k), None) for k in cached[name][:limit]]
        picks.sort(key=lambda p: p[0])
        picks = picks[:limit]
        whole = self.get_entities([r[-1] for r, e in picks if e is None])
        return [e for r, found in picks if (e := found or whole.get(r[-1])) is not None]

    def _heavy_keys(self, names: list[str], index: NameIndex) -> dict[str, list[ranking.OrderKey]]:
        """The order keys of every entity of each heavy name in ``names``, sorted, cached.
        The first search that needs any reads only its own (a CLI query is one search: the
        keys of every heavy name took ~0.3 s there); a later one reads those of every heavy
        name not cached yet in one go (one ~100 ms read instead of a 20-50 ms read at the
        first search of each, for a process that keeps searching)."""
        cached = self._heavy
        found = {n: cached[n] for n in names if n in cached}
        if len(found) == len(names):
            return found
        wanted = {n for n in names if n not in found}
        if cached:
            wanted |= {n for n, c in index.counts.items() if c > HEAVY_NAME and n not in cached}
        loaded: dict[str, list[ranking.OrderKey]] = defaultdict(list)
        for name, path, kind, qualname, line, key in self._read(
            _ORDER_KEYS, {"names": sorted(wanted)}
        ):
            loaded[name].append(
                (is_external(path), ranking.level_of(kind, qualname), path, line, key)
            )
        with self._names_lock:
            for n in wanted:
                keys = sorted(loaded.get(n, ()))
                self._heavy[n] = keys
                if n in names:
                    found[n] = keys
        return found

    def _name_index(self) -> NameIndex:
        """The index of names, reloaded when another process changed the store: from the copy
        saved beside an embedded store for this generation (a few ms), else from the store's
        entities (~300 ms on the stdlib), saving it for the next process."""
        generation = self.get_meta("generation")
        index = self._names
        if index is not None and generation != self._names_generation:
            with self._names_patching:  # this process's write may be patching it for us
                index = self._names
        if index is None or generation != self._names_generation:
            saved = Path(self.path + NAMES_SUFFIX) if self.engine != "mem" else None
            loaded = NameIndex.load(saved, generation) if saved and generation else None
            if loaded is not None:
                index = loaded
            else:
                index = NameIndex({str(n): int(c) for n, c in self._run(_NAME_COUNTS)})
                if saved and generation:
                    index.save(saved, generation)
            with self._names_lock:
                self._names, self._names_generation, self._heavy = index, generation, {}
        return index

    def _names_patch_base(self, paths: list[str]) -> tuple[str, list[list[Any]]] | None:
        """Before a small write, with the index of names loaded: the generation it reflects
        and (name, count) of the entities the write replaces, to patch the index after the
        write instead of reloading every name (~300 ms at 80k entities)."""
        base = self._names_generation
        if self._names is None or base is None or len(paths) > NAMES_PATCH_MAX_PATHS:
            return None
        return base, self._run(_NAMES_OF_PATHS, {"paths": paths})

    def _patch_names(
        self,
        base: tuple[str, list[list[Any]]],
        paths: Sequence[str],
        results: Sequence[FileResult],
        generation: str,
    ) -> None:
        """The index of names after this process's write of ``results``: patched when the
        store went from the index's generation straight to this write's, else dropped."""
        before, old_rows = base
        try:
            gens = {str(k): str(v) for k, v in self._run(_GENERATIONS)}
        except StoreError:
            gens = {}
        with self._names_lock:
            index = self._names
            if (
                index is None
                or self._names_generation != before
                or gens.get("generation") != generation
                or gens.get("prev_generation") != before
            ):
                self._names, self._names_generation = None, None  # reload on the next search
                self._heavy = {}
                return
            delta: dict[str, int] = defaultdict(int)
            for name, count in old_rows:
                delta[str(name)] -= int(count)
            for r in results:
                for e in r.entities:
                    delta[e.name] += 1
            self._names, self._names_generation = index.patched(delta), generation
            self._heavy = _patched_heavy(self._heavy, paths, results)

    def stats(self, stubs: bool = False) -> Stats:
        # One scan per relation, grouped in Cozo, folded here.
        return fold_stats(
            self._run(_STATS_FILES),
            self._run(_STATS_ENTITIES),
            self._run(_STATS_EDGES),
            stubs=stubs,
        )


def _match_rows(edges: Iterable[Edge]) -> list[list[Any]]:
    """`store.base.match_rows` with each row's sources packed (``_pack_srcs``)."""
    return [[path, name, _pack_srcs(path, srcs)] for path, name, srcs in match_rows(edges)]


def _pack_srcs(path: str, keys: Iterable[str]) -> list[list[Any]]:
    """Keys of entities of ``path`` as ``edge_match.srcs`` keeps them: grouped by their
    ``language:kind:`` prefix, each a qualname (``model.make_key`` less the prefix and the
    path the row holds: 3x fewer bytes than whole keys, 16 MB less on the stdlib), or under
    the prefix ``""`` whole (a key of another form). ``_UNRESOLVED_CALLS_NAMING`` rebuilds
    them; a union of two packings (a file's deferred calls) unpacks to the union of keys."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        lang, _, rest = key.partition(":")
        kind, _, rest = rest.partition(":")
        if rest.startswith(path + ":") and lang and kind:
            groups[f"{lang}:{kind}:"].append(rest[len(path) + 1 :])
        else:
            groups[""].append(key)
    return [[pre, sorted(qs)] for pre, qs in sorted(groups.items())]


def _edge_matches(wanted: set[str], kind: str, target_name: str, candidates: list[str]) -> bool:
    edge = Edge("", kind, target_name, "", 0, candidates=tuple(candidates))
    return not wanted.isdisjoint(edge_match_names(edge))


def _patched_heavy(
    heavy: dict[str, list[ranking.OrderKey]], paths: Sequence[str], results: Sequence[FileResult]
) -> dict[str, list[ranking.OrderKey]]:
    """The cache of heavy names' order keys after a write of ``results`` over ``paths``."""
    if not heavy:
        return heavy
    gone = set(paths)
    new: dict[str, list[ranking.OrderKey]] = {
        name: [k for k in keys if k[2] not in gone] for name, keys in heavy.items()
    }
    for r in results:
        for e in r.entities:
            if e.name in new:
                new[e.name].append(ranking.order_key(e))
    return {name: sorted(keys) for name, keys in new.items()}


def _check_edges(result: FileResult) -> None:
    """Edges are keyed by source entity and found through their file's entities when the file
    is replaced, so an edge whose source is not an entity of its file would outlive it."""
    keys = {e.key for e in result.entities}
    for edge in result.edges:
        if edge.src not in keys or edge.path != result.path:
            raise StoreError(
                f"edge {edge.src} -> {edge.target_name!r} in {result.path}: its source is not "
                "an entity of that file"
            )


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer holds back new readers (no starvation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


_COZO_TABLE = "CREATE TABLE IF NOT EXISTS cozo (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID"


def _create_wal_database(path: Path) -> None:
    """Create a new SQLite store in WAL mode (the mode is kept in the file).

    WAL lets another process read while this one writes, and writes ~20 % faster here. Only
    a file that does not exist yet is touched: this uses Python's own SQLite library, and two
    SQLite libraries with the same file open in one process can drop each other's POSIX locks
    when one closes it (sqlite.org/howtocorrupt.html, 2.2.1).

    Cozo keeps every relation in one key-value table, created ``if not exists`` as
    ``cozo (k BLOB primary key, v BLOB)``: a rowid table, so SQLite stores every key twice
    (in the table and in the primary key's index), and keys are ~2/3 of the bytes (long
    entity keys, index rows that are all key). Created here first ``WITHOUT ROWID`` (Cozo's
    statements name only ``k`` and ``v``), each key is stored once: the stdlib's store
    shrinks by ~45 % (measured on rows of its shape: 90 -> 51 MB).
    """
    if path.exists():
        return
    import sqlite3  # only here: a query process opening an existing store never needs it

    try:
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_COZO_TABLE)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot create store file {path}: {exc}") from exc


def _check_writable(engine: str, path: Path) -> None:
    """Create the store's directory, or say which path is unusable and why."""
    directory = path if engine == "rocksdb" else path.parent  # RocksDB's path is a directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create store directory {directory}: {exc.strerror}") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(f"store directory is not writable: {directory}")
    if engine == "sqlite" and path.is_dir():
        raise StoreError(f"store path {path} is a directory, not an SQLite file")
    if engine == "sqlite" and path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"store file is not readable and writable: {path}")
