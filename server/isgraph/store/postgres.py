"""PostgreSQL store (psycopg 3): one database shared by many writers, readers and repositories.

Connection string: ``postgresql://[user[:password]@]host[:port]/dbname[?options]``. Besides
libpq's own options (``connect_timeout``, ``sslmode``…), two are isgraph's:

* ``repo=NAME``: the namespace this store reads and writes. Every row carries it, so one
  database holds many repositories. Default: the workspace root's directory name.
* ``schema=NAME``: the PostgreSQL schema holding isgraph's tables (default ``isgraph``).

Tables (every one keyed by ``repo`` first)::

  isgraph_migrations {*version}                   applied forward migrations
  meta   {*repo, *k => v}
  file   {*repo, *path => language, hash, size, mtime_ns, status, error, entities, edges}
  entity {*repo, *key => ..., name, lname, path, fqn, ...}   by path, fqn, name, lname (+trgm)
  edge   {*repo, *src, *kind, *target_name => path, dst, ...} by (dst, kind, src), by path
  alias  {*repo, *fqn, *path => target}                     by path

Text columns use the "C" collation: ordering is by code point, as in CozoStore and Python, and
plain btree indexes serve ``LIKE 'prefix%'``. ``lname`` is ``name.lower()`` computed in Python,
so case-insensitive matching means what it means in CozoStore.

Concurrency: writers take no table lock. ``write_files`` first upserts the batch's file rows
(ordered by path): that row lock is the per-file mutex, so two writers replacing one file run
one after the other (the second deletes everything the first wrote), while writers of
different files, shards or repos never wait for each other.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

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
from isgraph.store import ranking
from isgraph.store.base import (
    EdgeUpdate,
    Reach,
    SchemaMismatchError,
    Stats,
    StoreError,
    SymbolRows,
    edge_row,
    fold_stats,
    match_rows,
    read_symbol_rows,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Conn = psycopg.Connection[TupleRow]

DEFAULT_SCHEMA = "isgraph"
DEFAULT_CONNECT_TIMEOUT_S = 5
READ_POOL_SIZE = 4  # readers: LSP requests, the resolver thread, CLI queries
RETRIES = 3  # transient failures (lost connection, serialization failure, deadlock)
BACKOFF_S = (0.05, 0.2, 0.8)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_TXT = 'text COLLATE "C" NOT NULL'
_OPT = 'text COLLATE "C"'

# Forward migrations: MIGRATIONS[i] brings the schema from version i to i + 1. Never edit an
# applied one; append. Each runs in one transaction with its version row.
MIGRATIONS: list[list[str]] = [
    [
        f"CREATE TABLE meta (repo {_TXT}, k {_TXT}, v text NOT NULL, PRIMARY KEY (repo, k))",
        f"""CREATE TABLE file (repo {_TXT}, path {_TXT}, language {_TXT}, hash {_TXT},
            size bigint NOT NULL, mtime_ns bigint NOT NULL, status {_TXT}, error text,
            entities integer NOT NULL, edges integer NOT NULL, PRIMARY KEY (repo, path))""",
        f"""CREATE TABLE entity (repo {_TXT}, key {_TXT}, language {_TXT}, kind {_TXT},
            name {_TXT}, lname {_TXT}, qualname {_TXT}, path {_TXT},
            start_line integer NOT NULL, start_col integer NOT NULL,
            end_line integer NOT NULL, end_col integer NOT NULL, signature text NOT NULL,
            doc text NOT NULL, parent {_OPT}, fqn {_TXT}, metadata text,
            PRIMARY KEY (repo, key))""",
        "CREATE INDEX entity_by_path ON entity (repo, path)",
        "CREATE INDEX entity_by_fqn ON entity (repo, fqn)",
        "CREATE INDEX entity_by_name ON entity (repo, name)",
        # exact and prefix search (C collation: btree serves LIKE 'q%'); the trigram index
        # for substrings is added on open when pg_trgm is available (see _TRGM_INDEX)
        "CREATE INDEX entity_by_lname ON entity (repo, lname)",
        f"""CREATE TABLE edge (repo {_TXT}, src {_TXT}, kind {_TXT}, target_name {_TXT},
            path {_TXT}, dst {_OPT}, resolution {_TXT}, line integer NOT NULL,
            candidates text[] NOT NULL, PRIMARY KEY (repo, src, kind, target_name))""",
        # callers / impact walk edges backwards: (dst, kind) -> src from the index alone
        "CREATE INDEX edge_by_dst ON edge (repo, dst, kind, src)",
        "CREATE INDEX edge_by_path ON edge (repo, path)",
        f"""CREATE TABLE alias (repo {_TXT}, fqn {_TXT}, path {_TXT}, target {_TXT},
            PRIMARY KEY (repo, fqn, path))""",
        "CREATE INDEX alias_by_path ON alias (repo, path)",
    ],
    [
        # The match names of a file's edges (see CozoStore's edge_match): which files hold
        # edges a change may re-resolve, by index instead of a scan of every edge.
        f"""CREATE TABLE edge_match (repo {_TXT}, path {_TXT}, name {_TXT},
            PRIMARY KEY (repo, name, path))""",
        "CREATE INDEX edge_match_by_path ON edge_match (repo, path)",
    ],
    [
        # Every call site of an edge (`model.encode_sites`); "" for rows written before.
        "ALTER TABLE edge ADD COLUMN sites text NOT NULL DEFAULT ''",
    ],
    [
        # The sources of a file's calls with candidates under each match name
        # (`store.base.match_rows`): an impact's unresolved frontier reads those calls by key.
        # Rows of schema version 5 lack them; that version's repos are indexed again.
        "ALTER TABLE edge_match ADD COLUMN srcs text[] NOT NULL DEFAULT '{}'",
    ],
]
SCHEMA_LEVEL = len(MIGRATIONS)
_TRGM_INDEX = "CREATE INDEX IF NOT EXISTS entity_lname_trgm ON entity USING gin (lname {ops})"

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
_G = ", ".join(_EDGE_COLS)
_F = ", ".join(_FILE_COLS)

# Staging tables: per session, emptied at commit (and by a rollback).
_STAGE = [
    """CREATE TEMP TABLE IF NOT EXISTS isg_stage_file (path text, language text, hash text,
       size bigint, mtime_ns bigint, status text, error text, entities integer, edges integer)
       ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS isg_stage_entity (key text, language text, kind text,
       name text, lname text, qualname text, path text, start_line integer,
       start_col integer, end_line integer, end_col integer, signature text, doc text,
       parent text, fqn text, metadata text) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS isg_stage_edge (path text, src text, kind text,
       target_name text, dst text, resolution text, line integer, candidates text[],
       sites text)
       ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS isg_stage_alias (fqn text, path text, target text)
       ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS isg_stage_match (path text, name text, srcs text[])
       ON COMMIT DELETE ROWS""",
]
_STAGE_ENTITY_COLS = (*_ENTITY_COLS[:4], "lname", *_ENTITY_COLS[4:])
_SE = ", ".join(_STAGE_ENTITY_COLS)


def _set(cols: Iterable[str]) -> str:
    return ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)


# The file rows go first and in path order: their row locks serialize writers of one file.
_MERGE_FILES = f"""INSERT INTO file (repo, {_F}) SELECT %(repo)s, {_F} FROM isg_stage_file
ORDER BY path ON CONFLICT (repo, path) DO UPDATE SET {_set(_FILE_COLS[1:])}"""
_LOCK_FILES = """SELECT path FROM file WHERE repo = %(repo)s AND path = ANY(%(paths)s)
ORDER BY path FOR UPDATE"""
_LOCK_REMOVED = """SELECT path FROM file WHERE repo = %(repo)s AND path = ANY(%(removed)s)
ORDER BY path FOR UPDATE"""
# Before the delete: edges (from any file) to an entity the new version no longer has become
# unresolved in the same transaction, so no edge ever dangles (as in CozoStore).
_UNLINK_VANISHED = """UPDATE edge SET dst = NULL, resolution = 'unresolved'
WHERE repo = %(repo)s AND dst IN (SELECT key FROM entity WHERE repo = %(repo)s
AND path = ANY(%(paths)s) AND NOT (key = ANY(%(keys)s)))"""
_DELETE_ROWS = """WITH e AS (DELETE FROM edge WHERE repo = %(repo)s AND path = ANY(%(paths)s)),
n AS (DELETE FROM entity WHERE repo = %(repo)s AND path = ANY(%(paths)s)),
a AS (DELETE FROM alias WHERE repo = %(repo)s AND path = ANY(%(paths)s)),
m AS (DELETE FROM edge_match WHERE repo = %(repo)s AND path = ANY(%(paths)s))
DELETE FROM file WHERE repo = %(repo)s AND path = ANY(%(removed)s)"""
# ON CONFLICT: a key already held by another file (keys contain the path, so only a path
# written by two batches at once) is taken over, as CozoStore's :put does.
_MERGE_ENTITIES = f"""INSERT INTO entity (repo, {_SE}) SELECT %(repo)s, {_SE}
FROM isg_stage_entity ON CONFLICT (repo, key) DO UPDATE SET {_set(_STAGE_ENTITY_COLS[1:])}"""
_MERGE_EDGES = f"""INSERT INTO edge (repo, {_G}) SELECT %(repo)s, {_G} FROM isg_stage_edge
ON CONFLICT (repo, src, kind, target_name) DO UPDATE SET
{_set(("path", "dst", "resolution", "line", "candidates", "sites"))}"""
_MERGE_ALIASES = """INSERT INTO alias (repo, fqn, path, target)
SELECT %(repo)s, fqn, path, target FROM isg_stage_alias
ON CONFLICT (repo, fqn, path) DO UPDATE SET target = EXCLUDED.target"""
# A row already there (a file's deferred calls after its other edges) gains the new sources.
_UNION_SRCS = """ON CONFLICT (repo, name, path) DO UPDATE SET srcs = ARRAY(
SELECT DISTINCT s FROM unnest(edge_match.srcs || EXCLUDED.srcs) AS s ORDER BY s)"""
_MERGE_MATCHES = f"""INSERT INTO edge_match (repo, path, name, srcs)
SELECT %(repo)s, path, name, srcs FROM isg_stage_match {_UNION_SRCS}"""
# (add_edges) only for files still waiting for their calls, as the edges themselves
_ADD_MATCHES = f"""INSERT INTO edge_match (repo, path, name, srcs)
SELECT %(repo)s, path, name, srcs FROM isg_stage_match s
WHERE EXISTS (SELECT 1 FROM file f WHERE f.repo = %(repo)s AND f.path = s.path AND f.hash = '')
{_UNION_SRCS}"""
# Only edges that still exist are updated: a file rewritten since the resolver read its edges
# has new edges (resolved again later).
_UPDATE_EDGES = """UPDATE edge SET dst = u.dst, resolution = u.resolution
FROM unnest(%(src)s::text[], %(kind)s::text[], %(target)s::text[], %(dst)s::text[],
            %(res)s::text[]) AS u(src, kind, target_name, dst, resolution)
WHERE edge.repo = %(repo)s AND edge.src = u.src AND edge.kind = u.kind
  AND edge.target_name = u.target_name"""
# Deferred calls (see `index.spool`): only into files still waiting for them (empty hash),
# only from entities that exist; then the file gets its hash back.
_ADD_EDGES = f"""INSERT INTO edge (repo, {_G}) SELECT %(repo)s, {_G} FROM isg_stage_edge s
WHERE EXISTS (SELECT 1 FROM file f WHERE f.repo = %(repo)s AND f.path = s.path AND f.hash = '')
  AND EXISTS (SELECT 1 FROM entity n WHERE n.repo = %(repo)s AND n.key = s.src)
ON CONFLICT (repo, src, kind, target_name) DO UPDATE SET
{_set(("path", "dst", "resolution", "line", "candidates", "sites"))}"""
_SET_HASHES = """UPDATE file SET hash = u.hash
FROM unnest(%(paths)s::text[], %(hashes)s::text[]) AS u(path, hash)
WHERE file.repo = %(repo)s AND file.path = u.path AND file.hash = ''"""
_PUT_META = """INSERT INTO meta (repo, k, v) VALUES (%(repo)s, %(k)s, %(v)s)
ON CONFLICT (repo, k) DO UPDATE SET v = EXCLUDED.v"""
_GET_META = "SELECT v FROM meta WHERE repo = %(repo)s AND k = %(k)s"
_SET_METADATA = """UPDATE entity SET metadata = u.metadata
FROM unnest(%(keys)s::text[], %(metadata)s::text[]) AS u(key, metadata)
WHERE entity.repo = %(repo)s AND entity.key = u.key"""

_GET_ENTITY = f"SELECT {_E} FROM entity WHERE repo = %(repo)s AND key = %(key)s"
_GET_ENTITIES = f"SELECT {_E} FROM entity WHERE repo = %(repo)s AND key = ANY(%(keys)s)"
_BY_FQN = f"SELECT {_E} FROM entity WHERE repo = %(repo)s AND fqn = ANY(%(fqns)s)"
_BY_NAME = f"""SELECT {_E} FROM entity WHERE repo = %(repo)s AND name = ANY(%(names)s)
AND kind IN ('method', 'property')"""
_NAME_COUNTS = """SELECT name, count(*) FROM entity WHERE repo = %(repo)s AND lname LIKE %(pat)s
GROUP BY name"""
# Search's final order: tier, name length, level (modules 0, else qualname depth), position.
_RANKED_BY_NAMES = f"""SELECT {", ".join("e." + c for c in _ENTITY_COLS)} FROM entity e
JOIN unnest(%(names)s::text[], %(tiers)s::integer[]) AS w(name, tier) ON e.name = w.name
WHERE e.repo = %(repo)s
ORDER BY w.tier, length(e.name),
  CASE WHEN e.kind = 'module' THEN 0
       ELSE length(e.qualname) - length(replace(e.qualname, '.', '')) + 1 END,
  e.path, e.start_line, e.key
LIMIT %(limit)s"""
_ALIASES_OF = """SELECT fqn, path, target FROM alias WHERE repo = %(repo)s AND path = %(path)s
ORDER BY fqn, path, target"""
_ALIASES = """SELECT fqn, path, target FROM alias WHERE repo = %(repo)s AND fqn = ANY(%(fqns)s)
ORDER BY fqn, path, target"""
_EDGES_OF_PATHS = f"""SELECT {_G} FROM edge WHERE repo = %(repo)s AND path = ANY(%(paths)s)
ORDER BY path, src, kind, target_name"""
# The sources listed under the name (`edge_match.srcs`), then their calls by primary key.
_UNRESOLVED_CALLS_NAMING = f"""SELECT {_G} FROM edge WHERE repo = %(repo)s
AND kind = 'calls' AND resolution = 'unresolved' AND src IN (
  SELECT unnest(srcs) FROM edge_match WHERE repo = %(repo)s AND name = %(name)s)
ORDER BY path, line, src, target_name"""
_EDGES_OF_SRCS = f"""SELECT {_G} FROM edge WHERE repo = %(repo)s AND src = ANY(%(srcs)s)
AND kind = %(kind)s ORDER BY path, src, kind, target_name"""
_EDGES_TO_DSTS = f"""SELECT {_G} FROM edge WHERE repo = %(repo)s AND dst = ANY(%(dsts)s)
ORDER BY path, line, src, target_name"""
_FILE_STATES = f"SELECT {_F} FROM file WHERE repo = %(repo)s"
_FILE_PATHS = "SELECT path FROM file WHERE repo = %(repo)s"
# What `symbol_rows` reads of some files: the columns resolution needs.
_SYM_ENTITIES = """SELECT key, language, kind, name, qualname, path, start_line, signature, parent,
fqn FROM entity WHERE repo = %(repo)s AND path = ANY(%(paths)s)"""
_SYM_ALIASES = "SELECT fqn, path, target FROM alias WHERE repo = %(repo)s AND path = ANY(%(paths)s)"
_SYM_INHERITS = f"""SELECT {_G} FROM edge WHERE repo = %(repo)s AND path = ANY(%(paths)s)
AND kind = 'inherits'"""
_KNOWN_REPOS = "SELECT DISTINCT repo FROM file"
_COUNTS = """SELECT count(*), coalesce(sum(entities), 0), coalesce(sum(edges), 0)
FROM file WHERE repo = %(repo)s"""
# Files whose edges have one of the names among their match names (an index seek), then their
# non-exact edges, whose own match names are checked in Python (as in CozoStore).
# Edges of the files naming these names, for `model.may_change_elsewhere` to filter.
_RECHECKABLE_MATCHING = """SELECT e.path, e.kind, e.target_name, e.candidates, e.resolution
FROM edge e WHERE e.repo = %(repo)s AND cardinality(e.candidates) > 0 AND e.path IN
(SELECT m.path FROM edge_match m WHERE m.repo = %(repo)s AND m.name = ANY(%(names)s))"""
_STATS_FILES = """SELECT path LIKE '@%%', count(*) FROM file WHERE repo = %(repo)s GROUP BY 1"""
_STATS_ENTITIES = """SELECT kind, language, path LIKE '@%%', count(*) FROM entity
WHERE repo = %(repo)s GROUP BY 1, 2, 3"""
_STATS_EDGES = """SELECT kind, resolution, path LIKE '@%%', count(*) FROM edge
WHERE repo = %(repo)s GROUP BY 1, 2, 3"""

# Traversals: recursive CTEs seeded with the start key. UNION drops repeated (entity, depth)
# pairs, the depth bound ends cycles, and min(d) keeps each entity at its least depth.
_CALLERS = """WITH RECURSIVE reach(k, d) AS (
  SELECT src, 1 FROM edge WHERE repo = %(repo)s AND dst = %(key)s AND kind = 'calls'
  UNION
  SELECT e.src, r.d + 1 FROM reach r JOIN edge e
    ON e.repo = %(repo)s AND e.dst = r.k AND e.kind = 'calls' WHERE r.d < %(depth)s)
SELECT k, min(d) FROM reach WHERE k <> %(key)s GROUP BY k"""
_CALLEES = """WITH RECURSIVE reach(k, d) AS (
  SELECT dst, 1 FROM edge WHERE repo = %(repo)s AND src = %(key)s AND kind = 'calls'
    AND dst IS NOT NULL
  UNION
  SELECT e.dst, r.d + 1 FROM reach r JOIN edge e
    ON e.repo = %(repo)s AND e.src = r.k AND e.kind = 'calls'
    WHERE e.dst IS NOT NULL AND r.d < %(depth)s)
SELECT k, min(d) FROM reach WHERE k <> %(key)s GROUP BY k"""
_IMPACT = """WITH RECURSIVE reach(k, d) AS (
  SELECT src, 1 FROM edge WHERE repo = %(repo)s AND dst = %(key)s
  UNION
  SELECT e.src, r.d + 1 FROM reach r JOIN edge e
    ON e.repo = %(repo)s AND e.dst = r.k WHERE r.d < %(depth)s)
SELECT k, min(d) FROM reach WHERE k <> %(key)s GROUP BY k"""
_RESOLVED_PAIRS = """SELECT src, dst FROM edge WHERE repo = %(repo)s AND kind = %(kind)s
AND dst IS NOT NULL"""


class PgUrl:
    """A parsed connection string: what libpq gets, and isgraph's own options."""

    def __init__(self, url: str, default_repo: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise StoreError(f"not a PostgreSQL connection string: {url!r}")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.repo = options.pop("repo", "") or default_repo
        self.schema = options.pop("schema", "") or DEFAULT_SCHEMA
        if not self.repo:
            raise StoreError(f"{url!r}: empty repo name")
        if not _IDENT.fullmatch(self.schema):
            raise StoreError(f"{url!r}: schema must be a plain identifier, got {self.schema!r}")
        options.setdefault("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT_S))
        self.conninfo = urlunsplit(parts._replace(query=urlencode(options)))
        self.host = parts.hostname or "localhost (socket)"
        if parts.port:
            self.host += f":{parts.port}"
        # What the store reports as its url: no password, isgraph's options spelled out.
        netloc = parts.netloc.rpartition("@")[2]
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        shown = {"repo": self.repo, **({"schema": self.schema} if "schema" in parts.query else {})}
        self.display = urlunsplit(parts._replace(netloc=netloc, query=urlencode(shown)))


ALL_REPOS = "*"
_TABLES = ("meta", "file", "entity", "edge", "alias")


def _shadow_repos(conn: Conn, schema: str) -> None:
    """For a reader of every repository: temporary views named like the tables, whose `repo`
    column always reads ``*`` (temporary relations come first on the search path), so the
    store's queries, which all filter on `repo = %(repo)s`, see every repository's rows."""
    for table in _TABLES:
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
                " AND table_name = %s AND column_name <> 'repo' ORDER BY ordinal_position",
                (schema, table),
            )
        ]
        conn.execute(
            sql.SQL("CREATE TEMP VIEW {} AS SELECT {}::text AS repo, {} FROM {}.{}").format(
                sql.Identifier(table),
                sql.Literal(ALL_REPOS),
                sql.SQL(", ").join(sql.Identifier(c) for c in cols),
                sql.Identifier(schema),
                sql.Identifier(table),
            )
        )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


def _transient(exc: BaseException, conn: Conn | None) -> bool:
    """Worth retrying: a lost connection, a serialization failure or a deadlock."""
    if isinstance(exc, psycopg.errors.TransactionRollback):  # 40001, 40P01
        return True
    if isinstance(exc, psycopg.OperationalError) and (conn is None or conn.broken or conn.closed):
        return True
    return isinstance(exc, psycopg.errors.AdminShutdown)


class PostgresStore:
    """A Store on PostgreSQL, scoped to one ``repo`` namespace.

    Connections: one for writes (only the writer coroutine writes, one call at a time, so one
    connection is all it can use; it holds the session's staging tables) plus up to
    READ_POOL_SIZE read connections, opened on demand and reused (reads come from the
    resolver's thread, LSP requests and CLI queries at once). Reads run in autocommit: a
    single statement sees one committed state; reads of several statements run in one
    REPEATABLE READ transaction.
    """

    def __init__(self, url: str, default_repo: str = "default") -> None:
        self._url = PgUrl(url, default_repo)
        self.url = self._url.display
        self.repo = self._url.repo
        self.schema = self._url.schema
        # `repo=*`: read every repository of the database at once (read-only; see
        # `_shadow_repos`). Keys are unique per repository only: a key two repositories share
        # is answered from either.
        self.spans_all = self.repo == ALL_REPOS
        self._closed = False
        self._lock = threading.Lock()  # guards the writer connection and close()
        self._pool: queue.LifoQueue[Conn] = queue.LifoQueue()
        self._opened = 0  # read connections open (guarded by _pool_lock)
        self._pool_lock = threading.Lock()
        self.trigram = False
        self._writer: Conn | None = None
        self._writer = self._connect(writer=True)
        try:
            for attempt in range(RETRIES + 1):
                try:
                    self._migrate(self._writer)
                    break
                except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                    # Two first opens racing on catalog rows (CREATE SCHEMA/EXTENSION IF NOT
                    # EXISTS is not atomic across sessions): the loser sees them next time.
                    if attempt == RETRIES:
                        raise
            self._check_version()
        except psycopg.Error as exc:
            self.close()
            raise StoreError(f"cannot open store {self.url}: {_one_line(exc)}") from exc
        except BaseException:
            self.close()
            raise

    # -- connections --------------------------------------------------------------------------
    def _connect(self, *, writer: bool = False) -> Conn:
        try:
            conn = psycopg.connect(
                self._url.conninfo,
                autocommit=True,
                application_name=f"isgraph-{'writer' if writer else 'reader'}",
            )
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {self._url.host}: {_one_line(exc)}"
            ) from exc
        try:
            # The extension (pg_trgm) lives in public: keep it on the path after our schema.
            conn.execute(
                sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema))
            )
            if writer:
                for stmt in _STAGE:
                    conn.execute(stmt)
            else:
                if self.spans_all:
                    _shadow_repos(conn, self.schema)
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def backend_pid(self) -> int | None:
        """The server process of the write connection (fault-injection tests kill it)."""
        return self._writer.info.backend_pid if self._writer is not None else None

    @contextmanager
    def _reader(self) -> Iterator[Conn]:
        if self._closed:
            raise StoreError(f"store {self.url} is closed")
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            with self._pool_lock:
                grow = self._opened < READ_POOL_SIZE
                if grow:
                    self._opened += 1
            if grow:
                try:
                    conn = self._connect()
                except BaseException:
                    with self._pool_lock:
                        self._opened -= 1
                    raise
            else:
                conn = self._pool.get()
        try:
            yield conn
        finally:
            if conn.broken or conn.closed or self._closed:
                conn.close()
                with self._pool_lock:
                    self._opened -= 1
            else:
                self._pool.put(conn)

    def _read(self, fn: Callable[[Conn], T], *, snapshot: bool = False) -> T:
        """Run a read; ``snapshot``: its statements see one state. A lost connection (a
        server restart, an idle connection killed) is retried once on a fresh one."""
        for attempt in range(2):
            try:
                with self._reader() as conn:
                    if not snapshot:
                        return fn(conn)
                    with conn.transaction():
                        return fn(conn)
            except psycopg.Error as exc:
                if attempt == 0 and isinstance(exc, psycopg.OperationalError):
                    continue
                raise StoreError(f"store query failed ({self.url}): {_one_line(exc)}") from exc
        raise AssertionError("unreachable")

    def _rows(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        args = {"repo": self.repo, **(params or {})}

        def run(conn: Conn) -> list[tuple[Any, ...]]:
            return conn.execute(query, args).fetchall()

        return self._read(run)

    def _write(self, what: str, fn: Callable[[Conn], None]) -> None:
        """Run ``fn`` in one transaction on the write connection; retry transient failures
        RETRIES times (reconnecting when the connection was lost), then fail naming ``what``."""
        if self.spans_all:
            raise StoreError(
                f"store {self.url} spans every repository and is read-only: "
                f"name one repository (?repo=NAME) to write ({what})"
            )
        with self._lock:
            for attempt in range(RETRIES + 1):
                if self._closed:
                    raise StoreError(f"store {self.url} is closed")
                conn = self._writer
                try:
                    if conn is None or conn.closed or conn.broken:
                        if conn is not None:
                            conn.close()
                        self._writer = conn = None
                        self._writer = conn = self._connect(writer=True)
                    with conn.transaction():
                        fn(conn)
                    return
                except StoreError as exc:  # reconnecting failed
                    last = str(exc)
                except psycopg.Error as exc:
                    last = _one_line(exc)
                    if not _transient(exc, conn):
                        raise StoreError(f"write of {what} failed: {last}") from exc
                if attempt < RETRIES:
                    log.warning(
                        "write of %s failed (%s); retry %d/%d", what, last, attempt + 1, RETRIES
                    )
                    time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            raise StoreError(f"write of {what} failed after {RETRIES} retries: {last}")

    # -- schema ---------------------------------------------------------------------------------
    def _migrate(self, conn: Conn) -> None:
        """Create the schema or bring it forward, under an advisory lock (many writers may
        open a new database at once); enable pg_trgm when the server has it."""
        ident = sql.Identifier(self.schema)
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"isgraph-migrate:{self.schema}",),
            )
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS isgraph_migrations (version integer PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            row = conn.execute(
                "SELECT coalesce(max(version), 0) FROM isgraph_migrations"
            ).fetchone()
            level = int(row[0]) if row and row[0] is not None else 0
            if level > SCHEMA_LEVEL:
                raise SchemaMismatchError(
                    f"PostgreSQL schema {self.schema!r} is at version {level}, newer than this "
                    f"isgraph knows ({SCHEMA_LEVEL}): upgrade isgraph"
                )
            for version in range(level + 1, SCHEMA_LEVEL + 1):
                for stmt in MIGRATIONS[version - 1]:
                    conn.execute(stmt)
                conn.execute("INSERT INTO isgraph_migrations (version) VALUES (%s)", (version,))
            self.trigram = self._enable_trigram(conn)

    def _enable_trigram(self, conn: Conn) -> bool:
        """The trigram index for substring search, when pg_trgm can be had (else substring
        search scans the repo's names: correct, slower)."""
        found = conn.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        ).fetchone()
        if found is None:
            try:
                with conn.transaction():  # a savepoint: failure leaves the migration intact
                    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            except psycopg.Error as exc:
                log.info("pg_trgm unavailable (%s): substring search scans", _one_line(exc))
                return False
            found = ("public",)
        # Look before creating: CREATE INDEX takes a SHARE lock on the table even when the
        # index exists, which would make this open wait for every writer's transaction.
        exists = conn.execute(
            "SELECT to_regclass(%s)", (f'"{self.schema}".entity_lname_trgm',)
        ).fetchone()
        if exists is None or exists[0] is None:
            ops = sql.SQL("{}.gin_trgm_ops").format(sql.Identifier(str(found[0])))
            conn.execute(sql.SQL(_TRGM_INDEX).format(ops=ops))
        return True

    def _check_version(self) -> None:
        """The data-model version of this repo's rows (``meta.schema_version``)."""
        found = self.get_meta("schema_version")
        if found is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif found != str(SCHEMA_VERSION):
            raise SchemaMismatchError(
                f"repo {self.repo!r} in {self.url} has schema version {found} but this isgraph "
                f"needs {SCHEMA_VERSION}: delete its rows (`DELETE FROM <table> WHERE repo = "
                f"'{self.repo}'` in schema {self.schema}) or use another repo name, and index again"
            )

    def close(self) -> None:
        """Close every connection. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._writer is not None:
                self._writer.close()
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break

    # -- writes -------------------------------------------------------------------------------
    def write_files(self, results: Sequence[FileResult], removed: Sequence[str] = ()) -> None:
        """One transaction: delete every row of each result's and each removed path, then put
        the results' rows (COPY into staging tables, then one merge per table). A path both
        removed and in ``results`` ends up holding the result; of two results for one path,
        the later wins."""
        latest = list({r.path: r for r in results}.values())
        written = {r.path for r in latest}
        paths = sorted(written | set(removed))
        if not paths:
            return
        for r in latest:
            _check_edges(r)
        # One row per key (ON CONFLICT cannot touch a row twice), the one CozoStore keeps.
        entities = _one_per_key(
            (
                (
                    e.key,
                    e.language,
                    e.kind,
                    e.name,
                    e.name.lower(),
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
                )
                for r in latest
                for e in r.entities
            ),
            lambda row: row[0],
        )
        edges = _one_per_key(
            (edge_row(e) for r in latest for e in r.edges),
            lambda row: (row[1], row[2], row[3]),
        )
        aliases = _one_per_key(
            ((a.fqn, a.path, a.target) for r in latest for a in r.aliases), lambda row: row[:2]
        )
        matches = {r[:2]: r for r in match_rows(e for r in latest for e in r.edges)}
        files = [
            (
                r.path,
                r.language,
                r.content_hash,
                r.size,
                r.mtime_ns,
                r.status,
                r.error,
                len(r.entities),
                len(r.edges) + r.deferred_count,
            )
            for r in latest
        ]
        params = {
            "repo": self.repo,
            "paths": paths,
            "removed": sorted(set(removed) - written),
            "keys": list(entities),
        }

        def txn(conn: Conn) -> None:
            with conn.cursor() as cur:
                if files:
                    _copy(cur, "isg_stage_file", _FILE_COLS, files)
                    cur.execute(_MERGE_FILES, params)
                if params["removed"]:
                    cur.execute(_LOCK_REMOVED, params)
                cur.execute(_UNLINK_VANISHED, params)
                cur.execute(_DELETE_ROWS, params)
                for table, cols, rows, merge in (
                    ("isg_stage_entity", _STAGE_ENTITY_COLS, entities, _MERGE_ENTITIES),
                    ("isg_stage_edge", _EDGE_COLS, edges, _MERGE_EDGES),
                    ("isg_stage_alias", ("fqn", "path", "target"), aliases, _MERGE_ALIASES),
                    ("isg_stage_match", ("path", "name", "srcs"), matches, _MERGE_MATCHES),
                ):
                    if rows:
                        _copy(cur, table, cols, rows.values())
                        cur.execute(merge, params)

        self._write(_name_files(paths), txn)

    def update_edges(self, updates: Sequence[EdgeUpdate]) -> None:
        """One transaction; updates of edges that no longer exist are skipped."""
        if not updates:
            return
        # Last verdict per edge wins; key order keeps lock order stable across writers.
        latest = {(u.src, str(u.kind), u.target_name): u for u in updates}
        rows = [latest[k] for k in sorted(latest)]
        params = {
            "repo": self.repo,
            "src": [u.src for u in rows],
            "kind": [str(u.kind) for u in rows],
            "target": [u.target_name for u in rows],
            "dst": [u.dst for u in rows],
            "res": [str(u.resolution) for u in rows],
        }
        paths = sorted({u.path for u in rows})

        def txn(conn: Conn) -> None:
            conn.execute(_UPDATE_EDGES, params)

        self._write(f"edge updates of {_name_files(paths)}", txn)

    def add_edges(self, edges: Sequence[Edge], hashes: Sequence[tuple[str, str]]) -> None:
        """One transaction: the deferred calls of ``hashes``' files, then their hashes."""
        if not hashes:
            return
        rows = _one_per_key((edge_row(e) for e in edges), lambda row: (row[1], row[2], row[3]))
        matches = match_rows(edges)
        ordered = sorted(hashes)  # lock order stable across writers
        params = {
            "repo": self.repo,
            "paths": [p for p, _ in ordered],
            "hashes": [h for _, h in ordered],
        }

        def txn(conn: Conn) -> None:
            with conn.cursor() as cur:
                cur.execute(_LOCK_FILES, params)
                if rows:
                    _copy(cur, "isg_stage_edge", _EDGE_COLS, rows.values())
                    cur.execute(_ADD_EDGES, params)
                if matches:
                    _copy(cur, "isg_stage_match", ("path", "name", "srcs"), matches)
                    cur.execute(_ADD_MATCHES, params)
                cur.execute(_SET_HASHES, params)

        self._write(f"calls of {_name_files(params['paths'])}", txn)

    def set_meta(self, key: str, value: str) -> None:
        params = {"repo": self.repo, "k": key, "v": value}

        def txn(conn: Conn) -> None:
            conn.execute(_PUT_META, params)

        self._write(f"meta {key}", txn)

    def set_metadata(self, rows: Sequence[tuple[str, str | None]]) -> None:
        if not rows:
            return
        latest = dict(rows)  # key order keeps lock order stable across writers
        keys = sorted(latest)
        params = {"repo": self.repo, "keys": keys, "metadata": [latest[k] for k in keys]}

        def txn(conn: Conn) -> None:
            conn.execute(_SET_METADATA, params)

        self._write(f"metadata of {len(keys)} entities", txn)

    # -- reads --------------------------------------------------------------------------------
    def known_repos(self) -> list[str] | None:
        return sorted(str(r[0]) for r in self._rows(_KNOWN_REPOS))

    def get_meta(self, key: str) -> str | None:
        rows = self._rows(_GET_META, {"k": key})
        return str(rows[0][0]) if rows else None

    def file_states(self) -> dict[str, FileState]:
        return {r[0]: FileState(*r[:9]) for r in self._rows(_FILE_STATES)}

    def counts(self) -> tuple[int, int, int]:
        files, entities, edges = self._rows(_COUNTS)[0]
        return int(files), int(entities), int(edges)

    def get_entity(self, key: str) -> Entity | None:
        rows = self._rows(_GET_ENTITY, {"key": key})
        return Entity(*rows[0]) if rows else None

    def get_entities(self, keys: Iterable[str]) -> dict[str, Entity]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        return {r[0]: Entity(*r) for r in self._rows(_GET_ENTITIES, {"keys": wanted})}

    def find_entities(
        self,
        *,
        name: str | None = None,
        name_contains: str | None = None,
        kind: str | None = None,
        path: str | None = None,
        limit: int | None = None,
    ) -> list[Entity]:
        where = ["repo = %(repo)s"]
        params: dict[str, Any] = {}
        if name is not None:
            where.append("name = %(name)s")
            params["name"] = name
        if name_contains is not None:
            where.append("lname LIKE %(sub)s")
            params["sub"] = f"%{_like_escape(name_contains.lower())}%"
        if kind is not None:
            where.append("kind = %(kind)s")
            params["kind"] = kind
        if path is not None:
            where.append("path = %(path)s")
            params["path"] = path
        query = (
            f"SELECT {_E} FROM entity WHERE {' AND '.join(where)} ORDER BY path, start_line, key"
        )
        if limit is not None:
            query += " LIMIT %(limit)s"
            params["limit"] = limit
        return [Entity(*r) for r in self._rows(query, params)]

    def entities_by_fqn(self, fqns: Iterable[str]) -> dict[str, list[Entity]]:
        wanted = list(set(fqns))
        out: dict[str, list[Entity]] = defaultdict(list)
        if wanted:
            for row in self._rows(_BY_FQN, {"fqns": wanted}):
                ent = Entity(*row)
                out[ent.fqn].append(ent)
        for ents in out.values():
            ents.sort(key=lambda e: (e.path, e.start_line, e.key))
        return dict(out)

    def methods_named(self, names: Iterable[str]) -> dict[str, list[Entity]]:
        wanted = list(set(names))
        out: dict[str, list[Entity]] = defaultdict(list)
        if wanted:
            for row in self._rows(_BY_NAME, {"names": wanted}):
                ent = Entity(*row)
                out[ent.name].append(ent)
        for ents in out.values():
            ents.sort(key=lambda e: e.key)  # CozoStore's order: by key
        return dict(out)

    def aliases_of(self, path: str) -> list[Alias]:
        return [Alias(p, f, t) for f, p, t in self._rows(_ALIASES_OF, {"path": path})]

    def aliases(self, fqns: Iterable[str]) -> dict[str, Alias]:
        wanted = list(set(fqns))
        out: dict[str, Alias] = {}
        if wanted:
            # One per name: the workspace's before a stub's (see Store.aliases).
            rows = self._rows(_ALIASES, {"fqns": wanted})
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
        where = ["repo = %(repo)s"]
        params: dict[str, Any] = {}
        for col, value in (
            ("kind", kind),
            ("path", path),
            ("src", src),
            ("dst", dst),
            ("resolution", resolution),
        ):
            if value is not None:
                where.append(f"{col} = %({col})s")
                params[col] = value
        query = (
            f"SELECT {_G} FROM edge WHERE {' AND '.join(where)} "
            "ORDER BY path, line, src, target_name"
        )
        return [_edge(r) for r in self._rows(query, params)]

    def edges_from_paths(self, paths: Iterable[str]) -> list[Edge]:
        wanted = list(set(paths))
        return [_edge(r) for r in self._rows(_EDGES_OF_PATHS, {"paths": wanted})] if wanted else []

    def unresolved_calls_naming(self, name: str) -> list[Edge]:
        return [_edge(r) for r in self._rows(_UNRESOLVED_CALLS_NAMING, {"name": name})]

    def symbol_rows(self) -> Iterator[SymbolRows]:
        paths = [r[0] for r in self._rows(_FILE_PATHS)]
        queries = (_SYM_ENTITIES, _SYM_ALIASES, _SYM_INHERITS)
        return read_symbol_rows(paths, self._rows, queries, _edge)

    def edges_to(self, dsts: Iterable[str]) -> list[Edge]:
        wanted = list(set(dsts))
        if not wanted:
            return []
        return [_edge(r) for r in self._rows(_EDGES_TO_DSTS, {"dsts": wanted})]

    def edges_from_srcs(self, srcs: Iterable[str], kind: str) -> list[Edge]:
        wanted = list(set(srcs))
        if not wanted:
            return []
        return [_edge(r) for r in self._rows(_EDGES_OF_SRCS, {"srcs": wanted, "kind": kind})]

    def edge_paths_to_recheck(self, names: Iterable[str]) -> set[str]:
        wanted = set(names)
        if not wanted:
            return set()
        rows = self._rows(_RECHECKABLE_MATCHING, {"names": sorted(wanted)})
        return {
            str(r[0])
            for r in rows
            if may_change_elsewhere(r[4], r[3]) and _edge_matches(wanted, *r[1:4])
        }

    def _reach(self, query: str, key: str, depth: int) -> list[Reach]:
        if depth < 1:
            return []
        rows = self._rows(query, {"key": key, "depth": depth})
        return sorted((Reach(k, d) for k, d in rows), key=lambda r: (r.depth, r.key))

    def callers(self, key: str, depth: int = 1) -> list[Reach]:
        return self._reach(_CALLERS, key, depth)

    def callees(self, key: str, depth: int = 1) -> list[Reach]:
        return self._reach(_CALLEES, key, depth)

    def impact(self, key: str, depth: int = 3) -> list[Reach]:
        return self._reach(_IMPACT, key, depth)

    def cycles(self, kind: str = "calls", limit: int = 100) -> list[list[str]]:
        """Components sorted by size (largest first), then by their first key.

        The resolved pairs are fetched and Tarjan's algorithm runs here: SQL has no SCC, and
        the recursive-CTE alternative (a transitive closure, then mutual reachability) is
        O(V * E) rows; one indexed scan of the pairs plus a linear pass is cheaper at any size.
        """
        pairs = self._rows(_RESOLVED_PAIRS, {"kind": kind})
        found = sorted((sorted(c) for c in _cycles(pairs)), key=lambda c: (-len(c), c))
        return found[: max(limit, 0)]

    def search(self, query: str, limit: int = 20) -> list[Entity]:
        """Ranked like CozoStore (see ``store.ranking``). Exact, prefix and substring matches
        are found in SQL (the trigram index serves substrings of 3+ letters); subsequence
        matches are looked for only when those are too few."""
        q = query.strip().lower()
        if not q or limit <= 0:
            return []
        like = _like_escape(q)

        def names(conn: Conn, pattern: str) -> list[tuple[str, int]]:
            return [
                (str(n), int(c))
                for n, c in conn.execute(_NAME_COUNTS, {"repo": self.repo, "pat": pattern})
            ]

        def run(conn: Conn) -> list[Entity]:
            # Exact and prefix matches first (a range scan of the lname index): when they
            # already hold `limit` entities, no substring match can make the cut.
            ranked = [(_substring_tier(n, q), len(n), n, c) for n, c in names(conn, f"{like}%")]
            if sum(r[3] for r in ranked) < limit:
                ranked += [
                    (2, len(n), n, c)
                    for n, c in names(conn, f"%{like}%")
                    if not n.lower().startswith(q)
                ]
            if sum(r[3] for r in ranked) < limit:
                for n, c in names(conn, "%" + "%".join(_like_escape(ch) for ch in q) + "%"):
                    t = ranking.tier(n, q)
                    if t is not None and t >= 3:  # substring matches are ranked already
                        ranked.append((t, len(n), n, c))
            ranked.sort()
            wanted = ranking.take(ranked, limit)
            if not wanted:
                return []
            # The final order, computed in SQL so that only `limit` rows come back (a name
            # like __init__ has thousands of entities).
            tiers = {name: t for t, _, name, _ in ranked}
            args = {
                "repo": self.repo,
                "names": wanted,
                "tiers": [tiers[n] for n in wanted],
                "limit": limit,
            }
            return [Entity(*r) for r in conn.execute(_RANKED_BY_NAMES, args)]

        return ranking.order(self._read(run, snapshot=True), q)[:limit]

    def stats(self, stubs: bool = False) -> Stats:
        def run(conn: Conn) -> Stats:
            args = {"repo": self.repo}
            return fold_stats(
                conn.execute(_STATS_FILES, args).fetchall(),
                conn.execute(_STATS_ENTITIES, args).fetchall(),
                conn.execute(_STATS_EDGES, args).fetchall(),
                stubs=stubs,
            )

        return self._read(run, snapshot=True)


def _copy(
    cur: psycopg.Cursor[TupleRow], table: str, cols: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _edge_matches(wanted: set[str], kind: str, target_name: str, candidates: list[str]) -> bool:
    edge = Edge("", kind, target_name, "", 0, candidates=tuple(candidates))
    return not wanted.isdisjoint(edge_match_names(edge))


def _edge(row: Sequence[Any]) -> Edge:
    path, src, kind, target_name, dst, resolution, line, candidates, sites = row
    return Edge(
        src, kind, target_name, path, line, dst, resolution, tuple(candidates), decode_sites(sites)
    )


def _one_per_key(
    rows: Iterable[Sequence[Any]], key: Callable[[Sequence[Any]], Any]
) -> dict[Any, Sequence[Any]]:
    """One row per key. On duplicates (e.g. ``import posixpath as path`` and ``import ntpath as
    path`` under if/else: one alias key, two targets) the row that sorts last wins, as in
    CozoStore, whose :put takes its input rows as a sorted set."""
    rows = list(rows)
    out = {key(row): row for row in rows}
    if len(out) < len(rows):
        out = {}
        for row in sorted(rows, key=lambda r: tuple((0, "") if v is None else (1, v) for v in r)):
            out[key(row)] = row
    return out


def _substring_tier(name: str, q: str) -> int:
    """Tier of a name known to contain ``q``: exact 0, prefix 1, substring 2."""
    lname = name.lower()
    return 0 if lname == q else 1 if lname.startswith(q) else 2


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_files(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:5])
    return f"{shown} (+{len(paths) - 5} more)" if len(paths) > 5 else shown


def _check_edges(result: FileResult) -> None:
    """Edges are found through their file's path when it is replaced: an edge whose source
    is not an entity of its file would outlive that entity (as in CozoStore)."""
    keys = {e.key for e in result.entities}
    for edge in result.edges:
        if edge.src not in keys or edge.path != result.path:
            raise StoreError(
                f"edge {edge.src} -> {edge.target_name!r} in {result.path}: its source is not "
                "an entity of that file"
            )


def _cycles(pairs: Iterable[Sequence[Any]]) -> list[list[str]]:
    """Strongly connected components of size > 1, and self-loops (iterative Tarjan: a call
    graph's depth would overflow Python's recursion limit)."""
    graph: dict[str, list[str]] = defaultdict(list)
    loops: set[str] = set()
    for src, dst in pairs:
        graph[src].append(dst)
        if src == dst:
            loops.add(src)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in list(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph.get(root, ())))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1 or node in loops:
                    found.append(comp)
    return found
