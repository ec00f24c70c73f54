"""Incremental equals clean: compare a store with a clean index of the same tree.

An incremental run re-parses what changed and re-resolves what the change can have affected;
a clean run parses and resolves everything. They must agree row for row: the same files, the
same entities, the same edges with the same targets, labels and sites, the same aliases.
`isgraph verify` (and the server's `isgraph.verify` command) and the differential tester
(`tests/pipeline/test_incremental.py`, `bench/incremental_check.py`) all compare through
`compare`; the clean side is indexed into a temporary in-memory store, so the store being
verified is never disturbed (`--repair` then writes the clean rows of each drifted file
through the service's writer, one atomic file replacement each, as any run does).

By default `verify` checks quickly first, and builds the clean index only if that finds
something: the tree's files (and the editor's buffers) against the stored file rows by content
hash, and the project files extraction reads (`index.context`) against their stored hashes
(`tree_drift`: a file whose content and surroundings did not change extracts as it did), then
each stored edge that has candidates decided again against the stored symbols
(`resolution_drift`, the resolver a clean index of that size uses) against its stored target
and label. That is a hash of every file and one resolution without writes: less than a cold
index (`bench/verify_bench.py`). What it trusts is that the stored rows of an unchanged file
are its extraction; ``thorough`` (the differential tester's reference, and what ``--repair``
writes from) compares every row with a fully resolved clean index instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isgraph.config import Config
from isgraph.model import Alias, Edge, Entity, FileResult, FileState
from isgraph.store.base import Store
from isgraph.store.connect import open_store

if TYPE_CHECKING:
    from isgraph.index.service import IndexService

# What is compared of each row. Left out: a file's mtime (an editor's buffer is stored with
# mtime 0, and a copy of the tree has other mtimes) and an entity's enrichment metadata (it
# comes from a downstream server, not from the tree).
FILE_FIELDS = ("language", "status", "content_hash", "size", "error", "entities", "edges")
ENTITY_FIELDS = tuple(
    f.name for f in dataclasses.fields(Entity) if f.name not in ("key", "metadata")
)
EDGE_FIELDS = ("path", "dst", "resolution", "line", "sites", "candidates")
# Of an edge with candidates, the fields the resolver decides (the rest, extraction does).
RESOLVED_FIELDS = ("dst", "resolution")
CATEGORIES = ("file", "entity", "edge", "alias")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every compared row of a store, keyed as the store keys them."""

    files: dict[str, tuple[Any, ...]]
    entities: dict[str, tuple[Any, ...]]
    edges: dict[tuple[str, str, str], tuple[Any, ...]]  # (src, kind, target_name) -> fields
    aliases: dict[tuple[str, str], str]  # (path, fqn) -> target


def snapshot(store: Store) -> Snapshot:
    """Read every row of ``store`` (typeshed stubs included: they are part of the index)."""
    states = store.file_states()
    files = {p: tuple(getattr(s, f) for f in FILE_FIELDS) for p, s in states.items()}
    entities = {e.key: tuple(getattr(e, f) for f in ENTITY_FIELDS) for e in store.find_entities()}
    edges = {(e.src, str(e.kind), e.target_name): _edge_fields(e) for e in store.edges()}
    aliases = {(a.path, a.fqn): a.target for p in states for a in store.aliases_of(p)}
    return Snapshot(files, entities, edges, aliases)


def _edge_fields(e: Edge) -> tuple[Any, ...]:
    return (e.path, e.dst, str(e.resolution), e.line, tuple(e.sites), tuple(e.candidates))


@dataclass(frozen=True, slots=True)
class Difference:
    """One row that differs: ``stored`` or ``clean`` is None where that side lacks it."""

    category: str  # one of CATEGORIES
    key: tuple[str, ...]
    path: str  # the file the row belongs to
    stored: dict[str, Any] | None
    clean: dict[str, Any] | None

    def record(self) -> dict[str, object]:
        return {
            "category": self.category,
            "key": list(self.key),
            "path": self.path,
            "stored": self.stored,
            "clean": self.clean,
        }

    def describe(self) -> str:
        """One line for people: what differs, stored → clean."""
        what = " ".join(self.key)
        if self.stored is None:
            return f"{self.category} missing: {what} (clean: {_brief(self.clean)})"
        if self.clean is None:
            return f"{self.category} extra: {what} (stored: {_brief(self.stored)})"
        changed = {k for k in self.clean if self.stored.get(k) != self.clean[k]}
        parts = [f"{k} {self.stored.get(k)!r} → {self.clean[k]!r}" for k in sorted(changed)]
        return f"{self.category} differs: {what}: " + "; ".join(parts)


def _brief(row: dict[str, Any] | None) -> str:
    row = row or {}
    return ", ".join(f"{k}={v!r}" for k, v in row.items() if k not in ("sites", "candidates"))


def compare(stored: Snapshot, clean: Snapshot) -> list[Difference]:
    """Every row that differs between the two snapshots, in a stable order."""
    out: list[Difference] = []

    def diff(
        category: str,
        a: Mapping[Any, Any],
        b: Mapping[Any, Any],
        names: tuple[str, ...],
        path_of: Any,
    ) -> None:
        for key in sorted(a.keys() | b.keys(), key=repr):
            x, y = a.get(key), b.get(key)
            if x == y:
                continue
            rx = None if x is None else dict(zip(names, _tuple(x), strict=True))
            ry = None if y is None else dict(zip(names, _tuple(y), strict=True))
            k = key if isinstance(key, tuple) else (key,)
            out.append(Difference(category, k, path_of(key, rx or ry), rx, ry))

    diff("file", stored.files, clean.files, FILE_FIELDS, lambda k, _r: k)
    diff("entity", stored.entities, clean.entities, ENTITY_FIELDS, lambda _k, r: r["path"])
    diff("edge", stored.edges, clean.edges, EDGE_FIELDS, lambda _k, r: r["path"])
    diff("alias", stored.aliases, clean.aliases, ("target",), lambda k, _r: k[0])
    return out


def resolution_drift(store: Store, paths: list[str]) -> list[Difference]:
    """Stored edges of ``paths`` whose target or label differs from what resolving them
    again against the store's symbols decides (as a clean index of that many files would:
    the symbol table from `TABLE_MIN_FILES` on, else the cached resolver). Reads only."""
    from isgraph.index.resolve import resolve_paths
    from isgraph.index.service import TABLE_MIN_FILES
    from isgraph.index.symbols import SymbolTable, TableResolver

    resolver = (
        TableResolver(store, SymbolTable.load(store)) if len(paths) >= TABLE_MIN_FILES else None
    )
    out: list[Difference] = []
    for batch in resolve_paths(store, paths, resolver=resolver):
        for u in batch.updates:
            key = (u.src, str(u.kind), u.target_name)
            (edge,) = [
                e for e in store.edges(path=u.path) if (e.src, str(e.kind), e.target_name) == key
            ]
            row = dict(zip(EDGE_FIELDS, _edge_fields(edge), strict=True))
            clean = {**row, "dst": u.dst, "resolution": str(u.resolution)}
            out.append(Difference("edge", key, u.path, row, clean))
    return sorted(out, key=lambda d: repr(d.key))


def tree_drift(
    root: Path, config: Config, store: Store, overrides: Mapping[str, bytes] | None = None
) -> list[str]:
    """Paths whose stored file row does not match the tree: files found and not stored or
    stored and gone, content (or an editor's buffer) whose hash is not the stored one, a
    file still waiting for its calls (empty hash), a project file whose hash is not the one
    stored (`index.context`). Typeshed stubs are not the tree's. Reads only."""
    from isgraph.index import context
    from isgraph.index.discover import Found, ProjectFile, Skip
    from isgraph.index.pipeline import walk_workspace
    from isgraph.index.stubs import is_external
    from isgraph.model import FileStatus

    states = {p: s for p, s in store.file_states().items() if not is_external(p)}
    overrides = overrides or {}
    seen: set[str] = set()
    projects: list[str] = []
    out: list[str] = []
    found = walk_workspace(root, config)
    for item in found:
        if isinstance(item, ProjectFile):
            projects.append(item.relpath)
            continue
        if isinstance(item, Skip):
            if item.reason.startswith("cannot list directory"):
                out.append(item.relpath)  # its stored files are kept: the full check decides
            continue
        assert isinstance(item, Found)
        seen.add(item.relpath)
        state = states.get(item.relpath)
        if state is None:
            out.append(item.relpath)
            continue
        data = overrides.get(item.relpath)
        if data is None:
            try:
                size = os.stat(item.abspath).st_size
                if state.status == FileStatus.SKIPPED and not state.content_hash:
                    if size != state.size:  # skipped before hashing (too large): by size
                        out.append(item.relpath)
                    continue
                with open(item.abspath, "rb") as fh:
                    data = fh.read(config.max_file_size + 1)
            except OSError:
                out.append(item.relpath)
                continue
        digest = hashlib.blake2b(data[: config.max_file_size + 1], digest_size=16).hexdigest()
        if digest != state.content_hash:
            out.append(item.relpath)
    out += sorted(states.keys() - seen)
    stored = context.load(store.get_meta(context.CONTEXT_META))
    out += sorted(context.changed(stored, context.fingerprints(str(root), projects)))
    return out


def _tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


@dataclass(slots=True)
class VerifyReport:
    """What `isgraph verify` found (and repaired)."""

    root: str
    differences: list[Difference] = field(default_factory=list)
    repaired: int = 0  # files rewritten with their clean rows
    remaining: list[Difference] = field(default_factory=list)  # after repair
    stored_counts: tuple[int, int, int] = (0, 0, 0)  # files, entities, edges
    clean_counts: tuple[int, int, int] = (0, 0, 0)
    seconds: float = 0.0
    # A resolved clean index was built (asked for, or the quick check found drift).
    thorough: bool = False
    quick_differences: int = 0  # rows the quick check found (before the full comparison)

    @property
    def drift(self) -> bool:
        """The store differs from a clean index (after repair, if one was asked)."""
        return bool(self.remaining if self.repaired else self.differences)

    def by_category(self) -> dict[str, int]:
        return {c: sum(1 for d in self.differences if d.category == c) for c in CATEGORIES}

    def record(self, limit: int | None = None) -> dict[str, object]:
        shown = self.differences if limit is None else self.differences[:limit]
        return {
            "root": self.root,
            "drift": self.drift,
            "differences": len(self.differences),
            "by_category": self.by_category(),
            "files_affected": sorted({d.path for d in self.differences}),
            "rows": [d.record() for d in shown],
            "repaired_files": self.repaired,
            "remaining": len(self.remaining),
            "stored": dict(zip(("files", "entities", "edges"), self.stored_counts, strict=True)),
            "clean": dict(zip(("files", "entities", "edges"), self.clean_counts, strict=True)),
            "seconds": round(self.seconds, 3),
            "thorough": self.thorough,
            "quick_differences": self.quick_differences,
        }


@asynccontextmanager
async def clean_index(
    root: Path,
    config: Config,
    overrides: Mapping[str, bytes] | None = None,
    pool: Executor | None = None,
) -> AsyncIterator[Store]:
    """A clean index of ``root`` (with ``overrides``: an editor's unsaved buffers) in a
    temporary in-memory store, open for the block; ``pool``: parse in this one."""
    from isgraph.index.service import IndexService

    store = open_store("mem")
    try:
        async with IndexService(root, store, config, pool) as service:
            await service.index(overrides=overrides)
        yield store
    finally:
        store.close()


def _counts(s: Snapshot) -> tuple[int, int, int]:
    return (len(s.files), len(s.entities), len(s.edges))


async def verify(
    service: IndexService,
    *,
    repair: bool = False,
    overrides: Mapping[str, bytes] | None = None,
    thorough: bool = False,
) -> VerifyReport:
    """Compare ``service``'s store with a clean index of its root; with ``repair``, rewrite
    each drifted file with its clean rows and compare again. Not ``thorough``: the quick
    check first (`tree_drift`, then `resolution_drift`: see the module's docstring), and the
    full comparison only when it finds something."""
    t0 = time.perf_counter()
    report = VerifyReport(root=str(service.root))
    if not thorough:
        async with service.idle():  # no run of the service writes while it is read
            suspects = await asyncio.to_thread(
                tree_drift, service.root, service.config, service.store, overrides
            )
            found: list[Difference] = []
            states: dict[str, FileState] = {}
            if not suspects:
                states = await asyncio.to_thread(service.store.file_states)
                found = await asyncio.to_thread(resolution_drift, service.store, sorted(states))
        report.quick_differences = len(suspects) + len(found)
        if not report.quick_differences:
            rows = states.values()
            n = (len(states), sum(s.entities for s in rows), sum(s.edges for s in rows))
            report.stored_counts = report.clean_counts = n
            report.seconds = time.perf_counter() - t0
            return report
    report.thorough = True
    async with clean_index(service.root, service.config, overrides, service.pool) as clean:
        want = await asyncio.to_thread(snapshot, clean)
        async with service.idle():
            have = await asyncio.to_thread(snapshot, service.store)
            report.differences = compare(have, want)
            report.stored_counts, report.clean_counts = _counts(have), _counts(want)
            if repair and report.differences:
                paths = sorted({d.path for d in report.differences})
                results, removed = await asyncio.to_thread(_clean_rows, clean, service.store, paths)
                await service.replace_rows(results, removed)
                report.repaired = len(paths)
                have = await asyncio.to_thread(snapshot, service.store)
                report.remaining = compare(have, want)
    report.seconds = time.perf_counter() - t0
    return report


def _clean_rows(
    clean: Store, stored: Store, paths: Iterable[str]
) -> tuple[list[FileResult], list[str]]:
    """Each path's rows as the clean index holds them (a whole file, for one atomic
    replacement), or the path to remove where the clean index has no such file. Stored
    enrichment metadata is kept for entities that stay."""
    states = clean.file_states()
    results: list[FileResult] = []
    removed: list[str] = []
    for path in paths:
        state = states.get(path)
        if state is None:
            removed.append(path)
            continue
        entities = clean.find_entities(path=path)
        kept = stored.get_entities(e.key for e in entities)
        entities = [
            dataclasses.replace(e, metadata=kept[e.key].metadata) if e.key in kept else e
            for e in entities
        ]
        edges = clean.edges(path=path)
        aliases = [Alias(a.path, a.fqn, a.target) for a in clean.aliases_of(path)]
        results.append(
            FileResult(
                path=path,
                language=state.language,
                status=state.status,
                content_hash=state.content_hash,
                size=state.size,
                mtime_ns=state.mtime_ns,
                error=state.error,
                entities=entities,
                edges=edges,
                aliases=aliases,
                deferred_count=max(0, state.edges - len(edges)),
            )
        )
    return results, removed
