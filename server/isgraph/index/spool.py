"""Deferred call edges: held on disk between the pipeline and resolution, written once.

A call whose target lies in another file cannot be decided until every file's entities are
stored. Writing it unresolved, reading it back and updating it costs three passes over the
bulk of the edges (they are ~70 % of all rows); instead the worker pickles such calls
(`pack`), the pipeline appends the bytes to an anonymous temporary file (memory stays flat:
only an offset per file is kept), and the resolver reads them back file batch by file batch
(`take`) and writes each edge once, decided.

Crash safety: while a file's calls are in the spool, its stored row has an empty hash (see
`FileResult.deferred`), so a run that dies before writing them re-parses the file next time.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from isgraph.model import Edge, EdgeKind, Resolution, Site

_Row = tuple[str, str, int, tuple[str, ...], tuple[Site, ...]]  # src, target, line, cands, sites


def should_defer(edge: Edge) -> bool:
    """A call that the resolver must decide against other files."""
    return edge.kind == EdgeKind.CALLS and bool(edge.candidates)


def pack(edges: Sequence[Edge]) -> bytes:
    """The deferred calls of one file, as the worker hands them over (pickled there, in
    parallel, instead of as objects unpickled and re-pickled in the parent)."""
    rows: list[_Row] = [(e.src, e.target_name, e.line, e.candidates, e.sites) for e in edges]
    return pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(path: str, blob: bytes) -> list[Edge]:
    rows: list[_Row] = pickle.loads(blob)
    return [
        Edge(src, EdgeKind.CALLS, target, path, line, None, Resolution.UNRESOLVED, cands, sites)
        for src, target, line, cands, sites in rows
    ]


@dataclass(slots=True, frozen=True)
class _Entry:
    offset: int
    length: int
    content_hash: str  # the file's real hash, stored once its calls are written


class EdgeSpool:
    """An append-only temporary file of deferred calls, keyed by path. One per index run."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="isgraph-spool-")  # noqa: SIM115 (closed by close())
        self._index: dict[str, _Entry] = {}
        self._end = 0

    def add(self, path: str, content_hash: str, blob: bytes) -> None:
        """Hold ``blob`` (from `pack`) for ``path``; a later add for the path replaces it."""
        self._file.seek(self._end)
        self._file.write(blob)
        self._index[path] = _Entry(self._end, len(blob), content_hash)
        self._end += len(blob)

    def discard(self, paths: Iterable[str]) -> None:
        """Forget paths whose write failed or that were removed after being spooled."""
        for path in paths:
            self._index.pop(path, None)

    def __contains__(self, path: object) -> bool:
        return path in self._index

    def __len__(self) -> int:
        return len(self._index)

    def paths(self) -> list[str]:
        return list(self._index)

    def take(self, paths: Iterable[str]) -> tuple[list[Edge], list[tuple[str, str]]]:
        """The held calls of ``paths`` (those spooled), and (path, hash) for each such path;
        they are forgotten here."""
        edges: list[Edge] = []
        hashes: list[tuple[str, str]] = []
        for path in paths:
            entry = self._index.pop(path, None)
            if entry is None:
                continue
            self._file.seek(entry.offset)
            edges += unpack(path, self._file.read(entry.length))
            hashes.append((path, entry.content_hash))
        return edges, hashes

    def close(self) -> None:
        self._index.clear()
        self._file.close()

    def __enter__(self) -> EdgeSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
