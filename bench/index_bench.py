"""Cold and warm `isgraph index` next to universal-ctags and the tree-sitter parse floor.

    python bench/index_bench.py [CORPUS] [--language python] [--jobs 2] [--db-kind sqlite]
                                [--scale 1,2,4] [--json]

All tools run in this one invocation, on the same copy of the corpus, so the ratios stay
meaningful on a noisy machine. CORPUS defaults to CPython's standard library (site-packages and
__pycache__ are left out of the copy). --language picks the files counted, parsed for the floor
and given to ctags (`--languages=`); isgraph indexes the whole corpus either way.

Figures: files/s of a cold index into a fresh store; isgraph/ctags and isgraph/floor ratios
(floor = tree-sitter parsing every file once in the same number of processes, start-up
included, nothing else); a second run with nothing changed; peak RSS of isgraph's whole
process tree (sum of RSS of the parent and its pool workers, sampled every 20 ms: shared pages
count once per process, so this over- rather than under-states).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    Measured,
    count_files,
    default_corpus,
    isgraph_cmd,
    mb,
    prepare_corpus,
    run_cpu_measured,
)

LANGUAGE = "python"  # set from --language in main(); read by the helpers below


def _files(root: Path, language: str) -> list[str]:
    from isgraph.index.languages import language_for

    return [str(p) for p in root.rglob("*") if p.is_file() and language_for(p.name) == language]


def _parse_one(task: tuple[str, str]) -> int:
    from tree_sitter_language_pack import get_parser

    language, path = task
    with open(path, "rb") as fh:
        return get_parser(language).parse(fh.read()).root_node.end_byte  # type: ignore[arg-type]


def parse_floor(root: Path, jobs: int) -> float:
    files = [(LANGUAGE, f) for f in _files(root, LANGUAGE)]
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(jobs) as pool:
        for _ in pool.imap_unordered(_parse_one, files, chunksize=8):
            pass
    return time.perf_counter() - t0


def ctags_time(root: Path, out: Path) -> float | None:
    """``ctags -R`` over the language's files; None when ctags has no parser for it (Swift in
    universal-ctags 5.9)."""
    from recall_ctags import CTAGS_KINDS

    if LANGUAGE not in CTAGS_KINDS:
        return None
    name = CTAGS_KINDS[LANGUAGE][0]
    cmd = ["ctags", "-R", f"--languages={name}", "--langmap=C:+.h", "-f", str(out), str(root)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def index_once(root: Path, db: str, jobs: int) -> tuple[Measured, dict[str, object]]:
    m = run_cpu_measured(
        isgraph_cmd("index", str(root), "--db", db, "--jobs", str(jobs), "--json", "--quiet")
    )
    return m, json.loads(m.out)


def bench_scale(corpus: Path, work: Path, k: int, jobs: int, db_kind: str) -> dict[str, object]:
    root = prepare_corpus(corpus, work / "corpus", k)
    for extra in sorted(root.glob("copy_*")):
        if int(extra.name.split("_")[1]) > k:
            shutil.rmtree(extra)
    files = len(_files(root, LANGUAGE))
    store = work / f"store_{k}"
    shutil.rmtree(store, ignore_errors=True)
    db = "mem" if db_kind == "mem" else f"{db_kind}:{store / 'index.db'}"
    row: dict[str, object] = {"copies": k, "files": files}
    row["ctags_s"] = ctags_time(root, work / "tags")
    row["floor_s"] = parse_floor(root, jobs)
    cold, summary = index_once(root, db, jobs)
    row.update(
        cold_s=cold.seconds,
        peak_rss=cold.peak_rss,
        parent_cpu=cold.parent_cpu,
        tree_cpu=cold.tree_cpu,
        entities=summary["entities"],
        edges=summary["edges"],
    )
    res = summary["resolution"]
    assert isinstance(res, dict)
    row["edges_by_resolution"] = {k: res[k] for k in ("exact", "inferred", "unresolved")}
    row["pipeline_s"] = summary["pipeline_seconds"]
    row["resolve_s"] = summary["resolve_seconds"]
    row["pipeline_cpu"] = summary.get("pipeline_cpu_seconds", 0.0)
    row["resolve_cpu"] = summary.get("resolve_cpu_seconds", 0.0)
    row["errors"] = len(summary["errors"])
    row["skipped"] = len(summary["skipped"])
    if db_kind != "mem":
        warm, again = index_once(root, db, jobs)
        row["warm_s"] = warm.seconds
        row["warm_parsed"] = again["parsed"]
        # On disk after the runs (the WAL, if any is left, included).
        row["store_bytes"] = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
    row["source_bytes"] = sum(Path(f).stat().st_size for f in _files(root, LANGUAGE))
    row["load"] = os.getloadavg()[0]
    return row


def writers_rows(corpus: Path, url: str, writers: str, jobs: int, embedded_s: float) -> None:
    """Cold index of ``corpus`` into PostgreSQL by k concurrent ``--shard`` writers, each with
    its share of the parser processes; a throwaway schema, dropped at the end."""
    import psycopg

    from pg_bench import index_runs

    if not url.startswith(("postgresql://", "postgres://")):
        raise SystemExit("--db takes a postgresql:// URL (the embedded store is always measured)")
    with tempfile.TemporaryDirectory(prefix="isgraph-bench-") as tmp:
        root = prepare_corpus(corpus, Path(tmp), 1) / "copy_1"
        files = count_files(root)
        schema = f"isgraph_bench_{uuid.uuid4().hex[:8]}"
        base = url.split("?", 1)[0]
        print(f"\n== PostgreSQL ({base}), {files} files; embedded cold {embedded_s:.2f} s")
        try:
            for k in (int(w) for w in writers.split(",") if w.strip()):
                cmds = [
                    isgraph_cmd(
                        "index",
                        str(root),
                        "--db",
                        f"{base}?schema={schema}&repo=w{k}",
                        "-j",
                        str(max(1, jobs // k)),
                        "--shard",
                        f"{i}/{k}",
                        "--shard-run",
                        f"{schema}-{k}",
                        "--json",
                        "--quiet",
                    )
                    for i in range(1, k + 1)
                ]
                seconds = index_runs(cmds)
                print(
                    f"  {k} writer{'s' if k > 1 else ' '}   {seconds:7.2f} s   "
                    f"{files / seconds:6.0f} files/s   x{embedded_s / seconds:.2f} of embedded"
                )
        finally:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]


def print_row(r: dict[str, object], label: str = "") -> None:
    """One corpus's figures, as the bench has always printed them."""
    res = r["edges_by_resolution"]
    assert isinstance(res, dict)
    edges = int(r["edges"]) or 1
    cold = float(r["cold_s"])
    print(
        f"\n== {label or str(r['copies']) + 'x'}: {r['files']} files, {r['entities']} entities, "
        f"{r['edges']} edges ({r['errors']} errors, {r['skipped']} skipped)"
    )
    ctags = r["ctags_s"]
    vs_ctags = f"x{cold / float(ctags):.1f} ctags" if ctags else "(no ctags parser)"
    print(f"  ctags -R           {float(ctags):7.2f} s" if ctags else "  ctags -R         n/a")
    print(f"  parse floor        {float(r['floor_s']):7.2f} s")
    print(
        f"  isgraph cold       {cold:7.2f} s   {int(r['files']) / cold:6.0f} files/s   "
        f"{vs_ctags}   x{cold / float(r['floor_s']):.1f} floor"
    )
    print(f"    of which pipeline {r['pipeline_s']} s, resolution {r['resolve_s']} s (in-process)")
    print(
        f"    CPU: isgraph process {float(r['parent_cpu']):.1f} s (pipeline "
        f"{float(r['pipeline_cpu']):.1f} s, resolution {float(r['resolve_cpu']):.1f} s), "
        f"whole tree {float(r['tree_cpu']):.1f} s (parser processes: the difference)"
    )
    if "warm_s" in r:
        print(f"  isgraph unchanged  {float(r['warm_s']):7.2f} s   (parsed {r['warm_parsed']})")
    print(f"  peak RSS (tree)    {mb(int(r['peak_rss']))}")
    if "store_bytes" in r:
        store_b, source_b = int(r["store_bytes"]), int(r["source_bytes"])
        print(
            f"  store on disk      {mb(store_b)}   x{store_b / source_b:.1f} of the "
            f"{mb(source_b)} of source"
        )
    print(f"  load average       {float(r['load']):.1f} (1 min, at the end; 2 cores)")
    print(
        "  calls+imports+inherits resolved: "
        + ", ".join(f"{k} {100 * v / edges:.1f}%" for k, v in res.items())
    )


def suite(base: Path, kinds: list[str], jobs: int, as_json: bool) -> None:
    """Issue 19's one-run table: stdlib, Django and the mixed corpus on each engine, then
    the scaling check (seconds per file of mixed over the stdlib's; bar: <= 1.25) and peak
    tree RSS (bars: <= 400 MB at 1x, <= 450 MB at ~4x)."""
    from _pycorpora import python_corpora

    corpora = python_corpora(base)
    rows: list[tuple[str, str, dict[str, object]]] = []
    with tempfile.TemporaryDirectory(prefix="isgraph-bench-") as tmp:
        for kind in kinds:
            for name, corpus in corpora.items():
                work = Path(tmp) / f"{kind}-{name}"
                rows.append((kind, name, bench_scale(corpus, work, 1, jobs, kind)))
                shutil.rmtree(work, ignore_errors=True)
                if not as_json:
                    print_row(rows[-1][2], f"{name} ({kind})")
    if as_json:
        print(json.dumps([{"engine": k, "corpus": n, **r} for k, n, r in rows], indent=2))
        return
    print("\n== scaling (seconds per file, cold) and peak tree RSS")
    for kind in kinds:
        by = {n: r for k, n, r in rows if k == kind}
        per_file = {n: float(r["cold_s"]) / int(r["files"]) for n, r in by.items()}
        ratio = per_file["mixed"] / per_file["stdlib"]
        print(
            f"  {kind:8} stdlib {1000 * per_file['stdlib']:.1f} ms/file, mixed "
            f"{1000 * per_file['mixed']:.1f} ms/file: x{ratio:.2f} (bar <= 1.25);  peak RSS "
            f"stdlib {mb(int(by['stdlib']['peak_rss']))} (bar 400 MB), mixed "
            f"{mb(int(by['mixed']['peak_rss']))} (bar 450 MB)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    ap.add_argument("--language", default="python", help="the files counted and timed")
    ap.add_argument("--jobs", type=int, default=max(1, multiprocessing.cpu_count()))
    ap.add_argument(
        "--db-kind",
        default="sqlite",
        help="embedded engine(s), comma-separated: sqlite, rocksdb, mem (default sqlite)",
    )
    ap.add_argument(
        "--suite",
        type=Path,
        metavar="DIR",
        help="instead of CORPUS: the stdlib, Django 5.2.9 and a mixed ~4x corpus of real "
        "projects (fetched from PyPI into DIR once, bench/_pycorpora.py), each engine of "
        "--db-kind, and the per-file cost and peak memory of mixed against the stdlib",
    )
    ap.add_argument("--scale", default="1", help="comma-separated copy counts, e.g. 1,2,4")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--db",
        help="also index the 1x corpus into this PostgreSQL server (postgresql://…) with "
        "each count of --writers shard processes, next to the embedded store",
    )
    ap.add_argument("--writers", default="1,2,4", help="writer processes for --db, e.g. 1,2,4")
    args = ap.parse_args()
    global LANGUAGE
    LANGUAGE = args.language
    kinds = [k.strip() for k in args.db_kind.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("sqlite", "rocksdb", "mem")]
    if bad or not kinds:
        ap.error(f"--db-kind: {', '.join(bad) or 'none given'}; valid: sqlite, rocksdb, mem")
    if args.suite:
        suite(args.suite, kinds, args.jobs, args.json)
        return
    if len(kinds) > 1:
        ap.error("several --db-kind engines need --suite")
    args.db_kind = kinds[0]
    scales = [int(s) for s in args.scale.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="isgraph-bench-") as tmp:
        for k in scales:
            rows.append(bench_scale(args.corpus, Path(tmp), k, args.jobs, args.db_kind))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"corpus {args.corpus}  language {LANGUAGE}  jobs {args.jobs}  store {args.db_kind}")
    for r in rows:
        print_row(r)
    if args.db:
        writers_rows(args.corpus, args.db, args.writers, args.jobs, float(rows[0]["cold_s"]))
    if len(rows) > 1:
        base = int(rows[0]["peak_rss"])
        for r in rows[1:]:
            growth = 100 * (int(r["peak_rss"]) - base) / base
            print(f"\npeak RSS {rows[0]['copies']}x -> {r['copies']}x: {growth:+.1f}%")


if __name__ == "__main__":
    main()
