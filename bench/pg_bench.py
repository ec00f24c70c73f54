"""PostgreSQL next to the embedded default, in one run: indexing throughput and query latency.

    python bench/pg_bench.py [--corpus DIR] [--pg postgresql://…/test] [--queries 300]

Indexes the corpus (default: a copy of CPython's stdlib without site-packages/__pycache__;
/tmp/stdlib when it exists) from scratch: into the embedded SQLite store, into PostgreSQL with
one writer, and into PostgreSQL with k ``--shard`` writers at once for each k of ``--shards``
(default 2; e.g. ``--shards 2,4``), each with its share of the parser processes so every run
has the same CPUs. Then measures, in-process through the Store API, point lookup, callers
(depth 1) and search p50/p99 on the SQLite store and on the one-writer PostgreSQL store, and
compares the first sharded store with the one-writer store. A throwaway schema is dropped at
the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import count_files, default_corpus, isgraph_cmd, prepare_corpus
from isgraph.store.base import Store
from isgraph.store.connect import open_store


def index_runs(cmds: list[list[str]]) -> float:
    """Run the commands at once; wall seconds until the last one ends."""
    t0 = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "ISGRAPH_DB"}
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True, env=env) for c in cmds]
    for p, c in zip(procs, cmds, strict=True):
        out, _ = p.communicate()
        if p.returncode not in (0, 1):
            raise SystemExit(f"{c} failed ({p.returncode})")
        json.loads(out)
    return time.perf_counter() - t0


def pct(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1e3, s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3


def timed(fn: Callable[[str], object], args: list[str]) -> tuple[float, float]:
    for a in args[:20]:  # warm caches and prepared statements
        fn(a)
    samples = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        samples.append(time.perf_counter() - t0)
    return pct(samples)


def queries(store: Store, n: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(7)
    called = [e.dst for e in store.edges(kind="calls", resolution="exact") if e.dst]
    keys = rng.sample(called, min(n, len(called)))
    names = [k.rsplit(":", 1)[1].rsplit(".", 1)[-1][:5] for k in keys]
    return {
        "point lookup": timed(store.get_entity, keys),
        "callers d=1": timed(lambda k: store.callers(k, 1), keys),
        "search": timed(lambda q: store.search(q, 20), names[: max(50, n // 3)]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--shards", default="2", help="shard writer counts to run, e.g. 2,4")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isgraph-pgbench-") as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path("/tmp/stdlib")
            if not corpus.is_dir():
                corpus = prepare_corpus(default_corpus(), Path(tmp) / "corpus") / "copy_1"
        files = count_files(corpus)
        schema = f"isgraph_bench_{uuid.uuid4().hex[:8]}"
        sep = "&" if "?" in args.pg else "?"
        pg = f"{args.pg}{sep}schema={schema}&repo="
        sqlite_url = f"sqlite:{tmp}/index.db"
        common = ["--json", "--quiet"]
        runs = [
            (
                "sqlite (embedded), 1 writer",
                [
                    isgraph_cmd(
                        "index", str(corpus), "--db", sqlite_url, "-j", str(args.jobs), *common
                    )
                ],
            ),
            (
                "postgres, 1 writer",
                [
                    isgraph_cmd(
                        "index", str(corpus), "--db", pg + "one", "-j", str(args.jobs), *common
                    )
                ],
            ),
        ]
        shard_counts = [int(k) for k in args.shards.split(",") if k.strip()]
        for k in shard_counts:
            jobs = str(max(1, args.jobs // k))  # the same parser processes in total
            cmds = [
                isgraph_cmd(
                    "index",
                    str(corpus),
                    "--db",
                    f"{pg}shards{k}",
                    "-j",
                    jobs,
                    "--shard",
                    f"{i}/{k}",
                    "--shard-run",
                    f"{schema}-{k}",
                    *common,
                )
                for i in range(1, k + 1)
            ]
            runs.append((f"postgres, {k} shard writers", cmds))
        print(
            f"corpus {corpus}: {files} .py files; {args.jobs} parser processes per run; "
            f"{os.cpu_count()} CPUs"
        )
        print(f"{'index run':<30} {'seconds':>8} {'files/s':>8} {'vs sqlite':>9}")
        base = 0.0
        try:
            for label, cmds in runs:
                secs = index_runs(cmds)
                base = base or secs
                print(f"{label:<30} {secs:8.2f} {files / secs:8.0f} {base / secs:8.2f}x")
            print(f"\n{'query (ms)':<16} {'store':<10} {'p50':>7} {'p99':>7}")
            for name, url in (("sqlite", sqlite_url), ("postgres", pg + "one")):
                store = open_store(url)
                try:
                    for q, (p50, p99) in queries(store, args.queries).items():
                        print(f"{q:<16} {name:<10} {p50:7.2f} {p99:7.2f}")
                finally:
                    store.close()
            check = [open_store(pg + r) for r in ("one", f"shards{shard_counts[0]}")]
            one, two = (s.stats().record() for s in check)
            for s in check:
                s.close()
            # Everything must match exactly, edge verdicts included.
            print(f"\n{shard_counts[0]} shard writers vs one writer:")
            for k in one:
                print(f"  {k}: {'same' if one[k] == two[k] else f'{one[k]} vs {two[k]}'}")
        finally:
            import psycopg

            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
