"""Render docs/reliability.md from the counts the reliability tests record.

    python bench/reliability_table.py --run            # run the tests, then render
    python bench/reliability_table.py --json FILE      # render counts recorded earlier

The tests write their counts (``tests/reliability.py``: ``ISGRAPH_RELIABILITY_JSON``); this
script only formats them, so the table says what the suite tried and saw, nothing typed by hand.
A section whose test did not run (e.g. PostgreSQL unreachable) is listed as "not run".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/pipeline/test_bad_input.py",
    "tests/unit/test_extract_properties.py",
    "tests/pipeline/test_crash_points.py",
    "tests/pipeline/test_faults.py",
    "tests/lsp/test_abuse.py",
    "tests/lsp/test_trust.py",
    "tests/lsp/test_server_crash.py",
    "tests/pipeline/test_signals.py",
    "tests/pipeline/test_incremental.py",
]


def run_tests(out: Path) -> int:
    env = {**os.environ, "ISGRAPH_RELIABILITY_JSON": str(out)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "server"), str(ROOT)]))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def _get(data: dict[str, Any], section: str, key: str) -> Any:
    return data.get(section, {}).get(key)


def rows(d: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what was tried, how much, what held) — one row per recorded section."""
    out: list[tuple[str, str, str]] = []
    if "bad_input" in d:
        b = d["bad_input"]
        out.append(
            (
                "bad input files (binary, UTF-8/16, 2.5 MB minified JS, 10k-deep nesting, NUL, "
                "CR/CRLF/mixed, BOMs, long lines, symlink loop/escape, FIFO, dir named *.py…)",
                f"{b['kinds_tried']} kinds",
                f"{b['indexed_correctly']} indexed correctly, {b['reported_with_reason']} "
                f"reported with a reason, {b['crashes']} crashes; every good file indexed",
            )
        )
    if "changed_during_walk" in d.get("bad_input", {}):
        out.append(
            (
                "files deleted, replaced, turned binary between the walk and the read",
                f"{d['bad_input']['changed_during_walk']} files",
                "each reported or indexed as it is now; the next run removes the deleted one",
            )
        )
    if "extractor_properties" in d:
        e = d["extractor_properties"]
        out.append(
            (
                "property tests: random bytes, mutated real source, token soup",
                f"{e['examples']} examples over {e['languages']} languages",
                f"{e['failures']} raised; keys unique, ranges in the file",
            )
        )
    whats = {
        "sqlite": "sqlite, cold builds in bulk mode",
        "sqlite_usual": "sqlite, cold builds written as incremental runs write",
        "sqlite_table": "sqlite, symbol-table resolution",
        "postgres": "postgres",
    }
    for backend, what in whats.items():
        c = d.get(f"crash_{backend}")
        if c:
            out.append(
                (
                    f"kill -9 at seeded store writes ({what}; before/during/after, and "
                    "again during recovery)",
                    f"{c['kill_points']} kill points ({c['killed']} landed, "
                    f"{c['finished_first']} runs ended first)",
                    f"{c['survived']} survived: every file as before or as after, no orphans; "
                    "each recovery equal to a clean index",
                )
            )
    bulk = [m for m in ("before", "during", "after") if f"crash_sqlite_bulk_indices_{m}" in d]
    if bulk:
        out.append(
            (
                "kill -9 while a cold build builds the indices it deferred "
                f"({'/'.join(bulk)} `end_bulk`)",
                f"{len(bulk)} kills",
                f"{len(bulk)} survived: the store opened with every index; the next run "
                "equal to a clean index",
            )
        )
    if "crash_server" in d:
        c = d["crash_server"]
        out.append(
            (
                "kill -9 of the language server at seeded store writes of its first index",
                f"{c['kill_points']} kill points ({c['killed']} landed)",
                f"{c['survived']} survived: store consistent; the next server completes it "
                "to a clean index",
            )
        )
    f = d.get("faults", {})
    labels = {
        "full_disk_mid_run": "full disk mid-run (RLIMIT_FSIZE)",
        "read_only_store": "read-only store directory",
        "rocksdb_second_process": "RocksDB store held by a second process",
    }
    for key, label in labels.items():
        if key in f:
            out.append((label, "1 fault", str(f[key])))
    a = d.get("lsp_abuse", {})
    if "malformed_or_unknown_or_huge" in a:
        out.append(
            (
                "LSP: malformed frames, unknown methods, ill-typed and huge params",
                f"{a['malformed_or_unknown_or_huge']} messages",
                "each answered with an error or ignored; the server kept serving",
            )
        )
    if "outside_uri_requests" in a:
        out.append(
            (
                "LSP: URIs outside the workspace (absolute, `..`, `%2e%2e`, symlink, non-file)",
                f"{a['outside_uri_requests']} requests",
                f"{a['outside_reads']} reads (a FIFO trap would hang a read); empty answers",
            )
        )
    if "cancel_sent" in a:
        out.append(
            (
                "LSP: `$/cancelRequest` right after each request",
                f"{a['cancel_sent']} requests",
                f"{a['cancel_honoured']} cancelled (-32800), the rest answered; no other errors",
            )
        )
    if "lsp_load" in d:
        g = d["lsp_load"]
        out.append(
            (
                f"LSP under load: mixed requests, {g['in_flight']} in flight, while "
                f"{g['reindexed_files']} files re-index ({_rounds(g.get('reindex_rounds', 1))})",
                f"{g['requests']} requests",
                f"{g['errors']} errors; p50 {g['p50_ms']} ms, p99 {g['p99_ms']} ms, "
                f"max {g['max_ms']} ms; {g['answered_while_stale']} of them sent while "
                "the re-index ran",
            )
        )
    if "no_orphans" in d:
        n = d["no_orphans"]
        ends = sorted({k.split()[1] for k in n})
        fronts = sorted({k.split()[0] for k in n})
        out.append(
            (
                f"ending `isgraph {'`, `isgraph '.join(fronts)}` mid-index by "
                f"{', '.join(ends)} (stdin: serve only)",
                f"{len(n)} runs, {sum(n.values())} pool processes watched",
                "every one ended: none alive 3 s after the front (10 s after a SIGKILL); "
                "store consistent",
            )
        )
    if "serve_end_seconds" in d:
        e = d["serve_end_seconds"]
        out.append(
            (
                "`isgraph serve` ended mid-index (stdin closed during the first resolution too): "
                "seconds from the signal or stdin closing to the server's exit",
                f"{len(e)} endings",
                ", ".join(f"{k} {v} s" for k, v in sorted(e.items())),
            )
        )
    diff = {k.split(" ", 1)[1]: v for k, v in d.items() if k.startswith("differential ")}
    if diff:
        steps = sum(v["steps"] for v in diff.values())
        differing = sum(v["differing"] for v in diff.values())
        out.append(
            (
                "incremental = clean: seeded random edits (files, definitions, imports, "
                "`__all__`, bases, return annotations, Go packages, tsconfig paths, C headers, "
                f"syntax errors, branch switches) through {', '.join(sorted(diff))}",
                f"{steps} steps",
                f"{differing} steps where the store differed from a clean index",
            )
        )
    runs = d.get("incremental_bench", {}).get("runs", [])
    if runs:
        routes = sorted({r for run in runs for r in run["routes"]})
        by_commit: dict[str, list[int]] = {}
        for run in runs:  # in the order they ran: the last commit is the newest
            counts = by_commit.setdefault(run["commit"], [0, 0])
            counts[0] += run["steps"]
            counts[1] += run["steps_with_differences"]
        out.append(
            (
                f"incremental = clean, long mode (`bench/incremental_check.py`, {len(runs)} "
                f"runs of seeded edits, {', '.join(routes)}; each difference found was fixed)",
                f"{sum(run['steps'] for run in runs)} steps",
                "steps where the store differed from a clean index, by commit: "
                + "; ".join(f"{c}: {n[1]} of {n[0]}" for c, n in by_commit.items()),
            )
        )
    if "security" in d:
        s = d["security"]
        out.append(
            (
                "hostile `.isgraph.toml` pointing the store outside the workspace (CLI, server)",
                f"{s['hostile_config_store_paths_refused']} attempts",
                "nothing written outside unless the workspace is trusted",
            )
        )
    return out


EXPECTED = {
    "bad_input",
    "extractor_properties",
    "crash_sqlite",
    "crash_sqlite_usual",
    "crash_sqlite_table",
    "crash_sqlite_bulk_indices_before",
    "crash_sqlite_bulk_indices_during",
    "crash_sqlite_bulk_indices_after",
    "crash_postgres",
    "crash_server",
    "faults",
    "lsp_abuse",
    "lsp_load",
    "security",
    "no_orphans",
}


def render(d: dict[str, Any]) -> str:
    lines = [
        "# Reliability: what was tried and what held",
        "",
        "Generated by `bench/reliability_table.py --run` from the counts the tests record "
        "(`tests/reliability.py`); do not edit by hand. Latencies are measured on whatever "
        "machine ran it (a loaded 2-core box here) and are reported, never asserted.",
        "",
        f"Last generated: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| tried | how much | what held |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows(d)]
    missing = sorted(EXPECTED - d.keys())
    if missing:
        lines += ["", f"Not run in this generation: {', '.join(missing)}."]
    lines += [
        "",
        "The tests: " + ", ".join(f"`{t}`" for t in TESTS) + ".",
        "Trust model: [security.md](security.md).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="store_true", help="run the reliability tests first")
    ap.add_argument("--json", type=Path, help="counts recorded by an earlier test run")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args = ap.parse_args()
    code = 0
    if args.run:
        path = args.json or Path(tempfile.mkdtemp()) / "reliability.json"
        path.unlink(missing_ok=True)
        code = run_tests(path)
    elif args.json is None:
        ap.error("give --run or --json FILE")
    else:
        path = args.json
    data = json.loads(path.read_text()) if path.exists() else {}
    args.out.write_text(render(data))
    print(args.out.read_text())
    return code


def _rounds(n: int) -> str:
    return f"{n} round" if n == 1 else f"{n} rounds"


if __name__ == "__main__":
    sys.exit(main())
