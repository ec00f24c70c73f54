"""IndexService: full index, incremental re-index and resolution of one workspace root.

The CLI and the language server are thin fronts over this. It owns the writer coroutine for
its store and (optionally) a process pool; ``index()`` runs the pipeline, then resolves the
edges the change can have affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from isgraph.config import Config
from isgraph.index.discover import Found
from isgraph.index.pipeline import (
    PipelineReport,
    ProgressFn,
    WrittenFn,
    make_pool,
    run_pipeline,
    surface_of,
)
from isgraph.index.resolve import (
    BATCH_FILES,
    BatchOutcome,
    ResolveReport,
    resolve_paths,
)
from isgraph.index.spool import EdgeSpool
from isgraph.index.stage import EnrichReport, WrittenStage
from isgraph.index.stubs import (
    is_external,
    module_prefixes,
    stub_abspath,
    stub_module,
    stubs_wanted,
    typeshed_stdlib,
)
from isgraph.index.symbols import SymbolTable, TableResolver
from isgraph.index.writer import WriteOutcome, Writer
from isgraph.model import (
    Alias,
    EdgeKind,
    FileResult,
    Resolution,
    alias_match_names,
    entity_match_names,
)
from isgraph.store.base import RESOLVE_PENDING, ROOT_META, Store, StoreError

log = logging.getLogger(__name__)

# Store meta: the root directory the store indexes (queries about another root are refused).
# Above this share of changed files a full resolution is cheaper than working out dependents.
FULL_RESOLVE_SHARE = 0.25
# A resolution of at least this many files reads the store's symbols into memory first
# (`symbols.SymbolTable`: 2.3 CPU-s on the stdlib) instead of fetching what each
# batch misses in rounds of small queries (~5 ms a round): a cold build, a large change.
TABLE_MIN_FILES = 200
# Resolution batches whose writes may be queued while the next batch is resolved.
WRITES_AHEAD = 2
# The cold build path: a run that resolves, into a store with no file yet, asks the store for
# bulk mode (`store.base.BulkLoad`: CozoDB builds its `BULK_DEFERRED` indices once at the end
# and skips a replacement's deletes); the graph is the same (`tests/pipeline/test_bulk.py`).
# Only an empty store: a large change to a full one replaces rows, whose deletes and unlinks
# read the very indices bulk mode defers (it gets the symbol table, `TABLE_MIN_FILES`).
# The language server's runs keep the usual path (`IndexService.one_shot`): queries answered
# meanwhile would wait for a deferred index to be built.
BULK_BUILD = True

# phase callback: (phase name, done_files, total_files), after the pipeline's file progress
PhaseFn = Callable[[str, int, int], None]
# Phases a run reports through PhaseFn, and how progress displays name them (CLI, $/progress).
PHASE_WORDS = {"resolve": "resolving edges", "indices": "building the store's indices"}


@dataclass(slots=True)
class IndexSummary:
    """The result of one ``index()`` run; ``record()`` is the CLI's ``--json`` summary."""

    files: int = 0
    entities: int = 0
    edges: int = 0
    parsed: int = 0
    unchanged: int = 0
    stubs: int = 0  # typeshed stub files indexed by this run (not counted in ``files``)
    removed: int = 0
    # Files parsed again though unchanged: what they read of the tree changed (a go.mod, a
    # tsconfig, an __init__.py: `index.context`); counted in ``parsed`` too.
    reextracted: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    resolution: ResolveReport = field(default_factory=ResolveReport)
    seconds: float = 0.0
    pipeline_seconds: float = 0.0
    resolve_seconds: float = 0.0
    # CPU-seconds of this process (every thread: the writer's store writes run in Rust in
    # threads of its own) in each phase; the parser processes' CPU is not in these.
    pipeline_cpu: float = 0.0
    resolve_cpu: float = 0.0
    enrichment: EnrichReport | None = None  # `index --enrich`: downstream hover per entity

    def record(self) -> dict[str, object]:
        rec = self._record()
        if self.enrichment is not None:
            rec["enrichment"] = self.enrichment.record()
        return rec

    def _record(self) -> dict[str, object]:
        return {
            "files": self.files,
            "entities": self.entities,
            "edges": self.edges,
            "skipped": self.skipped,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "parsed": self.parsed,
            "unchanged": self.unchanged,
            "stubs": self.stubs,
            "removed": self.removed,
            "reextracted": len(self.reextracted),
            # Edges (re-)resolved by this run, by outcome: all of them after a cold index.
            "resolution": {
                "edges": self.resolution.edges,
                "exact": self.resolution.exact,
                "inferred": self.resolution.inferred,
                "unresolved": self.resolution.unresolved,
            },
            "pipeline_seconds": round(self.pipeline_seconds, 3),
            "resolve_seconds": round(self.resolve_seconds, 3),
            "pipeline_cpu_seconds": round(self.pipeline_cpu, 3),
            "resolve_cpu_seconds": round(self.resolve_cpu, 3),
        }


class IndexService:
    """Indexes one root into one store. Call ``close()`` (or use ``async with``)."""

    def __init__(
        self, root: Path, store: Store, config: Config, pool: Executor | None = None
    ) -> None:
        self.root = root.resolve()
        self.store = store
        self.config = config
        self._own_pool = pool is None
        self._pool = pool
        self.writer = Writer(store)
        self._writer_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one index run at a time per service
        self._spool: EdgeSpool | None = None  # the current run's deferred calls
        # The enrichment stage (`proxy.enrich`), set by the CLI's --enrich or the server.
        self.enricher: WrittenStage | None = None  # `proxy.enrich.Enricher`
        # Written by runs with resolve=False and not resolved yet (merged, see `_owe`), and
        # whether a run was cut short meanwhile (then everything is resolved).
        self._owed: PipelineReport | None = None
        self._owed_cut_short = False
        self._closed = False
        self.bulk = BULK_BUILD  # may a cold build use the store's bulk mode (tests: both)
        # A front that runs one index and exits (the CLI): a cold build may use bulk mode and
        # a large run may stop the pool before resolving. The language server sets False.
        self.one_shot = True
        self._in_bulk = False  # this run's store is in bulk mode (`Writer.begin_bulk`)

    @property
    def pool(self) -> Executor:
        if self._closed:  # a new pool now would outlive the front's exit (nobody stops it)
            raise RuntimeError("index service is closed")
        if self._pool is None:
            self._pool = make_pool(self.config.jobs)
        return self._pool

    def _renew_pool(self, broken: Executor) -> Executor:
        """Replace a pool whose worker died (BrokenProcessPool makes it unusable)."""
        if self._pool is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = make_pool(self.config.jobs)
        return self.pool

    def _release_pool(self) -> None:
        """Stop the owned pool's workers before a large resolution: idle, they hold what
        parsing left them (~60 MB each on the stdlib) while the parent's peak (the symbol
        table, resolution's writes) comes; a later run starts a new pool (~0.3 s, against a
        run of hundreds of files)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _ensure_writer(self) -> None:
        if self._closed:  # a run after close() (a command racing the server's exit)
            raise RuntimeError("index service is closed")
        if self._writer_task is None or self._writer_task.done():
            self._writer_task = asyncio.create_task(self.writer.run(), name="isgraph-writer")

    async def close(self) -> None:
        """Stop enrichment, flush and stop the writer, then the pool. Safe to call twice;
        afterwards no run starts (it would start a writer and a pool nobody stops)."""
        self._closed = True
        if self.enricher is not None:
            await self.enricher.close()
        if self._writer_task is not None and not self._writer_task.done():
            await self.writer.shutdown()
            await self._writer_task
        if self._own_pool and self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def reconfigure(self, config: Config) -> None:
        """Use ``config`` from the next run on; a changed ``jobs`` replaces an owned pool."""
        async with self._lock:  # never under a running pipeline
            old, jobs, self.config = self._pool, self.config.jobs, config
            if self._own_pool and old is not None and config.jobs != jobs:
                self._pool = None  # the next run starts one of the new size
                await asyncio.to_thread(old.shutdown, wait=True, cancel_futures=True)

    @contextlib.asynccontextmanager
    async def idle(self) -> AsyncIterator[None]:
        """Hold off this service's runs for the block (a consistent read of its store)."""
        async with self._lock:
            yield

    async def replace_rows(self, results: list[FileResult], removed: list[str]) -> None:
        """Write whole files' rows as given (and remove paths) through the writer: for
        `verify --repair`, which has the clean rows already. Call inside ``idle()``."""
        self._ensure_writer()
        outcomes = []
        if results:
            outcomes.append(await (await self.writer.replace_files(results)))
        if removed:
            outcomes.append(await (await self.writer.remove_files(removed)))
        await self.writer.flush()
        failed = [f"{path}: {error}" for o in outcomes for path, error in o.failed]
        if failed:
            raise StoreError("could not write " + "; ".join(failed))

    async def __aenter__(self) -> IndexService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def owed_paths(self) -> set[str]:
        """Paths written by runs whose resolution was deferred (``resolve=False``)."""
        owed = self._owed
        return set() if owed is None else {*owed.changed_paths, *owed.removed_paths}

    async def index(
        self,
        *,
        progress: ProgressFn | None = None,
        phase: PhaseFn | None = None,
        only: list[str] | None = None,
        overrides: Mapping[str, bytes] | None = None,
        resolve: bool = True,
    ) -> IndexSummary:
        """Index the root (or just ``only`` paths), then resolve what the change affects.
        ``overrides``: path -> an editor's unsaved content, indexed instead of the disk's.
        ``resolve=False``: write only (the new entities are visible as soon as the write
        commits); what needs resolving is kept and resolved, merged with later runs', by the
        next run that resolves or by ``resolve_owed()``."""
        async with self._lock:
            self._ensure_writer()
            t0, c0 = time.perf_counter(), time.process_time()
            # Left "1" by a run that was cut short (this run's own writes set it too), or on
            # purpose by a run of this service that deferred its resolution.
            flag = await asyncio.to_thread(self.store.get_meta, RESOLVE_PENDING) == "1"
            if await asyncio.to_thread(self.store.get_meta, ROOT_META) != str(self.root):
                # Which tree this store indexes: a query asked about another says so.
                await self.writer.set_meta(ROOT_META, str(self.root))
            cut_short = flag and self._owed is None
            if (
                resolve
                and self.bulk
                and self.one_shot
                and self.config.shard is None
                and self._owed is None
            ):
                self._in_bulk = await self.writer.begin_bulk()
            # Cross-file calls are spooled only when this run resolves: a run that only writes
            # (resolve=False) writes them unresolved with their files, for the owed resolution.
            self._spool = EdgeSpool() if resolve else None
            enricher = self.enricher
            try:
                try:
                    if enricher is not None:
                        enricher.begin()
                    report = await self._pipeline(
                        progress=progress,
                        only=only,
                        overrides=overrides,
                        on_written=enricher.feed if enricher is not None else None,
                    )
                    await self._index_stubs(report, cut_short)
                    if not self._in_bulk:
                        # A store empty when the run began has no stub to remove or
                        # un-shadow, and `_index_stubs` indexed what its imports need (the
                        # check reads every import edge: ~1.5 CPU-s on the stdlib).
                        await self._sync_stubs(report)
                except BaseException:
                    # Some of this run's files may be written and not in any report now.
                    if self._owed is not None:
                        self._owed_cut_short = True
                    raise
                t1, c1 = time.perf_counter(), time.process_time()
                if self.one_shot and self._own_pool and report.parsed >= TABLE_MIN_FILES:
                    await asyncio.to_thread(self._release_pool)
                owed, cut = self._owe(report, cut_short)
                if resolve:
                    resolution = await self._resolve(owed, phase, cut)
                    self._owed, self._owed_cut_short = None, False
                else:
                    resolution = ResolveReport()
                t2, c2 = time.perf_counter(), time.process_time()
                enrichment = await enricher.end_run() if enricher is not None else None
            except asyncio.CancelledError:
                # Ctrl-C, a signal, the client gone: what is queued is whole files (and
                # resolved batches); write it, then stop. The calls still spooled are left, as
                # a kill leaves them: their files keep an empty hash, so the next run parses
                # them again (the pending flag makes it resolve everything). Writing them
                # instead took 7 s for 30k calls on a loaded machine, past the 3 s an ending
                # front has to be gone in.
                await asyncio.shield(self.writer.flush())
                raise
            finally:
                if self._spool is not None:
                    self._spool.close()
                self._spool = None
                if self._in_bulk:  # cut short: complete but for its indices, built later
                    self._in_bulk = False  # (by the first read that needs one, or an open):
                    await asyncio.shield(self.writer.end_bulk(build=False))  # ends in seconds
            files, entities, edges = await asyncio.to_thread(self._workspace_counts)
            return IndexSummary(
                files=files,
                entities=entities,
                edges=edges,
                parsed=report.parsed,
                stubs=report.stubs,
                unchanged=report.unchanged,
                removed=report.removed,
                reextracted=report.reextracted,
                skipped=report.skipped,
                errors=report.errors,
                resolution=resolution,
                seconds=time.perf_counter() - t0,
                pipeline_seconds=t1 - t0,
                resolve_seconds=t2 - t1,
                pipeline_cpu=c1 - c0,
                resolve_cpu=c2 - c1,
                enrichment=enrichment,
            )

    async def resolve_owed(self, phase: PhaseFn | None = None) -> ResolveReport:
        """Resolve what runs with ``resolve=False`` wrote (nothing if nothing is owed)."""
        async with self._lock:
            if self._owed is None:
                return ResolveReport()
            self._ensure_writer()
            resolution = await self._resolve(self._owed, phase, self._owed_cut_short)
            self._owed, self._owed_cut_short = None, False
            return resolution

    def _owe(self, report: PipelineReport, cut_short: bool) -> tuple[PipelineReport, bool]:
        """``report`` merged into what is owed (which it then is): paths of both, and for a
        path seen before, its surface from before the first run (what others saw of it)."""
        owed = self._owed
        if owed is None:
            merged = PipelineReport(
                changed_paths=list(report.changed_paths),
                removed_paths=list(report.removed_paths),
                old_surfaces=dict(report.old_surfaces),
                unlinked_paths=set(report.unlinked_paths),
            )
        else:
            merged = owed
            seen = {*owed.changed_paths, *owed.removed_paths}
            for path, surface in report.old_surfaces.items():
                if path not in seen:
                    merged.old_surfaces[path] = surface
            changed, removed = set(owed.changed_paths), set(owed.removed_paths)
            merged.unlinked_paths |= report.unlinked_paths
            merged.changed_paths += [p for p in report.changed_paths if p not in changed]
            merged.removed_paths += [p for p in report.removed_paths if p not in removed]
        cut = self._owed_cut_short or cut_short
        nothing = not merged.changed_paths and not merged.removed_paths and not cut
        self._owed, self._owed_cut_short = (None, False) if nothing else (merged, cut)
        return merged, cut

    async def _pipeline(
        self,
        *,
        progress: ProgressFn | None = None,
        only: list[str] | None = None,
        external: list[Found] | None = None,
        on_written: WrittenFn | None = None,
        overrides: Mapping[str, bytes] | None = None,
    ) -> PipelineReport:
        return await run_pipeline(
            self.root,
            self.store,
            self.writer,
            self.config,
            lambda: self.pool,  # started when a file needs parsing
            renew_pool=self._renew_pool if self._own_pool else None,
            progress=progress,
            only=only,
            external=external or (),
            spool=self._spool,
            on_written=on_written,
            overrides=overrides,
        )

    async def _index_stubs(self, report: PipelineReport, cut_short: bool) -> None:
        """Index the typeshed stubs the parsed files' imports need, with what those stubs
        re-export (see ``stubs.stubs_wanted``); their files join ``report``."""
        if typeshed_stdlib() is None:
            return
        targets = report.import_targets
        if cut_short:
            # A run was cut short: files it parsed are not re-parsed now, so their imports
            # come from the store (still unresolved ones: imports of missing modules).
            stored = await asyncio.to_thread(
                self.store.edges, kind=EdgeKind.IMPORTS, resolution=Resolution.UNRESOLVED
            )
            targets = targets | {e.target_name for e in stored if not is_external(e.path)}
        elif not report.python_parsed:
            return
        wanted = await asyncio.to_thread(self._stubs_wanted, module_prefixes(targets))
        if not wanted:
            return
        found = [Found(rel, stub_abspath(rel), "python") for rel in wanted]
        sub = await self._pipeline(external=found)
        report.stubs += sub.parsed
        report.changed_paths += sub.changed_paths
        report.errors += sub.errors

    async def _sync_stubs(self, report: PipelineReport) -> None:
        """Make the stored typeshed stubs the ones the workspace's imports need, as a clean
        index would hold them: remove those no import needs any more (the last `import
        argparse` dropped, a repo module now shadowing the stdlib's; their dependents are
        re-checked like any removed file's), and index those a removal un-shadowed (the
        repo's `json/__init__.py` deleted: `import json` now means typeshed's). Only after a
        run that can change the answer: a Python file removed or added, or its imports
        changed. (`_index_stubs` adds what the parsed files' own imports need.)"""
        if typeshed_stdlib() is None or self.config.shard is not None:
            return  # shards: the stubs are shared by every shard's run
        python = (".py", ".pyi")
        maybe = any(p.endswith(python) for p in report.removed_paths if not is_external(p))
        stubs: set[str] | None = None  # the stored stubs' modules, read once per run
        if not maybe:
            for path in report.changed_paths:
                if is_external(path) or not path.endswith(python):
                    continue
                old = report.old_surfaces.get(path)
                if old is None:
                    # A new file: the stubs its own imports need are `_index_stubs`'s. It can
                    # make a stored stub unneeded only by defining (shadowing) that stub's
                    # module or a package above it; otherwise the check of every stored
                    # import (seconds on a large repo) would find nothing to do.
                    if stubs is None:
                        stubs = await asyncio.to_thread(self._stub_modules)
                    if await asyncio.to_thread(self._shadows_a_stub, path, stubs):
                        maybe = True
                        break
                    continue
                new = await asyncio.to_thread(surface_of, self.store, path)
                if old.imports != new.imports:
                    maybe = True
                    break
        if not maybe:
            return
        unneeded, missing = await asyncio.to_thread(self._stub_changes)
        if missing:
            found = [Found(rel, stub_abspath(rel), "python") for rel in missing]
            sub = await self._pipeline(external=found)
            report.stubs += sub.parsed
            report.changed_paths += sub.changed_paths
            report.errors += sub.errors
        if not unneeded:
            return
        surfaces = await asyncio.to_thread(lambda: {p: surface_of(self.store, p) for p in unneeded})
        keys = {k for surface in surfaces.values() for k, _ in surface.entities}
        into = await asyncio.to_thread(self.store.edges_to, keys)
        report.unlinked_paths.update(e.path for e in into)
        await (await self.writer.remove_files(unneeded))
        for path in unneeded:
            report.old_surfaces.setdefault(path, surfaces[path])
        changed = set(unneeded)
        report.changed_paths = [p for p in report.changed_paths if p not in changed]
        report.removed_paths = [*report.removed_paths, *unneeded]

    def _stub_modules(self) -> set[str]:
        """The modules of the stored typeshed stubs (one read of every file's state: a
        branch switch adding N files reads it once, not N times)."""
        return {stub_module(p) for p in self.store.file_states() if is_external(p)}

    def _shadows_a_stub(self, path: str, stubs: set[str]) -> bool:
        """Whether a module ``path`` defines is, or is a package above, one of ``stubs``."""
        mine = {e.fqn for e in self.store.find_entities(path=path) if e.kind == "module"}
        return any(s == m or s.startswith(m + ".") for s in stubs for m in mine if m)

    def _stub_changes(self) -> tuple[list[str], list[str]]:
        """(stored stubs no import needs, needed stubs not stored), from every stored import."""
        stored = {p for p in self.store.file_states() if is_external(p)}
        imports = self.store.edges(kind=EdgeKind.IMPORTS)
        targets = {e.target_name for e in imports if not is_external(e.path)}
        modules = module_prefixes(targets)
        wanted = set(stubs_wanted(modules, self._defined_modules(modules), set()))
        return sorted(stored - wanted), sorted(wanted - stored)

    def _defined_modules(self, modules: set[str]) -> set[str]:
        """Those of ``modules`` the workspace defines (its own module shadows the stub)."""
        found = self.store.entities_by_fqn(modules)
        return {
            fqn
            for fqn, ents in found.items()
            if any(e.kind == "module" and not is_external(e.path) for e in ents)
        }

    def _workspace_counts(self) -> tuple[int, int, int]:
        """(files, entities, edges) of the workspace: typeshed stubs are not counted."""
        files = entities = edges = 0
        for path, state in self.store.file_states().items():
            if not is_external(path):
                files, entities, edges = files + 1, entities + state.entities, edges + state.edges
        return files, entities, edges

    def _stubs_wanted(self, modules: set[str]) -> list[str]:
        defined = self._defined_modules(modules)
        return stubs_wanted(modules, defined, set(self.store.file_states()))

    async def _resolve(
        self, report: PipelineReport, phase: PhaseFn | None, cut_short: bool
    ) -> ResolveReport:
        changed = report.changed_paths
        if not changed and not report.removed_paths and not cut_short:
            return ResolveReport()
        await self.writer.set_meta(RESOLVE_PENDING, "1")  # survives a crash mid-resolution
        states = await asyncio.to_thread(self.store.file_states)
        if cut_short or len(changed) >= FULL_RESOLVE_SHARE * max(1, len(states)):
            paths = sorted(states)
        else:
            names, modules = await asyncio.to_thread(self._changed_names, report)
            dependents = (
                await asyncio.to_thread(self._dependents, names, modules) if names else set()
            )
            paths = sorted((set(changed) | dependents | report.unlinked_paths) & states.keys())
        spool = self._spool
        if spool is not None:  # every file with calls held back, whatever the selection
            paths = sorted(set(paths) | (set(spool.paths()) & states.keys()))
        total = ResolveReport()
        done = 0

        def count(rep: ResolveReport, files: int) -> None:
            nonlocal done
            total.add(rep)
            done = min(len(paths), done + files)
            if phase is not None:
                phase("resolve", done, len(paths))

        if phase is not None:
            phase("resolve", 0, len(paths))  # shown before the symbol table loads
        resolver = None
        if len(paths) >= TABLE_MIN_FILES:
            table = await asyncio.to_thread(SymbolTable.load, self.store)
            resolver = TableResolver(self.store, table)
        # Batches stay BATCH_FILES with the table too: 200-file batches (one ~25k-row write
        # each) took the parent's peak RSS from ~290 to 519 MB on the stdlib, in Cozo's writes.
        batches: Iterator[BatchOutcome] = iter(
            resolve_paths(self.store, paths, spool=spool, resolver=resolver)
        )
        # Writes of earlier batches not yet committed. The writer's queue is bounded in
        # commands, not rows: a resolver faster than the store would queue every batch's
        # edges at once (measured with the table: parent peak RSS 176 -> 504 MB), so the
        # next batch is resolved while at most WRITES_AHEAD batches are being written.
        writing: list[asyncio.Future[WriteOutcome]] = []
        rebased: set[str] = set()
        first_round = True
        while True:
            item = await asyncio.to_thread(next, batches, None)
            if item is None:
                if first_round:
                    first_round = False
                    rebased |= await asyncio.to_thread(self._rebased, report)
                if not rebased:
                    break
                # A base resolving elsewhere changes what its subclasses inherit: decide
                # again the edges elsewhere naming a member of the old or new base (against
                # the store as now written; found by the differential tester).
                await self.writer.flush()
                again = await asyncio.to_thread(self._inheritors, rebased, set(paths))
                rebased = set()
                batches = iter(resolve_paths(self.store, again, spool=None))
                continue
            rebased |= item.rebased
            if item.updates:
                writing.append(await self.writer.update_edges(item.updates))
            if item.hashes:
                writing.append(await self.writer.add_edges(item.added, item.hashes))
            del item.updates, item.added  # held by the queued commands only
            count(item.report, BATCH_FILES)
            while len(writing) > 2 * WRITES_AHEAD:
                await writing.pop(0)
        if self._in_bulk:  # the indices before the flag says the index is complete
            self._in_bulk = False
            if phase is not None:
                phase("indices", 0, 1)
            await self.writer.end_bulk()
            if phase is not None:
                phase("indices", 1, 1)
        await self.writer.set_meta(RESOLVE_PENDING, "0")
        await self.writer.flush()
        return total

    def _rebased(self, report: PipelineReport) -> set[str]:
        """Bases of the rewritten files' classes that now resolve to another class (or to
        none), old and new: what those classes inherit changed."""
        out: set[str] = set()
        for path in report.changed_paths:
            old = report.old_surfaces.get(path)
            if old is None or not old.base_targets:
                continue
            before = {(src, name): dst for src, name, dst in old.base_targets}
            for e in self.store.edges(path=path, kind=EdgeKind.INHERITS):
                was = before.get((e.src, e.target_name))
                if was is not None and was != e.dst:
                    out.update(k for k in (was, e.dst) if k)
        return out

    def _inheritors(self, classes: set[str], done: set[str]) -> list[str]:
        """Files other than ``done`` with edges that name a member of ``classes``."""
        if not self.store.file_states().keys() - done:
            # Every stored file was just resolved (a cold build, a full re-resolve): none is
            # left to find. In a cold stdlib build every base counts as rebased (unresolved
            # -> resolved), and collecting their member names and matching edges for an empty
            # answer cost 14 % of the isgraph process's busy samples (bench/README.md, issue 19).
            return []
        names: set[str] = set()
        for cls in self.store.get_entities(classes).values():
            prefix = cls.fqn + "."
            names.update(
                name
                for e in self.store.find_entities(path=cls.path)
                if e.fqn.startswith(prefix)
                for name in entity_match_names(e)
            )
        found = self.store.edge_paths_to_recheck(names) if names else set()
        return sorted(found - done)

    def _dependents(self, names: set[str], modules: set[str]) -> set[str]:
        """Files whose edges name one of ``names`` (``Store.edge_paths_to_recheck``), and
        those reaching them through a chain of re-exports: a file found here with an alias
        that re-exports one of the names from one of ``modules`` (the changed files'
        modules: `export { add as plus } from './math'`, `from .math import add as plus` in a
        package's `__init__`) changes what its alias stands for, so the alias's names are
        looked up in turn (and its file's module joins ``modules``), until no new name comes.
        Without the chain, the end of a chain coming back (`math.ts` restored) left its
        importers, whose edges name `plus`, not `add`, on their fallback (found by the
        differential tester). The files binding such an alias are among the dependents
        because their import names the target; no reverse index of alias targets is needed.
        Only aliases from those modules are followed: any alias ending in a common name
        (`get`, `Error`) would re-resolve much of a repo for nothing."""
        found: set[str] = set()
        seen = set(names)
        wanted = set(names)
        modules = set(modules)
        held: list[Alias] = []  # the aliases of the files found so far
        while wanted:
            paths = self.store.edge_paths_to_recheck(wanted) - found
            found |= paths
            for path in sorted(paths):
                held += self.store.aliases_of(path)
            more: set[str] = set()
            for alias in held:
                owner, _, name = alias.target.rpartition(".")
                if name in wanted and owner.replace("/", ".") in modules:
                    more |= alias_match_names(alias.fqn)
                    modules.add(alias.fqn.rpartition(".")[0].replace("/", "."))
            wanted = more - seen
            seen |= wanted
        return found

    def _changed_names(self, report: PipelineReport) -> tuple[set[str], set[str]]:
        """Names whose meaning elsewhere the run may have changed: for a file that existed,
        the difference of its surface before and after; all names of new and removed files.
        With the modules of those files (before and after), which re-exports name."""
        names: set[str] = set()
        modules: set[str] = set()
        for path in report.changed_paths:
            new = surface_of(self.store, path)
            old = report.old_surfaces.get(path)
            names |= new.names() if old is None else old.changed_names(new)
            modules |= new.modules() | (old.modules() if old is not None else set())
        for path in report.removed_paths:
            old = report.old_surfaces.get(path)
            if old is not None:
                names |= old.names()
                modules |= old.modules()
        return names, modules
