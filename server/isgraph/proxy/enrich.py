"""Enrichment at index time: ask a downstream server for hover at each entity's name and
store the answer as the entity's metadata (`hover.metadata_of`).

The pipeline hands over each batch of written files (`feed`, with the write's future) while
it goes on parsing later files; file workers here wait for that write, read the file's
entities from the store and ask the first live server of the file's language, at most
``concurrency`` requests in flight per server. A request that times out, fails, or finds the
server down leaves the entity's metadata None and is counted; nothing here can fail or stall
the pipeline. After the first run, stored files whose entities still lack metadata (an index
made without enrichment, or earlier timeouts) are swept once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from isgraph.index.languages import language_for
from isgraph.index.stage import EnrichReport
from isgraph.index.writer import WriteOutcome, Writer
from isgraph.model import Entity, is_external
from isgraph.proxy.downstream import Downstream
from isgraph.proxy.hover import markdown_of, metadata_of, name_position
from isgraph.proxy.manager import DownstreamManager
from isgraph.store.base import Store

log = logging.getLogger(__name__)

FILE_WORKERS = 4  # files being enriched at once (requests are bounded per server anyway)


_Item = tuple[str, "asyncio.Future[WriteOutcome] | None"]
_END = ("", None)


class Enricher:
    """One root's enrichment stage. ``begin`` before a run, ``feed`` from the pipeline,
    ``end_run`` after it (waits for the run's enrichment when ``wait``), ``close`` at the end."""

    def __init__(
        self,
        manager: DownstreamManager,
        store: Store,
        writer: Writer,
        root: Path,
        *,
        wait: bool = True,
    ) -> None:
        self.manager = manager
        self.store = store
        self.writer = writer
        self.root = root.resolve()
        self.wait = wait
        self.total = EnrichReport()  # everything since this enricher was made
        self._run = EnrichReport()
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()  # paths only: cheap, unbounded
        self._workers: list[asyncio.Task[None]] = []
        self._seen: set[str] = set()  # paths fed in this run (the sweep skips them)
        self._swept = False
        self._writes: list[asyncio.Future[WriteOutcome]] = []
        self._t0 = 0.0

    def serves(self, path: str) -> bool:
        return not is_external(path) and bool(self.manager.for_language(language_for(path)))

    def begin(self) -> None:
        """Start the file workers (once) and a new run's counts."""
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"enrich-{i}") for i in range(FILE_WORKERS)
            ]
        if self.wait or self._t0 == 0.0:
            self._run = EnrichReport()
            self._t0 = time.perf_counter()
        self._seen = set()

    def feed(self, paths: Sequence[str], written: asyncio.Future[WriteOutcome] | None) -> None:
        """Files the pipeline wrote (or queued for writing: ``written`` resolves once done)."""
        for path in paths:
            if self.serves(path):
                self._seen.add(path)
                self._queue.put_nowait((path, written))

    async def end_run(self) -> EnrichReport | None:
        """The pipeline is done: sweep once, then (``wait``) wait for this run's enrichment."""
        if not self._swept:
            self._swept = True
            states = await asyncio.to_thread(self.store.file_states)
            for path in sorted(states):
                if path not in self._seen and self.serves(path):
                    self._queue.put_nowait((path, None))
        if not self.wait:
            return None
        await self._queue.join()
        writes, self._writes = self._writes, []
        if writes:
            await asyncio.gather(*writes, return_exceptions=True)
        self._run.seconds = time.perf_counter() - self._t0
        return self._run

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def _work(self) -> None:
        while True:
            path, written = await self._queue.get()
            try:
                if written is not None:
                    await asyncio.shield(written)
                rep = await self._enrich_file(path)
                self._run.add(rep)
                self.total.add(rep)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one file stop the stage
                log.exception("enrichment of %s failed", path)
            finally:
                self._queue.task_done()

    async def _enrich_file(self, path: str) -> EnrichReport:
        rep = EnrichReport()
        ents = await asyncio.to_thread(self.store.find_entities, path=path)
        todo = entities_needing(ents)
        if not todo:
            return rep
        rep.files = 1
        try:
            text = await asyncio.to_thread(
                (self.root / path).read_text, encoding="utf-8", errors="replace"
            )
        except OSError:
            return rep
        lines = text.splitlines()
        asks = [(e, pos) for e in todo if (pos := name_position(lines, e)) is not None]
        rep.entities = len(asks)
        server = await self.manager.first_live(language_for(path))
        if server is None:
            rep.timed_out = len(asks)
            return rep
        uri = (self.root / path).as_uri()
        async with self.manager.holding(server, uri, text, language_for(path)):
            answers = await asyncio.gather(*(self._hover(server, uri, pos) for _, pos in asks))
        rows: list[tuple[str, str | None]] = []
        for (e, _), (ok, answer) in zip(asks, answers, strict=True):
            if not ok:
                rep.timed_out += 1
                continue
            rep.enriched += answer is not None
            rep.empty += answer is None
            rows.append((e.key, metadata_of(answer, server.spec.name)))
        if rows:
            written = await self.writer.set_metadata(rows)
            if self.wait:  # `end_run` waits for them; in the background nobody does
                self._writes.append(written)
        return rep

    async def _hover(self, server: Downstream, uri: str, pos: tuple[int, int]) -> _Answer:
        params = types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=pos[0], character=pos[1]),
        )
        async with server.semaphore:
            with contextlib.suppress(Exception):
                answer = await server.request(
                    types.TEXT_DOCUMENT_HOVER, params, server.spec.timeout_ms / 1000
                )
                return True, markdown_of(answer)
        return False, None


_Answer = tuple[bool, str | None]


def entities_needing(ents: Sequence[Entity]) -> list[Entity]:
    """The entities an enrichment asks about: not modules, no metadata yet."""
    return [e for e in ents if e.kind != "module" and e.metadata is None]
