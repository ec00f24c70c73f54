"""One workspace folder kept fresh: its store, its IndexService, its watcher.

The live fronts share it: the language server (one per workspace folder, with the editor's
unsaved buffers as overrides) and the MCP server (one folder, no buffers). Indexing runs in
the background (the pool parses, the writer writes); store reads run in threads, so no
request waits on the event loop. File changes on disk (watchfiles), saves and unsaved edits
(the editor's buffer, debounced) are batched and re-indexed through the same service: one
run at a time, later changes coalesced into the next run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from watchfiles import Change, awatch

from isgraph.config import Config, ConfigError, load_config
from isgraph.index.discover import IgnoreRules
from isgraph.index.pipeline import ProgressFn
from isgraph.index.service import IndexService, IndexSummary, PhaseFn
from isgraph.model import FileStatus, is_external
from isgraph.store.base import Store, StoreError, StoreLockedError
from isgraph.store.connect import INDEX_DIR_NAME, open_store

log = logging.getLogger(__name__)

DEBOUNCE_MS = 50  # watchfiles: group a burst (a `git checkout`) into one batch
STEP_MS = 20
EDIT_DEBOUNCE_S = 0.15  # didChange: re-ingest a buffer once typing pauses this long
# Re-index runs write first and resolve once changes pause this long: an edit arriving meanwhile
# is written (visible) without waiting for the previous edit's resolution (0.3-2 s on the
# stdlib). Long enough to span the gaps of someone editing; a resolution's reads (its batches,
# the lookup of edges to recheck) share the store with the server's snapshot reads.
RESOLVE_QUIET_S = 1.0
CLOSE_RESOLVE_S = 5.0


class Folder:
    """A workspace folder: root, configuration, store, service, pending changes, buffers.

    ``settings`` are the language server's configuration keys (validated, see
    ``config.validate_settings``); they override the folder's own configuration files.
    Call ``await open()``, then ``start()``; ``close()`` flushes the writer and stops the pool.
    """

    def __init__(
        self,
        root: Path,
        settings: Mapping[str, Any],
        notify: Callable[[str], None],
        trusted: bool | None = None,
    ) -> None:
        self.root = root.resolve()
        self.settings = dict(settings)
        self.notify = notify
        # the editor's workspace trust (None: ISGRAPH_TRUST_WORKSPACE decides; docs/security.md)
        self.trusted = trusted
        self.config = self._load_config()
        self.store: Store
        self.service: IndexService
        self.rules = self._rules()
        self.pending: set[str] = set()  # queued for the next run
        self.in_flight: set[str] = set()  # being re-indexed now
        self.buffers: dict[str, bytes] = {}  # unsaved editor content, by repo-relative path
        self.ready = asyncio.Event()  # the first index run is over
        self.last: IndexSummary | None = None
        self._full = False  # a full run (discovery) is wanted
        self._runs = 0  # index runs in progress
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._reread: dict[str, bytes] = {}  # content read again after a size-limit change
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._open = False
        self._closed = False  # close() was called: nothing starts any more

    # -- setup ------------------------------------------------------------------------------
    def _load_config(self) -> Config:
        try:
            base = load_config(self.root, trusted=self.trusted)
        except ConfigError as exc:  # a bad pyproject.toml must not stop the server
            self.notify(f"isgraph: {exc}; using the defaults for {self.root}")
            base = Config()
        for warning in base.ignored:
            self.notify(f"isgraph: {warning}")
        return base.with_overrides(**self.settings)

    def _rules(self) -> IgnoreRules:
        return IgnoreRules(
            self.root, excludes=self.config.excludes, index_dir=self.root / INDEX_DIR_NAME
        )

    async def open(self) -> None:
        """Open the store (off the event loop: opening may wait on another process's lock)."""
        store = await asyncio.to_thread(self._open_store)
        if self._closed:  # closed while the store was opening (the server is exiting)
            await asyncio.to_thread(store.close)
            return
        self.store = store
        self.service = IndexService(self.root, self.store, self.config)
        # A server answers queries while it indexes and indexes again on every edit: its
        # first index keeps the usual writes (a query meanwhile would wait for a deferred
        # index to be built) and its pool (`IndexService.one_shot`).
        self.service.one_shot = False
        self._open = True

    def _open_store(self) -> Store:
        try:
            return open_store(self.config.db, self.root, rebuild=True)
        except StoreLockedError as exc:
            # Another process holds the store (RocksDB's LOCK): serve from memory instead.
            self.notify(f"isgraph: {exc}; indexing into memory for this session")
        except (StoreError, ValueError) as exc:
            self.notify(f"isgraph: {exc}; indexing {self.root} into memory for this session")
        return open_store("mem")

    def start(
        self,
        progress: ProgressFn | None = None,
        done: Callable[[], None] | None = None,
        phase: PhaseFn | None = None,
    ) -> None:
        """Index in the background (``done`` is called when that run, resolution included,
        is over, whatever its outcome; ``phase`` reports resolution's progress), watch the
        folder, re-index changes. Nothing once the folder is closed: tasks started after
        close() would run on past the server's exit."""
        if self._closed or not self._open:
            return
        self.ready.clear()
        self._tasks.append(asyncio.create_task(self._first_index(progress, done, phase)))
        self._tasks.append(asyncio.create_task(self._watch()))
        self._tasks.append(asyncio.create_task(self._reindex_loop()))

    # -- what the server tells us -------------------------------------------------------------
    def relpath(self, path: Path) -> str | None:
        """Repo-relative POSIX path of a file under this folder, else None."""
        try:
            rel = path.resolve().relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix()

    def changed(self, rels: set[str]) -> None:
        """Queue files for re-indexing (coalesced while a run is in flight)."""
        rels = {r for r in rels if not self.rules.is_ignored(r)}
        if rels:
            self.pending |= rels
            self._wake.set()

    def edited(self, rel: str, content: bytes) -> None:
        """An unsaved edit: index ``content`` once edits pause for EDIT_DEBOUNCE_S."""
        self.buffers[rel] = content
        self._cancel_timer(rel)
        loop = asyncio.get_running_loop()
        self._timers[rel] = loop.call_later(EDIT_DEBOUNCE_S, self._edit_due, rel)

    def _edit_due(self, rel: str) -> None:
        self._timers.pop(rel, None)
        self.changed({rel})

    async def opened(self, rel: str, content: bytes) -> None:
        """An opened document: when the editor's text differs from the disk (a buffer restored
        with unsaved changes, a file not on disk yet), it is indexed like an edit."""
        if rel in self.buffers:  # already held (opened twice): edits keep it current
            return
        disk = await asyncio.to_thread(_read_or_none, self.root, rel)
        if disk != content and rel not in self.buffers:
            self.edited(rel, content)

    def saved(self, rel: str) -> None:
        """The buffer is on disk now: index the disk's version from here on."""
        self.buffers.pop(rel, None)
        self._cancel_timer(rel)
        self.changed({rel})

    def closed(self, rel: str) -> None:
        """Closed without saving: what the editor held is gone; index the disk's version."""
        if self.buffers.pop(rel, None) is not None:
            self._cancel_timer(rel)
            self.changed({rel})

    def _cancel_timer(self, rel: str) -> None:
        timer = self._timers.pop(rel, None)
        if timer is not None:
            timer.cancel()

    # -- freshness ----------------------------------------------------------------------------
    @property
    def pending_files(self) -> int:
        """Files known to be changed and not yet (completely) re-indexed."""
        return len(self.pending | self.in_flight | set(self._timers) | self.service.owed_paths)

    @property
    def fresh(self) -> bool:
        return self.ready.is_set() and not self._full and self._runs == 0 and not self.pending_files

    # -- runs ---------------------------------------------------------------------------------
    async def _index(
        self,
        only: list[str] | None,
        progress: ProgressFn | None = None,
        resolve: bool = True,
        phase: PhaseFn | None = None,
    ) -> IndexSummary:
        """One run through the service, with the editor's unsaved buffers (and files read
        again for a new size limit) as overrides."""
        # Every buffer, not only those of ``only``: a file this run extracts again because
        # what it reads of the tree changed (`index.context`) is read from its buffer too.
        reread = (
            dict(self._reread)
            if only is None
            else {p: self._reread[p] for p in only if p in self._reread}
        )
        wanted = {**reread, **self.buffers}
        for p in reread:
            self._reread.pop(p, None)
        self._runs += 1
        t0 = time.perf_counter()
        try:
            summary = await self.service.index(
                only=only, progress=progress, overrides=wanted, resolve=resolve, phase=phase
            )
        finally:
            self._runs -= 1
        log.info(
            "%s: %s run, %d parsed, %.3f s (pipeline %.3f s, resolution %.3f s)",
            self.root.name,
            "full" if only is None else f"{len(only)}-file",
            summary.parsed,
            time.perf_counter() - t0,
            summary.pipeline_seconds,
            summary.resolve_seconds,
        )
        self.last = summary
        return summary

    async def reindex(self) -> IndexSummary:
        """A full run now (``isgraph.reindex``): discovery, changed files, resolution."""
        summary = await self._index(None)
        if self.buffers:  # unsaved new files are not on disk for discovery to find
            self.changed(set(self.buffers))
        return summary

    async def _first_index(
        self,
        progress: ProgressFn | None,
        done: Callable[[], None] | None = None,
        phase: PhaseFn | None = None,
    ) -> None:
        try:
            await self._index(None, progress, phase=phase)
        except StoreError as exc:
            self.notify(f"isgraph: indexing {self.root} failed: {exc}")
        finally:
            self.ready.set()
            if done is not None:
                done()

    async def _reindex_loop(self) -> None:
        await self.ready.wait()
        while True:
            if self.service.owed_paths:
                try:  # resolve once changes pause; a change meanwhile is written first
                    await asyncio.wait_for(self._wake.wait(), RESOLVE_QUIET_S)
                except TimeoutError:
                    await self._resolve_owed()
                    continue
            await self._wake.wait()
            self._wake.clear()
            full, self._full = self._full, False
            batch, self.pending = self.pending, set()
            self.in_flight = set(batch)
            try:
                if full:
                    await self.reindex()
                if batch:
                    await self._index(sorted(batch), resolve=False)
            except StoreError as exc:
                self.notify(f"isgraph: re-indexing failed: {exc}")
            finally:
                self.in_flight = set()

    async def _resolve_owed(self) -> None:
        """Resolve what re-index runs wrote, unless a change arrives first: then the
        resolution is cancelled, the change written, and everything resolved later, merged
        (what was already updated is recomputed; the store's resolve-pending flag stays set
        until a resolution completes, so a crash meanwhile still resolves everything)."""
        self._runs += 1
        t0 = time.perf_counter()
        task = asyncio.create_task(self.service.resolve_owed())
        woken = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait({task, woken}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                task.cancel()
            (outcome,) = await asyncio.gather(task, return_exceptions=True)
            if isinstance(outcome, StoreError):
                self.notify(f"isgraph: resolving edges failed: {outcome}")
            log.info(
                "%s: deferred resolution %s after %.3f s",
                self.root.name,
                "cancelled" if task.cancelled() else "done",
                time.perf_counter() - t0,
            )
        finally:
            woken.cancel()
            if not task.done():
                task.cancel()
            self._runs -= 1

    async def _watch(self) -> None:
        index_dir = str(self.root / INDEX_DIR_NAME)

        def wanted(_: Change, path: str) -> bool:
            return not path.startswith(index_dir) and f"{os.sep}.git{os.sep}" not in path

        try:
            async for changes in awatch(
                self.root, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS
            ):
                paths = [Path(p) for _, p in changes]
                added_dirs = [Path(p) for c, p in changes if c == Change.added]
                paths += await asyncio.to_thread(_files_under, added_dirs, index_dir)
                rels = {self.relpath(p) for p in paths}
                self.changed({r for r in rels if r is not None})
        except (OSError, RuntimeError) as exc:  # inotify limits, a vanished root
            self.notify(f"isgraph: not watching {self.root} for changes: {exc}")

    # -- configuration ------------------------------------------------------------------------
    async def reconfigure(self, settings: Mapping[str, Any]) -> None:
        """New server settings: another store is opened and indexed; new excludes or size
        limit re-index the folder (files now excluded leave the index, files now in enter)."""
        old = self.config
        self.settings = dict(settings)
        new = self._load_config()
        if new == old:
            return
        self.config = new
        if new.db != old.db:
            # Requests keep reading the old store until the new one is open.
            self.ready.clear()
            await self._stop(close_store=False)
            old_store = self.store
            self.rules = self._rules()
            await self.open()
            await asyncio.to_thread(old_store.close)
            self.start(None)
            return
        await self.service.reconfigure(new)
        self.rules = self._rules()
        if new.max_file_size != old.max_file_size:
            # The files the new limit lets in (skipped before) or keeps out (larger than it
            # now) are unchanged on disk, so no run would read them again by itself: their
            # content goes in as an override (mtime 0 stored: the next run re-hashes them).
            limit = new.max_file_size
            reread = await asyncio.to_thread(self._read_again, limit)
            self._reread.update(reread)
            self.pending |= reread.keys()
        if new.excludes != old.excludes or new.max_file_size != old.max_file_size:
            self._full = True
            self._wake.set()

    def _read_again(self, limit: int) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for path, state in self.store.file_states().items():
            if is_external(path) or not (state.status == FileStatus.SKIPPED or state.size > limit):
                continue
            real = (self.root / path).resolve()
            if not real.is_relative_to(self.root):
                continue  # now a link out of the folder: never read (the full run reports it)
            try:
                with open(real, "rb") as fh:
                    out[path] = fh.read(limit + 1)  # one byte over says "too large"
            except OSError:
                continue  # gone or unreadable: the full run that follows finds out
        return out

    # -- teardown -----------------------------------------------------------------------------
    async def _stop(self, close_store: bool = True) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        try:  # what runs wrote and did not resolve yet (else the next start resolves it all)
            await asyncio.wait_for(self.service.resolve_owed(), CLOSE_RESOLVE_S)
        except (TimeoutError, StoreError) as exc:
            log.warning("closing %s: owed resolution not done (%r)", self.root, exc)
        await self.service.close()  # flushes the writer, stops the pool
        if close_store:
            await asyncio.to_thread(self.store.close)

    async def close(self) -> None:
        """Flush what is queued, stop the writer and the pool, close the store. Idempotent;
        a folder still opening closes its store once open, and never starts."""
        self._closed = True
        if self._open:
            self._open = False
            await self._stop()


def _files_under(added: list[Path], index_dir: str) -> list[Path]:
    """The files inside directories that just appeared. inotify watches a new directory only
    once it is reported, so files created in it right away (`mkdir -p a && cp x a/`, a
    checkout) may come with no event of their own: found by the differential tester, 2 of 5
    such files were never indexed. Symlinked directories are not followed (as discovery)."""
    found: list[Path] = []
    for top in added:
        if top.is_symlink() or not top.is_dir():
            continue
        for d, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if x != ".git" and os.path.join(d, x) != index_dir]
            found += (Path(d, f) for f in files)
    return found


def _read_or_none(root: Path, rel: str) -> bytes | None:
    """The file's bytes, or None when it can't be read or leads out of the root (a symlink
    out is never read: discovery would not follow it either)."""
    try:
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            return None
        return path.read_bytes()
    except OSError:  # missing, unreadable, a directory: the editor's text is what there is
        return None
