"""Counts the reliability tests report for docs/reliability.md (bench/reliability_table.py).

A test calls ``record(section, **counts)``; when ``ISGRAPH_RELIABILITY_JSON`` names a file,
the counts are merged into it (one object per section, later calls overwrite keys). Unset,
nothing is written: a normal test run leaves no files behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "ISGRAPH_RELIABILITY_JSON"


def recorded(section: str) -> dict[str, object]:
    """What ``section`` holds so far in $ISGRAPH_RELIABILITY_JSON (empty when unset), for
    counts that add up over several runs (the differential bench's chunks)."""
    target = os.environ.get(ENV)
    if not target or not Path(target).exists():
        return {}
    return dict(json.loads(Path(target).read_text() or "{}").get(section, {}))


def record(section: str, **counts: object) -> None:
    """Merge ``counts`` into ``section`` of the JSON file named by $ISGRAPH_RELIABILITY_JSON."""
    target = os.environ.get(ENV)
    if not target:
        return
    path = Path(target)
    data: dict[str, dict[str, object]] = {}
    if path.exists():
        data = json.loads(path.read_text() or "{}")
    data.setdefault(section, {}).update(counts)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
