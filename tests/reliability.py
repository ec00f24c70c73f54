"""Counts the reliability tests report for docs/reliability.md (bench/reliability_table.py).

A test calls ``record(section, **counts)``; when ``ISGRAPH_RELIABILITY_JSON`` names a file,
the counts are merged into it (one object per section, later calls overwrite keys). Unset,
nothing is written: a normal test run leaves no files behind.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

ENV = "ISGRAPH_RELIABILITY_JSON"


def recorded(section: str) -> dict[str, object]:
    """What ``section`` holds so far in $ISGRAPH_RELIABILITY_JSON (empty when unset)."""
    target = os.environ.get(ENV)
    if not target or not Path(target).exists():
        return {}
    return dict(json.loads(Path(target).read_text() or "{}").get(section, {}))


def record(section: str, **counts: object) -> None:
    """Merge ``counts`` into ``section`` of the JSON file named by $ISGRAPH_RELIABILITY_JSON."""
    _update(section, lambda held: held.update(counts))


def append(section: str, key: str, item: object) -> None:
    """Add ``item`` to the list ``key`` of ``section``, for counts that add up over several
    runs (the differential bench's chunks, which may run at once in parallel processes)."""

    def add(held: dict[str, object]) -> None:
        items = held.get(key)
        held[key] = [*(items if isinstance(items, list) else []), item]

    _update(section, add)


def _update(section: str, change: Callable[[dict[str, object]], None]) -> None:
    """Read, change and write the file under an exclusive lock: processes writing at once
    (parallel bench runs, pytest-xdist workers) must not lose each other's counts."""
    target = os.environ.get(ENV)
    if not target:
        return
    path = Path(target)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, dict[str, object]] = {}
        if path.exists():
            data = json.loads(path.read_text() or "{}")
        change(data.setdefault(section, {}))
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)
