"""Memory bounds for CozoDB's RocksDB engine, through the engine's own tuning file.

CozoDB opens a RocksDB store with RocksDB's default memtables: 64 MiB each, two of them, and
— because it opens a *transaction* database — up to another 128 MiB of flushed memtables
kept for conflict checks (`max_write_buffer_size_to_maintain`). A cold stdlib build peaked at
~680 MB of process-tree memory on RocksDB against ~330 MB on SQLite (issue 19 asks <= 400 MB
on every engine). CozoDB reads a RocksDB options file named ``options`` beside its ``data``
directory when one exists (cozo's TUNING_ROCKSDB.md); the supported way to tune it is to start
from the OPTIONS file RocksDB itself persisted for the store and change numbers in it. That is
what `ensure` does, once per store; a user's own ``options`` file is never touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MIB = 1024 * 1024
# The numbers changed, and why each is safe: smaller memtables flush more often (more, smaller
# level-0 files, compacted in the background); the kept history only serves transactions'
# conflict checks, which isgraph's one writer per store rarely needs.
BOUNDS = {
    "write_buffer_size": 16 * MIB,
    "max_write_buffer_size_to_maintain": 16 * MIB,
}


def tuned(persisted: str) -> str:
    """``persisted`` (a RocksDB OPTIONS file) with `BOUNDS` set in every column family."""
    for name, value in BOUNDS.items():
        persisted = re.sub(rf"(?m)^(\s*){name}=\d+$", rf"\g<1>{name}={value}", persisted)
    return persisted


def ensure(store: Path) -> bool:
    """Write ``store/options`` from the newest OPTIONS file RocksDB persisted in
    ``store/data``; True when written (it takes effect at the next open). False when the
    store already has one (ours, or the user's tuning) or RocksDB has persisted none yet."""
    target = store / "options"
    if target.exists():
        return False
    persisted = sorted((store / "data").glob("OPTIONS-*"))
    if not persisted:
        return False
    text = tuned(persisted[-1].read_text(encoding="utf-8"))
    tmp = target.with_name(f"options.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return True
