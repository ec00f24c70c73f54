"""Stages the pipeline feeds after it writes (enrichment, in `proxy/enrich.py`), seen from
`index/` as a protocol, so that `index/` depends on no stage and the stages depend on
`index/` (its writer), one way."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from isgraph.index.writer import WriteOutcome


@dataclass(slots=True)
class EnrichReport:
    """Counts of one enrichment (entities unless said otherwise)."""

    files: int = 0  # files with entities to ask about
    entities: int = 0  # asked about
    enriched: int = 0  # a hover text stored
    empty: int = 0  # the server answered with nothing (stored as such: not asked again)
    timed_out: int = 0  # timeout, error or server down: metadata None (asked again next run)
    seconds: float = 0.0

    def add(self, other: EnrichReport) -> None:
        self.files += other.files
        self.entities += other.entities
        self.enriched += other.enriched
        self.empty += other.empty
        self.timed_out += other.timed_out

    def record(self) -> dict[str, object]:
        return {
            "files": self.files,
            "entities": self.entities,
            "enriched": self.enriched,
            "empty": self.empty,
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 3),
        }


class WrittenStage(Protocol):
    """What `IndexService` calls on a stage: ``begin`` a run, ``feed`` it each batch of
    written files (with the write's future) while the pipeline goes on, ``end_run`` for the
    run's report, ``close`` at the end."""

    def begin(self) -> None: ...

    def feed(self, paths: Sequence[str], written: asyncio.Future[WriteOutcome] | None) -> None: ...

    async def end_run(self) -> EnrichReport | None: ...

    async def close(self) -> None: ...
