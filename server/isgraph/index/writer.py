"""The single writer coroutine: the only code that writes to a store connection.

Senders put commands on a bounded queue (backpressure: a full queue makes producers wait) and
may await each command's future. The writer drains whatever is queued, merges consecutive file
commands into one transaction (bounded in rows), runs it off the event loop, retries a failed
transaction 3 times with backoff, then falls back to one file per transaction so that a single
poisoned file costs only itself, logs and reports failures, and carries on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from isgraph.model import Edge, FileResult
from isgraph.store.base import BulkLoad, EdgeUpdate, Store

log = logging.getLogger(__name__)

RETRIES = 3
BACKOFF_S = (0.05, 0.2, 0.8)


@dataclass(slots=True)
class WriteOutcome:
    """What a command achieved: paths written, and (path, error) for those that failed."""

    written: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class WriteCommand:
    future: asyncio.Future[WriteOutcome]


@dataclass(slots=True)
class ReplaceFiles(WriteCommand):
    """Insert a batch of files; each file's previous rows are replaced atomically."""

    results: list[FileResult]


@dataclass(slots=True)
class RemoveFiles(WriteCommand):
    paths: list[str]


@dataclass(slots=True)
class UpdateEdges(WriteCommand):
    updates: list[EdgeUpdate]


@dataclass(slots=True)
class AddEdges(WriteCommand):
    """Insert deferred calls, decided, and give their files their hashes (`index.spool`)."""

    edges: list[Edge]
    hashes: list[tuple[str, str]]


@dataclass(slots=True)
class SetMeta(WriteCommand):
    """Record a store-level fact (e.g. that resolution is in progress)."""

    key: str
    value: str


@dataclass(slots=True)
class SetMetadata(WriteCommand):
    """Set the metadata of existing entities (enrichment): ``(key, json or None)``."""

    rows: list[tuple[str, str | None]]


@dataclass(slots=True)
class Bulk(WriteCommand):
    """Enter (``begin``) or leave the store's bulk mode (`store.base.BulkLoad`): schema
    changes, so the writer runs them like any write. ``written`` is 1 when bulk mode began."""

    begin: bool
    build: bool = True  # leaving: build the deferred indices now (`BulkLoad.end_bulk`)


@dataclass(slots=True)
class Flush(WriteCommand):
    """Resolves once every command sent before it has been executed."""


@dataclass(slots=True)
class Shutdown(WriteCommand):
    """Flush, then stop the writer."""


@dataclass(slots=True)
class WriterStats:
    transactions: int = 0
    files_written: int = 0
    retries: int = 0
    write_seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)


def _rows(result: FileResult) -> int:
    return 1 + len(result.entities) + len(result.edges) + len(result.aliases)


class Writer:
    """Owns one store's writes. Start with ``task = asyncio.create_task(writer.run())``."""

    def __init__(
        self,
        store: Store,
        *,
        queue_size: int = 16,
        max_rows: int = 10_000,
    ) -> None:
        self.store = store
        self.queue: asyncio.Queue[WriteCommand] = asyncio.Queue(maxsize=queue_size)
        self.max_rows = max_rows
        self.stats = WriterStats()
        self._stopped = False
        self._dead = False  # its task ended without a Shutdown (cancelled, or it failed)
        self._batch: list[WriteCommand] = []  # the commands being executed

    # -- sender API --------------------------------------------------------------------------
    async def send(
        self, make: Callable[[asyncio.Future[WriteOutcome]], WriteCommand]
    ) -> asyncio.Future[WriteOutcome]:
        """Queue a command (waits while the queue is full) and return its future."""
        if self._stopped:
            raise RuntimeError("writer is shut down")
        fut: asyncio.Future[WriteOutcome] = asyncio.get_running_loop().create_future()
        await self.queue.put(make(fut))
        if self._dead:  # it died while this waited for room in the queue
            self._fail_queued()
        return fut

    async def replace_files(self, results: list[FileResult]) -> asyncio.Future[WriteOutcome]:
        return await self.send(lambda f: ReplaceFiles(f, results))

    async def remove_files(self, paths: list[str]) -> asyncio.Future[WriteOutcome]:
        return await self.send(lambda f: RemoveFiles(f, paths))

    async def update_edges(self, updates: list[EdgeUpdate]) -> asyncio.Future[WriteOutcome]:
        return await self.send(lambda f: UpdateEdges(f, updates))

    async def add_edges(
        self, edges: list[Edge], hashes: list[tuple[str, str]]
    ) -> asyncio.Future[WriteOutcome]:
        """Queue deferred calls with their files' hashes: more than ``max_rows`` edges go as
        several commands (transactions) of whole files each. One store call converts all
        its rows while holding the GIL, which stalls a server's event loop for as long
        (measured: a 50-file stdlib batch had 16k calls, one call; issue 19)."""
        parts = _by_files(edges, hashes, self.max_rows)
        futures = [await self.send(partial(AddEdges, edges=e, hashes=h)) for e, h in parts]
        if len(futures) == 1:
            return futures[0]

        async def together() -> WriteOutcome:
            outcomes = await asyncio.gather(*futures)
            return WriteOutcome(
                written=sum(o.written for o in outcomes),
                failed=[f for o in outcomes for f in o.failed],
            )

        return asyncio.ensure_future(together())

    async def set_meta(self, key: str, value: str) -> None:
        await (await self.send(lambda f: SetMeta(f, key, value)))

    async def set_metadata(
        self, rows: list[tuple[str, str | None]]
    ) -> asyncio.Future[WriteOutcome]:
        return await self.send(lambda f: SetMetadata(f, rows))

    async def begin_bulk(self) -> bool:
        """Bulk mode for a cold build, if the store offers it and holds no file yet."""
        outcome = await (await self.send(lambda f: Bulk(f, True)))
        return outcome.written == 1

    async def end_bulk(self, build: bool = True) -> None:
        """Leave bulk mode; build what it deferred unless ``build`` is False (a failure is
        logged: the first read that needs an index, or the next open, builds it)."""
        await (await self.send(lambda f: Bulk(f, False, build)))

    async def flush(self) -> None:
        await (await self.send(Flush))

    async def shutdown(self) -> None:
        if not self._stopped:
            fut = await self.send(Shutdown)
            self._stopped = True
            await fut

    # -- the coroutine ----------------------------------------------------------------------
    async def run(self) -> None:
        """Execute commands until a Shutdown. Ended otherwise (cancelled: the event loop's
        teardown cancels every task at once), it fails what is queued and refuses more, so a
        sender awaiting a flush gets an error instead of waiting forever (which kept `isgraph
        serve` alive, with its pool, after its client went away)."""
        try:
            await self._loop()
        except BaseException:
            self._stopped = self._dead = True
            for cmd in self._batch:
                _failed(cmd)
            self._fail_queued()
            raise

    def _fail_queued(self) -> None:
        while True:
            try:
                _failed(self.queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    async def _loop(self) -> None:
        while True:
            self._batch = batch = [await self.queue.get()]
            rows = self._cost(batch[0])
            # Drain what is already queued (no waiting) into one transaction, bounded in rows.
            while rows < self.max_rows and not isinstance(batch[-1], (Flush, Shutdown)):
                try:
                    cmd = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                batch.append(cmd)
                rows += self._cost(cmd)
            await self._execute(batch)
            if isinstance(batch[-1], Shutdown):
                return

    @staticmethod
    def _cost(cmd: WriteCommand) -> int:
        if isinstance(cmd, ReplaceFiles):
            return sum(_rows(r) for r in cmd.results)
        if isinstance(cmd, UpdateEdges):
            return len(cmd.updates)
        if isinstance(cmd, AddEdges):
            return len(cmd.edges)
        if isinstance(cmd, SetMetadata):
            return len(cmd.rows)
        return 1

    async def _execute(self, batch: Sequence[WriteCommand]) -> None:
        files: list[ReplaceFiles | RemoveFiles] = []
        for cmd in batch:
            if isinstance(cmd, (ReplaceFiles, RemoveFiles)):
                files.append(cmd)
                continue
            await self._write_files(files)
            files = []
            if isinstance(cmd, SetMeta):
                op = partial(self.store.set_meta, cmd.key, cmd.value)
                await self._write_one(cmd, f"meta {cmd.key}", op, 1, [f"<meta {cmd.key}>"])
            elif isinstance(cmd, UpdateEdges):
                op = partial(self.store.update_edges, cmd.updates)
                await self._write_one(cmd, "edge updates", op, len(cmd.updates), ["<edges>"])
            elif isinstance(cmd, AddEdges):
                paths = [p for p, _ in cmd.hashes]
                what = f"calls of {', '.join(paths[:3])}"
                op = partial(self.store.add_edges, cmd.edges, cmd.hashes)
                err = await self._write_one(cmd, what, op, len(cmd.edges), paths)
                if err is not None:  # the files keep an empty hash: re-parsed next run
                    self.stats.failures.extend((p, err) for p in paths)
                    log.error("write of %s failed: %s", what, err)
            elif isinstance(cmd, SetMetadata):
                op = partial(self.store.set_metadata, cmd.rows)
                await self._write_one(cmd, "entity metadata", op, len(cmd.rows), ["<metadata>"])
            elif isinstance(cmd, Bulk):
                await self._bulk(cmd)
            else:  # Flush / Shutdown: everything before it is done by now
                _done(cmd, WriteOutcome())
        await self._write_files(files)

    async def _write_files(self, cmds: list[ReplaceFiles | RemoveFiles]) -> None:
        if not cmds:
            return
        results = [r for c in cmds if isinstance(c, ReplaceFiles) for r in c.results]
        removed = [p for c in cmds if isinstance(c, RemoveFiles) for p in c.paths]
        error = await self._attempt(
            f"{len(results)} files", partial(self.store.write_files, results, removed)
        )
        if error is None:
            self.stats.files_written += len(results)
            for c in cmds:
                n = len(c.results) if isinstance(c, ReplaceFiles) else len(c.paths)
                _done(c, WriteOutcome(written=n))
            return
        # The batch failed every retry: write file by file so only the culprit is lost.
        for c in cmds:
            outcome = WriteOutcome()
            items: list[tuple[str, list[FileResult], list[str]]] = (
                [(r.path, [r], []) for r in c.results]
                if isinstance(c, ReplaceFiles)
                else [(p, [], [p]) for p in c.paths]
            )
            for path, res, rem in items:
                err = (
                    error
                    if len(items) == 1 and len(cmds) == 1
                    else await self._attempt(
                        path, partial(self.store.write_files, res, rem), retries=0
                    )
                )
                if err is None:
                    outcome.written += 1
                    self.stats.files_written += len(res)
                else:
                    outcome.failed.append((path, err))
                    self.stats.failures.append((path, err))
                    log.error("write failed for %s: %s", path, err)
            _done(c, outcome)

    async def _write_one(
        self,
        cmd: WriteCommand,
        what: str,
        op: Callable[[], None],
        rows: int,
        failed: list[str],
    ) -> str | None:
        """One command in its own transaction (retried); its future gets ``rows`` written, or
        the error for each of ``failed`` (paths, or a label). Returns the error, if any."""
        err = await self._attempt(what, op)
        _done(
            cmd,
            WriteOutcome(written=rows)
            if err is None
            else WriteOutcome(failed=[(f, err) for f in failed]),
        )
        return err

    async def _bulk(self, cmd: Bulk) -> None:
        store = self.store
        if not isinstance(store, BulkLoad):
            _done(cmd, WriteOutcome())
            return
        if cmd.begin:
            try:
                began = await asyncio.to_thread(store.begin_bulk)
            except Exception as exc:  # the build goes on the usual way
                log.warning("bulk mode unavailable: %s", exc)
                began = False
            _done(cmd, WriteOutcome(written=int(began)))
            return
        err = await self._attempt("deferred indices", partial(store.end_bulk, cmd.build))
        if err is not None:
            log.error("building the deferred indices failed (%s): the next open builds them", err)
        _done(cmd, WriteOutcome())

    async def _attempt(
        self, what: str, op: Callable[[], None], retries: int = RETRIES
    ) -> str | None:
        """Run ``op`` in a thread, retrying with backoff; None on success, else the error."""
        for attempt in range(retries + 1):
            t0 = time.perf_counter()
            try:
                await asyncio.to_thread(op)
            except Exception as exc:
                err = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if attempt < retries:
                    self.stats.retries += 1
                    log.warning(
                        "write of %s failed (%s); retry %d/%d", what, err, attempt + 1, retries
                    )
                    await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
                    continue
                return err
            else:
                self.stats.transactions += 1
                return None
            finally:
                self.stats.write_seconds += time.perf_counter() - t0
        return "unreachable"


def _by_files(
    edges: list[Edge], hashes: list[tuple[str, str]], max_rows: int
) -> list[tuple[list[Edge], list[tuple[str, str]]]]:
    """(edges, hashes) parts of at most ``max_rows`` edges where files allow (a file is never
    split: its edges and its hash are written together), in the order of ``hashes``."""
    if len(edges) <= max_rows:
        return [(edges, hashes)]
    by_path: dict[str, list[Edge]] = {}
    for e in edges:
        by_path.setdefault(e.path, []).append(e)
    parts: list[tuple[list[Edge], list[tuple[str, str]]]] = [([], [])]
    for path, digest in hashes:
        part_edges, part_hashes = parts[-1]
        mine = by_path.pop(path, [])
        if part_hashes and len(part_edges) + len(mine) > max_rows:
            part_edges, part_hashes = [], []
            parts.append((part_edges, part_hashes))
        part_edges.extend(mine)
        part_hashes.append((path, digest))
    for rest in by_path.values():  # edges of a file without a hash (none are expected)
        parts[-1][0].extend(rest)
    return parts


def _failed(cmd: WriteCommand) -> None:
    if not cmd.future.done():
        cmd.future.set_exception(RuntimeError("writer is shut down"))


def _done(cmd: WriteCommand, outcome: WriteOutcome) -> None:
    if not cmd.future.done():
        cmd.future.set_result(outcome)
