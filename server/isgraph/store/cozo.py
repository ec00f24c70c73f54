"""CozoDB store (embedded: mem, sqlite, rocksdb). The only module that imports pycozo.

Relations (``*`` marks keys):
  meta   {*k => v}
  file   {*path => language, hash, size, mtime_ns, status, error, entities, edges}
  entity {*key => language, kind, name, qualname, path, start_line, start_col, end_line,
          end_col, signature, doc, parent, fqn, metadata}      indices: by_path, by_fqn, by_name
  edge   {*src, *kind, *target_name => path, dst, resolution, line, candidates}
                                                                index: by_dst
(An edge's ``src`` is always an entity of the edge's own file, so a file's edges are found
through its entities: keying edges by ``src`` serves callees and file replacement with one
index fewer to maintain on every write.)
  alias  {*fqn, *path => target}                                index: by_path

Every write method is one Cozo transaction (a chain of ``{...}`` blocks in one script), so a
file's old rows and new rows change together. Scripts are module constants: Cozo parses the
text on each call, but building it once keeps the hot paths (point lookups) lean.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pycozo.client import Client, QueryException

from isgraph.model import SCHEMA_VERSION, Alias, Edge, Entity, FileResult, FileState, Resolution
from isgraph.store.base import (
    EdgeUpdate,
    Reach,
    SchemaMismatchError,
    Stats,
    StoreError,
    StoreLockedError,
)

T = TypeVar("T")

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
_EDGE_COLS = ("path", "src", "kind", "target_name", "dst", "resolution", "line", "candidates")
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

SCHEMA = [
    ":create meta {k: String => v: String}",
    ":create file {path: String => language: String, hash: String, size: Int, mtime_ns: Int,"
    " status: String, error: String?, entities: Int, edges: Int}",
    ":create entity {key: String => language: String, kind: String, name: String,"
    " qualname: String, path: String, start_line: Int, start_col: Int, end_line: Int,"
    " end_col: Int, signature: String, doc: String, parent: String?, fqn: String,"
    " metadata: String?}",
    "::index create entity:by_path {path}",
    "::index create entity:by_fqn {fqn}",
    "::index create entity:by_name {name}",
    ":create edge {src: String, kind: String, target_name: String =>"
    " path: String, dst: String?, resolution: String, line: Int, candidates: [String]}",
    "::index create edge:by_dst {dst, kind, src}",
    ":create alias {fqn: String, path: String => target: String}",
    "::index create alias:by_path {path}",
]

_DELETE_PATHS = [  # edges first: they are found through the file's (old) entities
    "{?[src, kind, target_name] := path in $paths, *entity:by_path{path, key: src},"
    " *edge{src, kind, target_name} :rm edge {src, kind, target_name}}",
    "{?[key] := path in $paths, *entity:by_path{path, key} :rm entity {key}}",
    "{?[fqn, path] := path in $paths, *alias:by_path{path, fqn} :rm alias {fqn, path}}",
    "{?[path] := path in $paths, *file{path} :rm file {path}}",
]
_PUT_ENTITIES = f"{{?[{_E}] <- $entities :put entity {{key => {_E_VALS}}}}}"
_PUT_EDGES = (
    f"{{?[{_G}] <- $edges :put edge {{src, kind, target_name => path, dst, resolution, line,"
    " candidates}}"
)
_PUT_ALIASES = "{?[fqn, path, target] <- $aliases :put alias {fqn, path => target}}"
_PUT_FILES = f"{{?[{_F}] <- $files :put file {{path => {', '.join(_FILE_COLS[1:])}}}}}"
_UPDATE_EDGES = (
    "?[src, kind, target_name, dst, resolution] <- $rows"
    " :update edge {src, kind, target_name => dst, resolution}"
)
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
_EDGES_OF_PATHS = (
    f"k[src] := path in $paths, *entity:by_path{{path, key: src}}\n?[{_G}] := k[src], *edge{{{_G}}}"
)
# The bridging rule must bind *every* key column of the main relation, or Cozo scans.
_EDGES_OF_SRCS = f"?[{_G}] := src in $srcs, *edge{{{_G}}}, kind = $kind"
_FILE_STATES = f"?[{_F}] := *file{{{_F}}}"

# Traversals are seeded with the start key inside the rule body and join the stored
# relations (never a recursive rule called with a constant: that computes the whole closure).
_CALLERS = """
reach[k, d] := *edge:by_dst{dst: $key, src: k, kind: 'calls'}, d = 1
reach[k, d] := reach[m, d0], d0 < $depth, *edge:by_dst{dst: m, src: k, kind: 'calls'}, d = d0 + 1
?[k, min(d)] := reach[k, d], k != $key
"""
_CALLEES = """
reach[k, d] := *edge{src: $key, kind: 'calls', dst: k}, !is_null(k), d = 1
reach[k, d] := reach[m, d0], d0 < $depth, *edge{src: m, kind: 'calls', dst: k},
               !is_null(k), d = d0 + 1
?[k, min(d)] := reach[k, d], k != $key
"""
_IMPACT = """
reach[k, d] := *edge:by_dst{dst: $key, src: k}, d = 1
reach[k, d] := reach[m, d0], d0 < $depth, *edge:by_dst{dst: m, src: k}, d = d0 + 1
?[k, min(d)] := reach[k, d], k != $key
"""
_RESOLVED_PAIRS = "?[src, dst] := *edge{src, dst, kind: $kind}, !is_null(dst)"
_RECHECK = """
dangling[path] := *edge{path, dst}, !is_null(dst), not *entity{key: dst}
named[path] := *edge{path, target_name, resolution}, resolution != 'exact',
               tail = regex_replace(target_name, '^.*[.]', ''), tail in $names
?[path] := dangling[path]
?[path] := named[path]
"""
_NAMES = "?[name] := *entity:by_name{name}"
_BY_NAMES = (
    f"k[key] := name in $names, *entity:by_name{{name, key}}\n?[{_E}] := k[key], *entity{{{_E}}}"
)
# Every write_files bumps this (a fresh token, no read-modify-write), so a process holding a
# cache of names knows, with one point read, whether any process has changed the store.
_BUMP_GENERATION = "{?[k, v] <- [['generation', $generation]] :put meta {k => v}}"


BUSY_TIMEOUT_S = 10.0
TRIM_INTERVAL_S = 0.05


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None
    return trim


_malloc_trim = _load_malloc_trim()
_last_trim = 0.0


def _release_memory() -> None:
    """Hand freed heap back to the OS after a large write.

    CozoDB's native side frees its per-transaction buffers into glibc's malloc, which keeps
    them: without this, resident memory grows with the size of the store (measured: peak
    233 -> 187 MB, and 225 -> 128 MB at the end, for two copies of the stdlib).
    """
    global _last_trim
    now = time.monotonic()
    if _malloc_trim is not None and now - _last_trim > TRIM_INTERVAL_S:
        _last_trim = now
        _malloc_trim(0)


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
            busy = "database is locked" in str(exc) or "database is busy" in str(exc)
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
    path, src, kind, target_name, dst, resolution, line, candidates = row
    return Edge(src, kind, target_name, path, line, dst, resolution, tuple(candidates))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # Cozo's messages are miette reports: strip their box-drawing frame to get one line.
    frame = " \u2502\u00d7"  # space, box-drawing bar, multiplication sign
    lines = [ln.strip(frame).strip() for ln in text.splitlines() if ln.strip(frame).strip()]
    return " ".join(lines)[:300] if lines else type(exc).__name__


class CozoStore:
    """A Store on embedded CozoDB. ``engine`` is mem, sqlite or rocksdb."""

    def __init__(self, engine: str, path: str = "") -> None:
        self.engine = engine
        self.path = path
        self.url = "mem" if engine == "mem" else f"{engine}:{path}"
        self._closed = False
        self._names: tuple[str, dict[str, list[str]]] | None = None
        self._names_generation: str | None = None
        self._lock = threading.Lock()  # guards close() against concurrent use
        if engine != "mem":
            parent = Path(path).parent if engine == "sqlite" else Path(path)
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create store directory {parent}: {exc.strerror}") from exc
            if not os.access(parent, os.W_OK):
                raise StoreError(f"store directory is not writable: {parent}")
        try:
            self._db = _retry_busy(lambda: Client(engine, path, dataframe=False))
        except Exception as exc:
            msg = _one_line(exc)
            if "lock" in msg.lower():
                raise StoreLockedError(
                    f"store {path} is locked by another process (the {engine} engine allows one "
                    "process at a time; use the sqlite engine to share a store)"
                ) from exc
            raise StoreError(f"cannot open store {self.url}: {msg}") from exc
        self._ensure_schema()

    # -- plumbing -----------------------------------------------------------------------------
    def _run(self, script: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        if self._closed:
            raise StoreError("store is closed")
        try:
            rows: list[list[Any]] = _retry_busy(lambda: self._db.run(script, params or {}))["rows"]
        except QueryException as exc:
            raise StoreError(f"store query failed: {_one_line(exc)}") from exc
        except Exception as exc:  # engine errors (I/O, disk full) come as plain Exception
            raise StoreError(f"store error: {_one_line(exc)}") from exc
        return rows

    def _ensure_schema(self) -> None:
        try:
            rows = self._db.run("?[v] := *meta{k: 'schema_version', v}", {})["rows"]
        except QueryException as exc:
            if getattr(exc, "code", "") != "query::relation_not_found":
                raise StoreError(f"cannot read store {self.url}: {_one_line(exc)}") from exc
            rows = None
        except Exception as exc:
            raise StoreError(f"cannot read store {self.url}: {_one_line(exc)}") from exc
        if rows:
            found = rows[0][0]
            if found != str(SCHEMA_VERSION):
                raise SchemaMismatchError(
                    f"store {self.url} has schema version {found}, this isgraph needs "
                    f"{SCHEMA_VERSION}: delete it and index again"
                )
            return
        for stmt in SCHEMA:
            self._run(stmt)
        self.set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    # -- writes -------------------------------------------------------------------------------
    def write_files(self, results: Sequence[FileResult], removed: Sequence[str] = ()) -> None:
        paths = sorted({r.path for r in results} | set(removed))
        if not paths:
            return
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
            for r in results
            for e in r.entities
        ]
        edges = [
            [
                e.path,
                e.src,
                str(e.kind),
                e.target_name,
                e.dst,
                str(e.resolution),
                e.line,
                list(e.candidates),
            ]
            for r in results
            for e in r.edges
        ]
        aliases = [[a.fqn, a.path, a.target] for r in results for a in r.aliases]
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
                len(r.edges),
            ]
            for r in results
        ]
        blocks = [*_DELETE_PATHS, _BUMP_GENERATION]
        params: dict[str, Any] = {"paths": paths, "generation": uuid.uuid4().hex}
        for block, name, rows in (
            (_PUT_ENTITIES, "entities", entities),
            (_PUT_EDGES, "edges", edges),
            (_PUT_ALIASES, "aliases", aliases),
            (_PUT_FILES, "files", files),
        ):
            if rows:
                blocks.append(block)
                params[name] = rows
        self._run("\n".join(blocks), params)
        _release_memory()

    def update_edges(self, updates: Sequence[EdgeUpdate]) -> None:
        if updates:
            rows = [[u.src, u.kind, u.target_name, u.dst, u.resolution] for u in updates]
            self._run(_UPDATE_EDGES, {"rows": rows})
            _release_memory()

    def set_meta(self, key: str, value: str) -> None:
        self._run("?[k, v] <- [[$k, $v]] :put meta {k => v}", {"k": key, "v": value})

    # -- reads --------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._run("?[v] := *meta{k: $k, v}", {"k": key})
        return str(rows[0][0]) if rows else None

    def file_states(self) -> dict[str, FileState]:
        return {r[0]: FileState(*r[:7]) for r in self._run(_FILE_STATES)}

    def counts(self) -> tuple[int, int, int]:
        # Per-file counts kept in the file rows: summing 2k rows beats counting 300k.
        rows = self._run(
            "?[count(path), sum(entities), sum(edges)] := *file{path, entities, edges}"
        )
        files, entities, edges = rows[0] if rows else (0, 0, 0)
        return int(files), int(entities or 0), int(edges or 0)

    def get_entity(self, key: str) -> Entity | None:
        rows = self._run(_GET_ENTITY, {"key": key})
        return Entity(key, *rows[0]) if rows else None

    def get_entities(self, keys: Iterable[str]) -> dict[str, Entity]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        return {r[0]: _entity(r) for r in self._run(_GET_ENTITIES, {"keys": wanted})}

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
        return [_entity(r) for r in self._run(script, params)]

    def entities_by_fqn(self, fqns: Iterable[str]) -> dict[str, list[Entity]]:
        wanted = list(set(fqns))
        out: dict[str, list[Entity]] = defaultdict(list)
        if wanted:
            for row in self._run(_BY_FQN, {"fqns": wanted}):
                ent = _entity(row)
                out[ent.fqn].append(ent)
        for ents in out.values():
            ents.sort(key=lambda e: (e.path, e.start_line, e.key))
        return dict(out)

    def methods_named(self, names: Iterable[str]) -> dict[str, list[Entity]]:
        wanted = list(set(names))
        out: dict[str, list[Entity]] = defaultdict(list)
        if wanted:
            for row in self._run(_BY_NAME, {"names": wanted}):
                ent = _entity(row)
                out[ent.name].append(ent)
        return dict(out)

    def aliases(self, fqns: Iterable[str]) -> dict[str, Alias]:
        wanted = list(set(fqns))
        out: dict[str, Alias] = {}
        if wanted:
            for fqn, path, target in sorted(self._run(_ALIASES, {"fqns": wanted})):
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
        return [_edge(r) for r in self._run(script, params)]

    def edges_from_srcs(self, srcs: Iterable[str], kind: str) -> list[Edge]:
        wanted = list(set(srcs))
        if not wanted:
            return []
        return [_edge(r) for r in self._run(_EDGES_OF_SRCS, {"srcs": wanted, "kind": kind})]

    def edges_from_paths(self, paths: Iterable[str]) -> list[Edge]:
        wanted = list(set(paths))
        return [_edge(r) for r in self._run(_EDGES_OF_PATHS, {"paths": wanted})] if wanted else []

    def edge_paths_to_recheck(self, names: Iterable[str]) -> set[str]:
        return {r[0] for r in self._run(_RECHECK, {"names": list(set(names))})}

    def _reach(self, script: str, key: str, depth: int) -> list[Reach]:
        rows = self._run(script, {"key": key, "depth": depth})
        return sorted((Reach(k, d) for k, d in rows), key=lambda r: (r.depth, r.key))

    def callers(self, key: str, depth: int = 1) -> list[Reach]:
        return self._reach(_CALLERS, key, depth)

    def callees(self, key: str, depth: int = 1) -> list[Reach]:
        return self._reach(_CALLEES, key, depth)

    def impact(self, key: str, depth: int = 3) -> list[Reach]:
        return self._reach(_IMPACT, key, depth)

    def cycles(self, kind: str = "calls", limit: int = 100) -> list[list[str]]:
        # cozo-embedded 0.7.6 ships without the graph-algorithm fixed rules
        # (StronglyConnectedComponent is "not found"), so Cozo selects the resolved pairs and
        # Tarjan's algorithm runs here, iteratively.
        pairs = self._run(_RESOLVED_PAIRS, {"kind": kind})
        comps = _strongly_connected(pairs)
        self_loops = {s for s, d in pairs if s == d}
        found = [sorted(c) for c in comps if len(c) > 1 or next(iter(c)) in self_loops]
        found.sort(key=lambda c: (-len(c), c))
        return found[:limit]

    def search(self, query: str, limit: int = 20) -> list[Entity]:
        q = query.strip().lower()
        if not q:
            return []
        # A scan in Cozo costs ~1.5 us a row (300+ ms on the stdlib), so the distinct names
        # live in a cache here, refreshed when the store's generation changes; ranking runs
        # over them and only the winning names are fetched.
        haystack, originals = self._name_cache()
        # One regex pass over all names joined by newlines runs in C: ~10x a Python loop.
        gap = "[^\n]*?"
        pattern = re.compile("^" + gap + gap.join(re.escape(ch) for ch in q) + "[^\n]*$", re.M)
        ranked: list[tuple[int, int, str]] = []
        for m in pattern.finditer(haystack):
            lname = m.group(0)
            rank = 0 if lname == q else 1 if lname.startswith(q) else 2 if q in lname else 3
            ranked.extend((rank, len(name), name) for name in originals[lname])
        ranked.sort()
        wanted = [name for _, _, name in ranked[: limit * 2]]
        if not wanted:
            return []
        ents = [_entity(r) for r in self._run(_BY_NAMES, {"names": wanted})]
        ents.sort(
            key=lambda e: (
                _rank(e.name.lower(), q),
                e.qualname.count("."),
                len(e.name),
                e.path,
                e.start_line,
            )
        )
        return ents[:limit]

    def _name_cache(self) -> tuple[str, dict[str, list[str]]]:
        generation = self.get_meta("generation")
        if self._names is None or generation != self._names_generation:
            originals: dict[str, list[str]] = defaultdict(list)
            for (name,) in self._run(_NAMES):
                originals[str(name).lower().replace("\n", " ")].append(str(name))
            self._names = ("\n".join(originals), dict(originals))
            self._names_generation = generation
        return self._names

    def stats(self) -> Stats:
        # One scan per relation, grouped finely, then folded here.
        files, _, _ = self.counts()
        by_kind_lang = self._run("?[kind, language, count(key)] := *entity{key, kind, language}")
        by_kind_res = self._run("?[kind, resolution, count(src)] := *edge{src, kind, resolution}")
        ent_kind: dict[str, int] = defaultdict(int)
        ent_lang: dict[str, int] = defaultdict(int)
        for kind, language, n in by_kind_lang:
            ent_kind[kind] += n
            ent_lang[language] += n
        edge_kind: dict[str, int] = defaultdict(int)
        by_res = {r.value: 0 for r in Resolution}
        for kind, resolution, n in by_kind_res:
            edge_kind[kind] += n
            by_res[resolution] = by_res.get(resolution, 0) + n
        return Stats(
            files=files,
            entities=sum(ent_kind.values()),
            edges=sum(by_res.values()),
            entities_by_kind=dict(ent_kind),
            entities_by_language=dict(ent_lang),
            edges_by_kind=dict(edge_kind),
            edges_by_resolution=by_res,
        )


def _rank(name: str, q: str) -> int:
    if name == q:
        return 0
    if name.startswith(q):
        return 1
    if q in name:
        return 2
    return 3  # subsequence only


def _strongly_connected(pairs: Iterable[Sequence[str]]) -> list[set[str]]:
    """Tarjan's SCC, iterative (call graphs are deep enough to overflow recursion)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for s, d in pairs:
        graph[s].append(d)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[set[str]] = []
    counter = 0
    for start in list(graph):
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp: set[str] = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == node:
                        break
                comps.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return comps
