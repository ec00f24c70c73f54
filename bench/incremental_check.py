"""Incremental equals clean, the long mode of the differential tester (tests/differential.py).

    python bench/incremental_check.py --steps 2000                 # every route, split evenly
    python bench/incremental_check.py --steps 500 --routes cli --seed 7
    python bench/incremental_check.py --steps 40 --json out.json   # counts for reliability.md

Each route starts from the same real corpus (stdlib packages, the per-language fixtures, a
typed module pair), draws seeded random edits and compares the store with a clean index
after every step (`index/verify.py`). Prints each difference as a reproduction (route,
seed, step, edit, rows), then steps and differences per route and edit kind. The reference
is the clean index itself: a difference is a row where the incremental store disagrees.
The PostgreSQL route needs the test server (ISGRAPH_TEST_PG, default 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.differential import (  # noqa: E402
    ServerRoute,
    StoreRoute,
    Tally,
    Tree,
    build_corpus,
    run,
)
from tests.reliability import append  # noqa: E402

from isgraph.config import Config  # noqa: E402
from isgraph.store.connect import open_store  # noqa: E402

ROUTES = ("cli", "postgres", "watch", "didchange")


async def run_route(
    name: str, seed: int, steps: int, tally: Tally, work: Path, out: Path | None
) -> None:
    root = build_corpus(work / f"tree-{name}")
    tree = Tree(root, seed)
    config = Config(jobs=1)  # a corpus this small parses no faster on two
    store = None
    route: StoreRoute | ServerRoute
    if name == "cli":
        store = open_store(f"sqlite:{work / f'{name}.db'}")
        route = StoreRoute(name, root, store, config)
    elif name == "postgres":
        from tests.pg import pg_url, unique_schema

        store = open_store(pg_url(schema=unique_schema(), repo="diff"), root)
        route = StoreRoute(name, root, store, config)
    else:
        route = ServerRoute(name, root, f"sqlite:{work / f'{name}.db'}")
    try:
        await route.start()
        await run(route, tree, seed, steps, tally, after_step=lambda: _save(tally, out))
    finally:
        await route.close()
        if store is not None:
            store.close()


def _save(tally: Tally, out: Path | None) -> None:
    """The counts so far (a long run stopped early still leaves its figures)."""
    if out is not None:
        out.write_text(json.dumps({**tally.record(), "load": os.getloadavg()[0]}, indent=2))


def summary(
    tally: Tally, seed: int, routes: list[str], commit: str, seconds: float, load: float
) -> str:
    """Steps and steps with differences per route and per edit kind, as Markdown to paste
    in a note (a run per route in parallel processes gives one such block each)."""
    by_route: Counter[str] = Counter()
    by_route_bad: Counter[str] = Counter()
    by_op: Counter[str] = Counter()
    by_op_bad: Counter[str] = Counter()
    for key, n in tally.steps.items():
        route, _, op = key.partition(" ")
        by_route[route] += n
        by_op[op] += n
        by_route_bad[route] += tally.failing[key]
        by_op_bad[op] += tally.failing[key]
    lines = [
        f"incremental_check: {tally.total} steps, {tally.failed} with differences "
        f"(seed {seed}, routes {','.join(routes)}, commit {commit}, {seconds:.0f} s, "
        f"load {load:.1f} at start)",
        "",
        "| route | steps | with differences |",
        "|---|---:|---:|",
        *(f"| {r} | {by_route[r]} | {by_route_bad[r]} |" for r in sorted(by_route)),
        "",
        "| edit kind | steps | with differences |",
        "|---|---:|---:|",
        *(f"| {o} | {by_op[o]} | {by_op_bad[o]} |" for o in sorted(by_op)),
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200, help="steps in all, split over routes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--routes", default=",".join(ROUTES), help=f"comma-separated: {ROUTES}")
    ap.add_argument("--json", type=Path, help="write the counts here")
    args = ap.parse_args()
    routes = [r for r in args.routes.split(",") if r]
    unknown = set(routes) - set(ROUTES)
    if unknown:
        ap.error(f"unknown routes {sorted(unknown)}")
    tally = Tally()
    # The commit whose code this run loaded (HEAD may move while a long run goes on).
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    t0 = time.perf_counter()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="isgraph-diff-") as tmp:
        for i, name in enumerate(routes):
            share = args.steps // len(routes) + (1 if i < args.steps % len(routes) else 0)
            asyncio.run(run_route(name, args.seed + i, share, tally, Path(tmp), args.json))
    seconds = time.perf_counter() - t0
    print(f"\n{tally.total} steps, {tally.failed} with differences, {seconds:.0f} s")
    print(f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
    print(f"{'route op':40} {'steps':>6} {'differing':>9}")
    for key in sorted(tally.steps):
        print(f"{key:40} {tally.steps[key]:>6} {tally.failing[key]:>9}")
    for key, n in sorted(tally.rows.items()):
        print(f"rows differing: {key}: {n}")
    print()
    print(summary(tally, args.seed, routes, commit, seconds, load[0]))
    rec = {**tally.record(), "seed": args.seed, "routes": routes, "seconds": round(seconds)}
    rec["commit"] = commit
    if args.json:
        args.json.write_text(json.dumps(rec, indent=2) + "\n")
    # For docs/reliability.md (bench/reliability_table.py), when ISGRAPH_RELIABILITY_JSON is
    # set: each run is added to the runs recorded before (chunks with different seeds).
    # Parallel runs (one route each) append under a lock (`tests.reliability.append`).
    run_rec = {k: rec[k] for k in ("seed", "routes", "steps", "steps_with_differences")}
    run_rec.update(commit=rec["commit"], seconds=rec["seconds"], load=round(load[0], 1))
    append("incremental_bench", "runs", run_rec)
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
