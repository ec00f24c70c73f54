"""Sharded indexing: N processes (``isgraph index --shard I/N``) index one repo into one store.

A file belongs to shard ``I`` when ``blake2b(relpath) % N == I - 1``: a pure function of the
path, the same in every process and every run (Python's ``hash`` is salted per process). Each
shard discovers the whole tree but parses, writes and removes only its own files, so writers
touch disjoint rows.

Resolution needs every file written: an edge from shard 1 may point into a file shard 2 has
not written yet. So a shard, after writing its files, marks itself ``written`` in the store's
meta and waits until every peer has done the same (a barrier), then resolves the edges of its
own files only. Resolution reads entities, aliases and edge candidates, which no resolver
changes, so the shards' verdicts equal a single process's, and no two shards update one row.
A peer that never arrives (crashed, not started) is waited for up to ``ISGRAPH_SHARD_WAIT_S``
seconds (default 600); then the shard resolves anyway and says so.

Which markers belong to this run: with ``--shard-run ID`` (the CI job's id), those carrying
the same id; without it, those of peers that started at most ``FRESH_S`` before this shard
(a marker left by an earlier run must not open the barrier before this run's peer has
written its files).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from isgraph.config import Config
from isgraph.index.context import CONTEXT_META
from isgraph.index.partition import ShardError, in_shard
from isgraph.index.pipeline import PipelineReport, ProgressFn
from isgraph.index.resolve import ResolveReport
from isgraph.index.service import IndexService, IndexSummary, PhaseFn
from isgraph.model import Alias, Edge, Entity, FileResult, FileState, is_external
from isgraph.store.base import RESOLVE_PENDING, EdgeUpdate, Reach, Stats, Store, SymbolRows

log = logging.getLogger(__name__)

WAIT_ENV = "ISGRAPH_SHARD_WAIT_S"
DEFAULT_WAIT_S = 600.0
FRESH_S = 600.0
POLL_S = 0.2


def marker_key(shard: int, shards: int) -> str:
    return f"shard:{shards}:{shard}"


class ShardStore:
    """The store as one shard sees it: ``file_states`` lists only the shard's files (so the
    pipeline removes and the resolver resolves only those) and the resolution-pending flag is
    the shard's own. Everything else is the whole store."""

    def __init__(self, store: Store, shard: tuple[int, int]) -> None:
        self.inner = store
        self.shard = shard
        self.url = store.url

    def _meta_key(self, key: str) -> str:
        # Each shard's own: its pending resolution, and the project files as its last run
        # saw them (a peer that saw a go.mod change first must not hide it from this one).
        if key in (RESOLVE_PENDING, CONTEXT_META):
            return f"{key}:{marker_key(*self.shard)}"
        return key

    def close(self) -> None:
        self.inner.close()

    def write_files(self, results: Sequence[FileResult], removed: Sequence[str] = ()) -> None:
        self.inner.write_files(results, removed)

    def update_edges(self, updates: Sequence[EdgeUpdate]) -> None:
        self.inner.update_edges(updates)

    def add_edges(self, edges: Sequence[Edge], hashes: Sequence[tuple[str, str]]) -> None:
        self.inner.add_edges(edges, hashes)

    def set_meta(self, key: str, value: str) -> None:
        self.inner.set_meta(self._meta_key(key), value)

    def set_metadata(self, rows: Sequence[tuple[str, str | None]]) -> None:
        self.inner.set_metadata(rows)

    def get_meta(self, key: str) -> str | None:
        return self.inner.get_meta(self._meta_key(key))

    def known_repos(self) -> list[str] | None:
        return self.inner.known_repos()

    def edge_paths_to_recheck(self, names: Iterable[str]) -> set[str]:
        return self.inner.edge_paths_to_recheck(names)

    def file_states(self) -> dict[str, FileState]:
        # Typeshed stubs are every shard's: each knows they are there (none re-indexes them).
        return {
            p: s
            for p, s in self.inner.file_states().items()
            if in_shard(p, self.shard) or is_external(p)
        }

    def get_entity(self, key: str) -> Entity | None:
        return self.inner.get_entity(key)

    def get_entities(self, keys: Iterable[str]) -> dict[str, Entity]:
        return self.inner.get_entities(keys)

    def find_entities(
        self,
        *,
        name: str | None = None,
        name_contains: str | None = None,
        kind: str | None = None,
        path: str | None = None,
        limit: int | None = None,
    ) -> list[Entity]:
        return self.inner.find_entities(
            name=name, name_contains=name_contains, kind=kind, path=path, limit=limit
        )

    def entities_by_fqn(self, fqns: Iterable[str]) -> dict[str, list[Entity]]:
        return self.inner.entities_by_fqn(fqns)

    def methods_named(self, names: Iterable[str]) -> dict[str, list[Entity]]:
        return self.inner.methods_named(names)

    def aliases_of(self, path: str) -> list[Alias]:
        return self.inner.aliases_of(path)

    def aliases(self, fqns: Iterable[str]) -> dict[str, Alias]:
        return self.inner.aliases(fqns)

    def edges(
        self,
        *,
        kind: str | None = None,
        path: str | None = None,
        src: str | None = None,
        dst: str | None = None,
        resolution: str | None = None,
    ) -> list[Edge]:
        return self.inner.edges(kind=kind, path=path, src=src, dst=dst, resolution=resolution)

    def edges_from_paths(self, paths: Iterable[str]) -> list[Edge]:
        return self.inner.edges_from_paths(paths)

    def edges_from_srcs(self, srcs: Iterable[str], kind: str) -> list[Edge]:
        return self.inner.edges_from_srcs(srcs, kind)

    def unresolved_calls_naming(self, name: str) -> list[Edge]:
        return self.inner.unresolved_calls_naming(name)

    def symbol_rows(self) -> Iterator[SymbolRows]:
        return self.inner.symbol_rows()  # every shard's: resolution reads the whole store

    def edges_to(self, dsts: Iterable[str]) -> list[Edge]:
        return self.inner.edges_to(dsts)

    def callers(self, key: str, depth: int = 1) -> list[Reach]:
        return self.inner.callers(key, depth)

    def callees(self, key: str, depth: int = 1) -> list[Reach]:
        return self.inner.callees(key, depth)

    def impact(self, key: str, depth: int = 3) -> list[Reach]:
        return self.inner.impact(key, depth)

    def cycles(self, kind: str = "calls", limit: int = 100) -> list[list[str]]:
        return self.inner.cycles(kind, limit)

    def search(self, query: str, limit: int = 20) -> list[Entity]:
        return self.inner.search(query, limit)

    def stats(self, stubs: bool = False) -> Stats:
        return self.inner.stats(stubs)

    def counts(self) -> tuple[int, int, int]:
        return self.inner.counts()


class ShardedIndexService(IndexService):
    """IndexService for one shard: indexes the shard's files, waits at the barrier for its
    peers, then resolves the shard's files. ``config.shard`` must be set."""

    def __init__(self, root: Path, store: Store, config: Config, run_id: str = "") -> None:
        if config.shard is None:
            raise ValueError("ShardedIndexService needs config.shard")
        if any(ch.isspace() for ch in run_id):
            raise ShardError(f"--shard-run must not contain spaces, got {run_id!r}")
        self.shard = config.shard
        self.run_id = run_id
        super().__init__(root, ShardStore(store, config.shard), config)
        self.wait_s = float(os.environ.get(WAIT_ENV) or DEFAULT_WAIT_S)
        self.started = 0.0
        self.peers_missing: list[int] = []  # peers not written when the wait ran out

    async def index(
        self,
        *,
        progress: ProgressFn | None = None,
        phase: PhaseFn | None = None,
        only: list[str] | None = None,
        overrides: Mapping[str, bytes] | None = None,
        resolve: bool = True,
    ) -> IndexSummary:
        self._ensure_writer()
        self.started = time.time()
        await self._mark("indexing")
        summary = await super().index(
            progress=progress, phase=phase, only=only, overrides=overrides, resolve=resolve
        )
        await self._mark("done")
        if self.peers_missing:
            summary.errors.append(
                {
                    "path": "<shards>",
                    "error": f"shards {self.peers_missing} of {self.shard[1]} did not finish "
                    f"writing within {self.wait_s:.0f} s: edges into their files may be "
                    "unresolved until the next run",
                }
            )
        return summary

    async def _index_stubs(self, report: PipelineReport, cut_short: bool) -> None:
        """Deferred to after the barrier (see `_resolve`)."""

    async def _mark(self, phase: str) -> None:
        value = f"{phase} {self.started:.3f} {self.run_id}".rstrip()
        await self.writer.set_meta(marker_key(*self.shard), value)

    async def _resolve(
        self, report: PipelineReport, phase: PhaseFn | None, cut_short: bool
    ) -> ResolveReport:
        # The paths this shard changed, for its peers: an edge in one shard's file may have to
        # be re-resolved because of a name another shard's changed file now defines. Written
        # before the marker, so a peer that sees the marker reads this run's list.
        changed = sorted({*report.changed_paths, *report.removed_paths})
        await self.writer.set_meta(f"{marker_key(*self.shard)}:changed", json.dumps(changed))
        await self._mark("written")
        await self.writer.flush()
        self.peers_missing = await asyncio.to_thread(self._wait_for_peers)
        # Stubs only now: which modules the repo defines, and what every shard imports, is
        # known once all have written (before, a module in a peer's files looks missing). The
        # imports come from the store: the whole repo's, so every shard wants the same stubs
        # and finds each one stored, or writes it (same content) before it resolves.
        await super()._index_stubs(report, True)
        peers_changed = await asyncio.to_thread(self._peers_changed)
        # As if this shard had changed them too: the service then rechecks the edges their
        # names may affect, and goes for a full resolution when the change is large. The
        # resolved paths stay this shard's own (ShardStore.file_states).
        report.changed_paths = sorted({*report.changed_paths, *peers_changed})
        return await super()._resolve(report, phase, cut_short)

    def _peers_changed(self) -> set[str]:
        me, n = self.shard
        store = self.store.inner if isinstance(self.store, ShardStore) else self.store
        paths: set[str] = set()
        for peer in range(1, n + 1):
            if peer != me and peer not in self.peers_missing:
                paths.update(json.loads(store.get_meta(f"{marker_key(peer, n)}:changed") or "[]"))
        return paths

    def _wait_for_peers(self) -> list[int]:
        """Block until every peer shard has written its files; the peers still missing when
        the wait runs out."""
        me, n = self.shard
        store = self.store.inner if isinstance(self.store, ShardStore) else self.store
        deadline = time.monotonic() + self.wait_s
        while True:
            missing = []
            for peer in range(1, n + 1):
                if peer == me:
                    continue
                if not self._arrived(store.get_meta(marker_key(peer, n)) or ""):
                    missing.append(peer)
            if not missing or time.monotonic() > deadline:
                if missing:
                    log.warning("shards %s of %d did not finish writing in time", missing, n)
                return missing
            time.sleep(POLL_S)

    def _arrived(self, marker: str) -> bool:
        """Whether a peer's marker says it has written its files in this run."""
        phase, _, rest = marker.partition(" ")
        started, _, run_id = rest.partition(" ")
        if phase not in ("written", "done"):
            return False
        if self.run_id:
            return run_id == self.run_id
        try:
            return float(started) > self.started - FRESH_S
        except ValueError:
            return False
