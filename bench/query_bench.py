"""Query latency on an indexed store: point lookup, name search, callers.

    python bench/query_bench.py --db CONN [--n 2000]
    python bench/query_bench.py --index CORPUS [--db-kind rocksdb]   # index first, then measure

Keys and names are drawn at random (fixed seed) from the store. Latency is measured in-process
through the Store API, as the language server and the CLI call it, and printed as p50/p99 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import isgraph_cmd, prepare_corpus


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49] * 1000, qs[98] * 1000, max(samples) * 1000


def measure(fn: Callable[[str], object], args: list[str]) -> tuple[float, float, float]:
    for a in args[:50]:  # warm caches the way a running server would be warm
        fn(a)
    samples = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", help="store to measure (mem is not useful: it is empty)")
    ap.add_argument("--index", type=Path, help="index this corpus into a fresh store first")
    ap.add_argument("--db-kind", choices=["sqlite", "rocksdb"], default="sqlite")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="isgraph-qbench-")
    db = args.db
    if args.index is not None:
        root = prepare_corpus(args.index, Path(tmp.name)) / "copy_1"
        db = f"{args.db_kind}:{Path(tmp.name) / 'store' / 'index.db'}"
        subprocess.run(
            isgraph_cmd("index", str(root), "--db", db, "--quiet"),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if db is None:
        ap.error("give --db CONN or --index CORPUS")
    from isgraph.store.connect import open_store

    store = open_store(db)
    ents = store.find_entities()
    if not ents:
        raise SystemExit(f"{db} holds no entities: index something first")
    rng = random.Random(42)
    picks = [rng.choice(ents) for _ in range(args.n)]
    keys = [e.key for e in picks]
    names = [e.name[: max(3, len(e.name) // 2)] for e in picks[: max(200, args.n // 10)]]
    callables = [e.key for e in picks if e.kind in ("function", "method")]
    print(f"store {db}: {len(ents)} entities, {store.stats().edges} edges; n = {args.n}")
    print(f"{'query':<28}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for label, fn, sample in (
        ("point lookup (get_entity)", store.get_entity, keys),
        ("callers depth 1", lambda k: store.callers(k, 1), callables),
        ("callers depth 3", lambda k: store.callers(k, 3), callables[:300]),
        ("name search (fuzzy, top 20)", lambda q: store.search(q, 20), names),
    ):
        p50, p99, mx = measure(fn, sample)
        print(f"{label:<28}{p50:>10.3f}{p99:>10.3f}{mx:>10.2f}")
    store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
