"""The streaming ingestion pipeline.

discover (a thread, lazily) -> change filter (stat, stored hash) -> chunks of files to a process
pool (a semaphore bounds the chunks in flight: backpressure) -> results to the writer's bounded
queue. Nothing here holds more than the in-flight chunks and the set of paths seen.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import signal
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from isgraph.config import Config
from isgraph.index import context
from isgraph.index.discover import Found, ProjectFile, Skip, discover
from isgraph.index.languages import LANGUAGES
from isgraph.index.partition import in_shard
from isgraph.index.spool import EdgeSpool
from isgraph.index.stubs import is_external
from isgraph.index.worker import FileTask, process_chunk
from isgraph.index.writer import WriteOutcome, Writer
from isgraph.lifeline import exit_with, start_pool_helpers
from isgraph.model import (
    EdgeKind,
    FileResult,
    FileState,
    FileStatus,
    alias_match_names,
    entity_match_names,
)
from isgraph.store.base import RESOLVE_PENDING, Store
from isgraph.store.connect import INDEX_DIR_NAME

log = logging.getLogger(__name__)

CHUNK_FILES = 8  # files per pool task: amortizes IPC, small enough to keep workers balanced
DISCOVERY_BATCH = 256

T = TypeVar("T")

# progress(done, discovered, discovery_finished)
ProgressFn = Callable[[int, int, bool], None]
# on_written(paths, write): files queued for writing, ``write`` resolves once written (the
# enrichment stage starts on them while later files are parsed).
WrittenFn = Callable[[list[str], "asyncio.Future[WriteOutcome]"], None]


@dataclass(slots=True)
class PipelineReport:
    """What one pipeline run did. Counts are of files."""

    discovered: int = 0
    unchanged: int = 0
    parsed: int = 0
    stubs: int = 0  # typeshed stubs indexed after the workspace's files
    python_parsed: int = 0  # workspace Python files parsed (no Python: no stubs needed)
    removed: int = 0
    changed_paths: list[str] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    # Targets of Python imports in the parsed files: which typeshed stubs the index needs.
    import_targets: set[str] = field(default_factory=set)
    # What the replaced or removed files looked like to other files before this run (see
    # `Surface`): the resolver re-checks other files only for what changed in it.
    old_surfaces: dict[str, Surface] = field(default_factory=dict)
    # Files with edges into entities this run removed: the write unlinks those edges, and
    # they must be decided again even when they name the target only through an alias chain
    # (`plus` re-exported as `add` by a barrel file), which match names cannot see.
    unlinked_paths: set[str] = field(default_factory=set)
    # Files extracted again though their content did not change: what their extraction
    # reads of the tree changed (a go.mod, a tsconfig, an __init__.py: `index.context`).
    reextracted: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _worker_init(front: int) -> None:
    # Ctrl-C and a terminal's hang-up reach the whole process group but belong to the front,
    # which flushes the writer and stops the pool itself; a front that dies without doing so
    # (SIGKILL) must not leave the worker behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    exit_with(front)


def walk_workspace(root: Path, config: Config) -> Iterator[Found | Skip | ProjectFile]:
    """What an index of ``root`` walks: its source files of every indexed language, what
    was skipped, and the project files extraction reads. `index.verify` walks the same, so
    that a clean tree never shows as drift."""
    return discover(
        root,
        excludes=config.excludes,
        index_dir=root / INDEX_DIR_NAME,
        languages=set(LANGUAGES),
        project_files=context.is_project_file,
    )


def make_pool(jobs: int) -> ProcessPoolExecutor:
    """A process pool whose workers start from a small forkserver (fast, no inherited state)."""
    ctx: multiprocessing.context.BaseContext
    try:
        fs = multiprocessing.get_context("forkserver")
        fs.set_forkserver_preload(["isgraph.index.worker", "isgraph.index.extract.registry"])
        ctx = fs
    except ValueError:  # platforms without forkserver
        ctx = multiprocessing.get_context("spawn")
    start_pool_helpers(forkserver=ctx is not multiprocessing.get_context("spawn"))
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
    )


async def _in_thread_batches(it: Iterator[T], size: int) -> AsyncIterator[T]:
    """Iterate a blocking generator off the event loop, ``size`` items per hop."""
    while True:
        batch = await asyncio.to_thread(lambda: list(itertools.islice(it, size)))
        if not batch:
            return
        for item in batch:
            yield item


async def run_pipeline(
    root: Path,
    store: Store,
    writer: Writer,
    config: Config,
    pool: Executor | Callable[[], Executor],
    *,
    progress: ProgressFn | None = None,
    only: list[str] | None = None,
    external: Sequence[Found] = (),
    renew_pool: Callable[[Executor], Executor] | None = None,
    spool: EdgeSpool | None = None,
    on_written: WrittenFn | None = None,
    overrides: Mapping[str, bytes] | None = None,
) -> PipelineReport:
    """Index ``root`` into ``store`` through ``writer``; only changed files are parsed.

    ``only``: restrict to these repo-relative paths (incremental re-ingest of known changes);
    a listed path that no longer exists is removed from the store. ``external``: index exactly
    these files from outside the root (typeshed stubs) instead, removing nothing. Files whose
    path starts with ``@`` (external) are never removed by a full run. ``renew_pool(broken)``
    returns a working pool after a worker died; without it a dead worker fails its chunk.
    ``pool`` may be a function giving one, called when the first file needs parsing: a run
    that parses nothing (a no-change rerun) starts no forkserver, which would import every
    extractor and grammar in a process of its own.
    ``spool``: hold cross-file calls there, to be resolved and written once (`index.spool`);
    without it they are written unresolved with their file.
    ``overrides``: repo-relative path -> content an editor holds (unsaved), parsed instead of
    the file on disk (see ``_overridden``).
    """
    t0 = time.perf_counter()
    report = PipelineReport()
    loop = asyncio.get_running_loop()
    states = await asyncio.to_thread(store.file_states)
    shard = config.shard
    if shard is not None:  # this run owns only its shard's files: it removes no other
        states = {p: s for p, s in states.items() if in_shard(p, shard) or is_external(p)}
    in_flight = asyncio.Semaphore(max(2, config.jobs * 2))
    handlers: set[asyncio.Task[None]] = set()
    seen: set[str] = set()
    # Directories that could not be listed this time: their stored files are kept, not
    # removed (a transient permission error must not wipe part of the index).
    unlisted: list[str] = []
    done = 0
    root_s = str(root)
    marked: list[bool] = []  # the pending flag is queued once, before the first write
    failures_before = len(writer.stats.failures)
    tree = time.time_ns()  # this run's tree: workers drop what they cached of another
    project_files: list[str] = []  # found by discovery (a full run)

    async def _note_old_surfaces(paths: list[str], new: Sequence[FileResult] = ()) -> None:
        """Before ``paths`` are replaced by ``new`` (or removed): their surfaces, and the
        files whose edges point into the entities that will vanish."""
        if paths:
            old = await asyncio.to_thread(lambda: {p: surface_of(store, p) for p in paths})
            report.old_surfaces.update(old)
            kept = {e.key for r in new for e in r.entities}
            vanishing = {k for s in old.values() for k, _ in s.entities} - kept
            if vanishing:
                into = await asyncio.to_thread(store.edges_to, vanishing)
                report.unlinked_paths.update(e.path for e in into)

    found_all = False  # discovery is over: the total is known from here on

    def tick(n: int, finished: bool = False) -> None:
        nonlocal done, found_all
        done += n
        found_all = found_all or finished
        if progress is not None:
            progress(done, report.discovered + len(report.reextracted), found_all)

    async def run_chunk(chunk: list[FileTask]) -> list[FileResult]:
        nonlocal pool
        if not isinstance(pool, Executor):
            pool = pool()
        current = pool
        try:
            return await loop.run_in_executor(
                current,
                process_chunk,
                root_s,
                chunk,
                config.max_file_size,
                spool is not None,
                tree,
            )
        except BrokenProcessPool:
            if renew_pool is None:
                raise
            if pool is current:  # the first chunk to notice replaces the pool
                log.warning("a parser process died; starting a new pool")
                pool = renew_pool(current)
            raise

    async def handle(chunk: list[FileTask]) -> None:
        try:
            try:
                results = await run_chunk(chunk)
            except BrokenProcessPool:
                # A worker died (OOM killer, a crash in a grammar): retry file by file in a
                # fresh pool, so only a file that kills its worker again is lost.
                results = []
                for task in chunk:
                    try:
                        results += await run_chunk([task])
                    except BrokenProcessPool:
                        results.append(_crashed(task))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("worker failed on %s: %r", [t.relpath for t in chunk], exc)
            results = [_crashed(t, exc) for t in chunk]
        finally:
            in_flight.release()
        to_write: list[FileResult] = []
        # Results come in task order. Paths kept past this chunk are the tasks' strings, not
        # the results': one long-lived string inside a result's memory would keep the whole
        # arena of that result from being freed, and the heap would grow with the repo.
        relpaths = {t.relpath: t.relpath for t in chunk}
        for r in results:
            if r.status == FileStatus.UNCHANGED:
                report.unchanged += 1
                _report_kept(report, states.get(r.path))
                continue
            to_write.append(r)
            path = relpaths.get(r.path, r.path)
            report.changed_paths.append(path)
            if r.deferred and spool is not None:
                spool.add(path, (r.content_hash + " ")[:-1], r.deferred)
                # Stored without a hash until the calls are written (see FileResult).
                r.deferred, r.content_hash = b"", ""
            if r.status == FileStatus.INDEXED:
                report.parsed += 1
                if r.language == "python":
                    _collect_imports(r, report.import_targets)
                    report.python_parsed += not is_external(r.path)
                if r.error:
                    report.errors.append(
                        {"path": r.path, "error": f"{r.error} (indexed what parsed)"}
                    )
            elif r.status == FileStatus.SKIPPED:
                report.skipped.append({"path": r.path, "reason": r.error or "skipped"})
            else:
                report.errors.append({"path": r.path, "error": r.error or "error"})
        if to_write:
            await _note_old_surfaces([r.path for r in to_write if r.path in states], to_write)
            if not marked:
                marked.append(True)
                await writer.set_meta(RESOLVE_PENDING, "1")  # queued ahead of the rows
            written = await writer.replace_files(to_write)
            if on_written is not None:
                on_written([relpaths.get(r.path, r.path) for r in to_write], written)
        tick(len(results))

    async def submit(chunk: list[FileTask]) -> None:
        await in_flight.acquire()  # backpressure: wait while the pool is saturated
        task = asyncio.create_task(handle(chunk))
        handlers.add(task)
        task.add_done_callback(handlers.discard)

    found_iter: Iterator[Found | Skip | ProjectFile]
    if external:
        found_iter = iter(external)
        only = []  # nothing under the root is listed, so nothing is removed
    elif only is None:
        found_iter = walk_workspace(root, config)
    else:
        found_iter = _explicit(root, only, config)
    if overrides:
        found_iter = _overridden(found_iter, root, only, overrides, config)

    try:
        chunk: list[FileTask] = []
        async for item in _in_thread_batches(found_iter, DISCOVERY_BATCH):
            if isinstance(item, ProjectFile):
                project_files.append(item.relpath)
                continue
            if isinstance(item, Skip):
                report.skipped.append({"path": item.relpath, "reason": item.reason})
                if item.reason.startswith("cannot list directory"):
                    unlisted.append(item.relpath.rstrip("/") + "/")
                continue
            if shard is not None and not external and not in_shard(item.relpath, shard):
                continue  # another shard's file (stubs are every shard's to ensure)
            report.discovered += 1
            seen.add(item.relpath)
            state = states.get(item.relpath)
            content = item.content if isinstance(item, _Buffer) else None
            if (
                state is not None
                and content is None
                and state.content_hash  # empty: a run died before writing its calls
                and _same_stat(item.abspath, state.size, state.mtime_ns)
            ):
                report.unchanged += 1
                _report_kept(report, state)
                tick(1)
                continue
            chunk.append(
                FileTask(
                    item.relpath,
                    item.abspath,
                    item.language,
                    state.content_hash if state else None,
                    content,
                )
            )
            if len(chunk) >= CHUNK_FILES:
                await submit(chunk)
                chunk = []
        if chunk:
            await submit(chunk)
        tick(0, finished=True)  # every file is found: progress can say "k of N" from here
        if handlers:
            await asyncio.gather(*list(handlers))
        gone = sorted(
            p
            for p in (set(states) - seen if only is None else set(only) & states.keys() - seen)
            if not is_external(p) and not any(p.startswith(d) or d == "./" for d in unlisted)
        )
        if gone:
            await _note_old_surfaces(gone)
            if not marked:
                marked.append(True)
                await writer.set_meta(RESOLVE_PENDING, "1")
            await writer.remove_files(gone)
            report.removed, report.removed_paths = len(gone), gone
        if not external:
            again = await _tree_dependents(
                root_s, store, writer, states, report, only, project_files, gone
            )
            overrides = overrides or {}
            for i in range(0, len(again), CHUNK_FILES):
                await submit(
                    [
                        FileTask(
                            p, os.path.join(root_s, p), states[p].language, None, overrides.get(p)
                        )
                        for p in again[i : i + CHUNK_FILES]
                    ]
                )
            if handlers:
                await asyncio.gather(*list(handlers))
        await writer.flush()
        tick(0, finished=True)
    except asyncio.CancelledError:
        for t in list(handlers):
            t.cancel()
        raise
    failed = writer.stats.failures[failures_before:]
    report.errors.extend({"path": p, "error": f"write failed: {e}"} for p, e in failed)
    if spool is not None:  # the store holds the old version (or nothing) of these
        spool.discard(p for p, _ in failed)
    report.seconds = time.perf_counter() - t0
    return report


async def _tree_dependents(
    root: str,
    store: Store,
    writer: Writer,
    states: Mapping[str, FileState],
    report: PipelineReport,
    only: list[str] | None,
    found: list[str],
    gone: list[str],
) -> list[str]:
    """Stored files this run did not extract whose extraction read what changed in the tree
    (`index.context`); the project files' fingerprints are brought up to date in meta."""
    stored = context.load(await asyncio.to_thread(store.get_meta, context.CONTEXT_META))
    if only is None:
        now = await asyncio.to_thread(context.fingerprints, root, found)
    else:
        listed = [p for p in only if context.is_project_file(p)]
        now = {p: h for p, h in stored.items() if p not in listed}
        now.update(await asyncio.to_thread(context.fingerprints, root, listed))
    project_changed = context.changed(stored, now)
    if project_changed:
        await writer.set_meta(context.CONTEXT_META, context.dump(now))
    created = [p for p in report.changed_paths if p not in states]

    def find() -> set[str]:
        context.forget_tree()  # what this process read of the tree before may be stale
        return context.dependents(root, states, project_changed, created, gone, now.keys())

    if not (project_changed or created or gone):
        return []
    skip = set(report.changed_paths) | set(gone)
    again = sorted(p for p in await asyncio.to_thread(find) if p not in skip and not is_external(p))
    report.reextracted = again
    return again


def _report_kept(report: PipelineReport, state: FileState | None) -> None:
    """An unchanged file still has the problem the store remembers (a syntax error, a skip
    reason): every run reports it, not only the one that parsed the file."""
    if state is None or not state.error:
        return
    if state.status == FileStatus.SKIPPED:
        report.skipped.append({"path": state.path, "reason": state.error})
    elif state.status == FileStatus.INDEXED:
        report.errors.append({"path": state.path, "error": f"{state.error} (indexed what parsed)"})
    else:
        report.errors.append({"path": state.path, "error": state.error})


@dataclass(slots=True, frozen=True)
class Surface:
    """What other files' edges can see of a file: its entities (key, each name others may
    call it by: ``model.entity_match_names``), its classes' bases, its imports and its aliases
    (module names bound by imports or assignments, with what they stand for). An edit that
    leaves all four unchanged (a function body) cannot change how any other file's edges
    resolve."""

    entities: frozenset[tuple[str, str]]
    bases: frozenset[tuple[str, str]]
    imports: frozenset[str]
    aliases: frozenset[tuple[str, str]] = frozenset()
    # (key, fqn, signature): what an entity is known as and what it returns, even when its
    # key stays (a new return annotation moves `make().ping()`; a PHP namespace changed in
    # place moves every `extends Shape` of other files)
    shapes: frozenset[tuple[str, str, str]] = frozenset()
    # (class key, base as written) -> the base it resolved to: not part of what names
    # change (a rewritten file's edges are unresolved until resolution), compared after it
    base_targets: frozenset[tuple[str, str, str]] = frozenset()

    def names(self) -> set[str]:
        return {name for _, name in self.entities}

    def modules(self) -> set[str]:
        """The fqns of the file's module entities, dotted (``src.math`` of ``src/math.ts``:
        how a re-export's target names its module, with ``/`` read as ``.``)."""
        return {fqn.replace("/", ".") for key, fqn, _ in self.shapes if _kind(key) == "module"}

    def changed_names(self, new: Surface) -> set[str]:
        """Names whose resolution elsewhere may differ between this surface and ``new``."""
        if self.bases != new.bases:  # inherited methods may now come from elsewhere
            return self.names() | new.names()
        names = {name for _, name in self.entities ^ new.entities}
        reshaped = {key for key, _, _ in self.shapes ^ new.shapes}
        if any(_kind(key) == "module" for key in reshaped):
            # A module's signature is what decides which of its definitions are compiled
            # (a Go file's `//go:build` line, `index.gobuild`): any call of one of them may
            # now go to another platform's variant, even an exact one (`f.Close()` on a
            # parameter; found by the test of an edited constraint).
            return self.names() | new.names()
        names.update(name for key, name in self.entities | new.entities if key in reshaped)
        names.update(t.rpartition(".")[2] for t in self.imports ^ new.imports)
        for fqn, _ in self.aliases ^ new.aliases:
            names |= alias_match_names(fqn)
        return names


def _kind(key: str) -> str:
    """The entity kind a key names (``model.make_key``: ``language:kind:path:qualname``)."""
    return key.split(":", 2)[1]


def surface_of(store: Store, path: str) -> Surface:
    edges = store.edges(path=path)
    entities = store.find_entities(path=path)
    return Surface(
        frozenset((e.key, name) for e in entities for name in entity_match_names(e)),
        frozenset((e.src, e.target_name) for e in edges if e.kind == EdgeKind.INHERITS),
        frozenset(e.target_name for e in edges if e.kind == EdgeKind.IMPORTS),
        frozenset((a.fqn, a.target) for a in store.aliases_of(path)),
        frozenset((e.key, e.fqn, e.signature) for e in entities),
        frozenset(
            (e.src, e.target_name, e.dst)
            for e in edges
            if e.kind == EdgeKind.INHERITS and e.dst is not None
        ),
    )


def _collect_imports(result: FileResult, into: set[str]) -> None:
    """What a workspace Python file imports, for the stubs it may need (a stub's own imports
    are read from the stub files: `stubs.stubs_wanted`)."""
    if is_external(result.path):
        return
    found = {e.target_name for e in result.edges if e.kind == EdgeKind.IMPORTS}
    # Fresh copies of the new ones: the result's strings would pin its memory (see `handle`).
    into.update((t + " ")[:-1] for t in found - into)


def _crashed(task: FileTask, exc: BaseException | None = None) -> FileResult:
    why = f": {exc!r}" if exc is not None else ""
    return FileResult(
        task.relpath,
        task.language,
        FileStatus.ERROR,
        error=f"the parser process crashed on this file{why}",
    )


def _same_stat(abspath: str, size: int, mtime_ns: int) -> bool:
    """Size and mtime unchanged: trust the stored hash without reading (as git's index does)."""
    try:
        st = os.stat(abspath)
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime_ns


def _explicit(root: Path, paths: list[str], config: Config) -> Iterator[Found | Skip]:
    """Found records for an explicit list of paths (from a watcher or the editor)."""
    from isgraph.index.discover import IgnoreRules
    from isgraph.index.languages import language_for

    rules = IgnoreRules(root, excludes=config.excludes, index_dir=root / INDEX_DIR_NAME)
    for rel in paths:
        lang = language_for(rel)
        if lang is None or lang not in LANGUAGES or rules.is_ignored(rel):
            continue
        abspath = os.path.join(root, rel)
        real = os.path.realpath(abspath)
        if not (real + os.sep).startswith(os.path.realpath(root) + os.sep):
            continue  # a symlink out of the workspace is never read
        try:
            mode = os.stat(abspath).st_mode
        except OSError:
            continue  # gone: the caller removes it from the store
        if stat.S_ISREG(mode):
            yield Found(rel, abspath, lang)


@dataclass(slots=True, frozen=True)
class _Buffer(Found):
    """A file to index from an editor's unsaved content instead of the disk."""

    content: bytes = b""


def _overridden(
    found: Iterator[Found | Skip | ProjectFile],
    root: Path,
    only: list[str] | None,
    overrides: Mapping[str, bytes],
    config: Config,
) -> Iterator[Found | Skip | ProjectFile]:
    """``found`` with the overridden paths carrying their content; with ``only``, an
    overridden path that is not on disk (a new file not saved yet) is indexed too."""
    from isgraph.index.languages import language_for

    left = dict(overrides)
    for item in found:
        content = left.pop(item.relpath, None) if isinstance(item, Found) else None
        if isinstance(item, Found) and content is not None:
            yield _Buffer(item.relpath, item.abspath, item.language, content)
        else:
            yield item
    if only is None:
        return  # a full run indexes what discovery finds (its rules decide)
    rules = None
    for rel, content in left.items():
        lang = language_for(rel)
        if rel not in only or lang is None or lang not in LANGUAGES:
            continue
        if rules is None:
            from isgraph.index.discover import IgnoreRules

            rules = IgnoreRules(root, excludes=config.excludes, index_dir=root / INDEX_DIR_NAME)
        if not rules.is_ignored(rel):
            yield _Buffer(rel, os.path.join(root, rel), lang, content)
