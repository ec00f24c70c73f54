"""Ways to load a cold store, on the rows of a real one (issue 19: the store-write design).

    python bench/store_load_bench.py STORE.db [--designs today,bulk,mem-backup,mem-bulk-backup]
                                              [--batch 20000]

Reads every row of an indexed SQLite store (``isgraph index … --db sqlite:STORE.db``) and loads
the same rows into a fresh store once per design, each in its own process (so peak RSS is the
design's own), with CozoDB's put statements as `store/cozo.py` writes them:

- ``today``: SQLite, every secondary index in place, transactions of ``--batch`` rows (the
  writer's bound);
- ``bulk``: SQLite with no secondary index, transactions of 50k rows, then ``::index create``
  for each index (what the cold path does);
- ``mem-backup``: the `mem` engine with its indices, then ``backup()`` to a SQLite file;
- ``mem-bulk-backup``: `mem` without indices, indices built after, then ``backup()``.

Prints CPU-seconds (all threads of the loading process: Cozo's writes run in Rust under the
same process), wall seconds, peak RSS and the file's size. Wall seconds depend on the load;
CPU-seconds and the ratios between designs are the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

RELATIONS = {  # relation -> (columns, put statement)
    "file": (
        "path, language, hash, size, mtime_ns, status, error, entities, edges",
        ":put file {path => language, hash, size, mtime_ns, status, error, entities, edges}",
    ),
    "entity": (
        "key, language, kind, name, qualname, path, start_line, start_col, end_line, end_col,"
        " signature, doc, parent, fqn, metadata",
        ":put entity {key => language, kind, name, qualname, path, start_line, start_col,"
        " end_line, end_col, signature, doc, parent, fqn, metadata}",
    ),
    "edge": (
        "src, kind, target_name, path, dst, resolution, line, candidates, sites",
        ":put edge {src, kind, target_name => path, dst, resolution, line, candidates, sites}",
    ),
    "alias": ("fqn, path, target", ":put alias {fqn, path => target}"),
    "edge_match": ("name, path, srcs", ":put edge_match {name, path => srcs}"),
}


def export(path: str) -> dict[str, list[list[object]]]:
    from pycozo import Client

    db = Client("sqlite", path, dataframe=False)
    try:
        out = {}
        for rel, (cols, _) in RELATIONS.items():
            out[rel] = db.run(f"?[{cols}] := *{rel}{{{cols}}}")["rows"]
        return out
    finally:
        db.close()


def _create(db: object, indices: bool) -> None:
    from isgraph.store.cozo import SCHEMA

    for _name, create, idx in SCHEMA:
        db.run(create)  # type: ignore[attr-defined]
        if indices:
            for index, spec in idx:
                db.run(f"::index create {_name}:{index} {spec}")  # type: ignore[attr-defined]


def _index(db: object) -> None:
    from isgraph.store.cozo import SCHEMA

    for name, _create, idx in SCHEMA:
        for index, spec in idx:
            db.run(f"::index create {name}:{index} {spec}")  # type: ignore[attr-defined]


def _load(db: object, rows: dict[str, list[list[object]]], batch: int) -> None:
    """Transactions of about ``batch`` rows, each putting a share of every relation (as a
    write of whole files does)."""
    total = sum(len(r) for r in rows.values())
    steps = max(1, -(-total // batch))
    for i in range(steps):
        blocks, params = [], {}
        for rel, (cols, put) in RELATIONS.items():
            all_rows = rows[rel]
            lo, hi = len(all_rows) * i // steps, len(all_rows) * (i + 1) // steps
            if hi > lo:
                blocks.append(f"{{?[{cols}] <- ${rel} {put}}}")
                params[rel] = all_rows[lo:hi]
        db.run("\n".join(blocks), params)  # type: ignore[attr-defined]


def _rss_mb(field: str = "VmRSS:") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def run_design(design: str, rows_file: str, out_dir: str, batch: int, q: object) -> None:
    from pycozo import Client

    from isgraph.store.cozo import _create_wal_database

    with open(rows_file) as fh:
        rows = json.load(fh)
    target = Path(out_dir) / f"{design}.db"
    held = _rss_mb()  # the rows, in Python: the design's own memory is the peak above this
    with open("/proc/self/clear_refs", "w") as fh:  # resets the peak (VmHWM) to the current RSS
        fh.write("5")
    c0, w0 = time.process_time(), time.perf_counter()
    if design in ("today", "bulk"):
        _create_wal_database(target)
        db = Client("sqlite", str(target), dataframe=False)
        _create(db, indices=design == "today")
        _load(db, rows, batch if design == "today" else 50_000)
        if design == "bulk":
            _index(db)
        db.close()
    else:
        db = Client("mem", "", dataframe=False)
        _create(db, indices=design == "mem-backup")
        _load(db, rows, 50_000)
        if design == "mem-bulk-backup":
            _index(db)
        c1 = time.process_time()
        db.embedded.backup(str(target))  # type: ignore[attr-defined]
        backup_cpu = time.process_time() - c1
        db.close()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    rss = _rss_mb("VmHWM:") - held
    size = sum(f.stat().st_size for f in Path(out_dir).glob(f"{design}.db*"))
    extra = f"  (backup {backup_cpu:.1f} CPU-s)" if design.startswith("mem") else ""
    q.put(
        f"{design:16s} {cpu:6.1f} CPU-s {wall:6.1f} s wall  peak RSS +{rss:4.0f} MB  "  # type: ignore[attr-defined]
        f"file {size / 1e6:5.0f} MB{extra}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--designs", default="today,bulk,mem-backup,mem-bulk-backup")
    ap.add_argument("--batch", type=int, default=20_000)
    args = ap.parse_args()
    rows = export(args.store)
    counts = {rel: len(r) for rel, r in rows.items()}
    print(f"rows: {counts} ({sum(counts.values())}); load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = os.path.join(tmp, "rows.json")
        with open(rows_file, "w") as fh:
            json.dump(rows, fh)
        del rows
        ctx = multiprocessing.get_context("spawn")
        for design in args.designs.split(","):
            q = ctx.Queue()
            p = ctx.Process(target=run_design, args=(design, rows_file, tmp, args.batch, q))
            p.start()
            p.join()  # the child's one short line fits the pipe: no deadlock
            print(q.get() if p.exitcode == 0 else f"{design:16s} failed ({p.exitcode})", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    _ = sqlite3  # the files are SQLite databases the sqlite engine opens


if __name__ == "__main__":
    main()
