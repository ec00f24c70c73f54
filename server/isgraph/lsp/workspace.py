"""One workspace folder as the server sees it: its store, its IndexService, its watcher.

Indexing runs in the background (the pool parses, the writer writes); store reads run in
threads, so no request waits on the event loop. File changes on disk (watchfiles) and saves
are batched and re-indexed through the same service: one run at a time, later changes
coalesced into the next run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from isgraph.config import Config, load_config
from isgraph.index.discover import IgnoreRules
from isgraph.index.pipeline import INDEX_DIR_NAME, ProgressFn
from isgraph.index.service import IndexService, IndexSummary
from isgraph.store.base import Store, StoreError, StoreLockedError
from isgraph.store.connect import open_store

log = logging.getLogger(__name__)

DEBOUNCE_MS = 50  # watchfiles: group a burst (a `git checkout`) into one batch
STEP_MS = 20


class Folder:
    """A workspace folder: root, store, service, pending changes."""

    def __init__(self, root: Path, db: str | None, notify: Callable[[str], None]) -> None:
        self.root = root.resolve()
        self.config: Config = load_config(self.root).with_overrides(db=db)
        self.notify = notify
        try:
            self.store: Store = open_store(self.config.db, self.root)
        except StoreLockedError as exc:
            # Another process holds the store (RocksDB's LOCK): serve from memory instead.
            notify(f"isgraph: {exc}; indexing into memory for this session")
            self.store = open_store("mem")
        self.service = IndexService(self.root, self.store, self.config)
        self.rules = IgnoreRules(
            self.root, excludes=self.config.excludes, index_dir=self.root / INDEX_DIR_NAME
        )
        self.pending: set[str] = set()
        self.ready = asyncio.Event()  # the first index run is over
        self.last: IndexSummary | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def relpath(self, path: Path) -> str | None:
        """Repo-relative POSIX path of a file under this folder, else None."""
        try:
            rel = path.resolve().relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix()

    def start(
        self, progress: ProgressFn | None = None, done: Callable[[], None] | None = None
    ) -> None:
        """Index in the background (``done`` is called when that run, resolution included,
        is over, whatever its outcome), watch the folder, re-index changes."""
        self._tasks.append(asyncio.create_task(self._first_index(progress, done)))
        self._tasks.append(asyncio.create_task(self._watch()))
        self._tasks.append(asyncio.create_task(self._reindex_loop()))

    def changed(self, rels: set[str]) -> None:
        """Queue files for re-indexing (coalesced while a run is in flight)."""
        rels = {r for r in rels if not self.rules.is_ignored(r)}
        if rels:
            self.pending |= rels
            self._wake.set()

    async def _first_index(
        self, progress: ProgressFn | None, done: Callable[[], None] | None
    ) -> None:
        try:
            self.last = await self.service.index(progress=progress)
        except StoreError as exc:
            self.notify(f"isgraph: indexing {self.root} failed: {exc}")
        finally:
            self.ready.set()
            if done is not None:
                done()

    async def _reindex_loop(self) -> None:
        await self.ready.wait()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self.pending = sorted(self.pending), set()
            if not batch:
                continue
            try:
                self.last = await self.service.index(only=batch)
            except StoreError as exc:
                self.notify(f"isgraph: re-indexing failed: {exc}")

    async def _watch(self) -> None:
        index_dir = str(self.root / INDEX_DIR_NAME)

        def wanted(_: Change, path: str) -> bool:
            return not path.startswith(index_dir) and f"{os.sep}.git{os.sep}" not in path

        try:
            async for changes in awatch(
                self.root, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS
            ):
                rels = {self.relpath(Path(p)) for _, p in changes}
                self.changed({r for r in rels if r is not None})
        except (OSError, RuntimeError) as exc:  # inotify limits, a vanished root
            self.notify(f"isgraph: not watching {self.root} for changes: {exc}")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.service.close()
        self.store.close()
