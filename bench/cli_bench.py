"""Whole-process time of CLI queries, beside ``python -c pass`` (what a process costs at all)
and ripgrep / ctags when installed (what "instant" means to terminal users).

    python bench/cli_bench.py [--root INDEXED_DIR] [--runs 15]

Without ``--root`` the stdlib is copied and indexed first (a few minutes). Each command runs
``--runs`` times, interleaved with the others so that a change of load hits all alike; the
table prints min and median wall time, the median's ratio to ``python -c pass`` and the median
CPU time (user + system) of the process, which a shared machine's load inflates far less than
wall time. A query's answer takes a few milliseconds: the rest is start-up, which is what this
measures.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import default_corpus, isgraph_cmd, prepare_corpus

QUERIES = {
    "isgraph --version": ("--version",),
    "isgraph search": ("search", "jsondec", "--json"),
    "isgraph callers": ("callers", "JSONDecoder.decode", "--json"),
    "isgraph show": ("show", "JSONDecoder", "--json"),
    "isgraph callers (table)": ("callers", "JSONDecoder.decode"),
}


def _commands(root: Path) -> dict[str, list[str]]:
    cmds = {"python -c pass": [sys.executable, "-c", "pass"]}
    cmds.update({label: isgraph_cmd(*args) for label, args in QUERIES.items()})
    if shutil.which("rg"):
        cmds["rg -w JSONDecoder"] = ["rg", "-w", "-c", "JSONDecoder", str(root)]
    if shutil.which("ctags") and (root / "tags").exists():
        cmds["readtags JSONDecoder"] = ["readtags", "-t", str(root / "tags"), "JSONDecoder"]
    return cmds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, help="an indexed directory (default: index the stdlib)")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    root = args.root
    if root is None:
        tmp = Path(tempfile.mkdtemp(prefix="isgraph-cli-bench-"))
        root = prepare_corpus(default_corpus(), tmp) / "copy_1"
        subprocess.run(isgraph_cmd("index", str(root), "--quiet"), check=True)
    root = root.resolve()
    cmds = _commands(root)
    # Measured as installed: with .pyc files. PYTHONDONTWRITEBYTECODE set to anything (even
    # "0") stops Python writing them, and every module without one is compiled at each start.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in cmds.values():  # warm the page cache and .pyc files
        subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=False)
    times: dict[str, list[float]] = {label: [] for label in cmds}
    cpu: dict[str, list[float]] = {label: [] for label in cmds}
    for _ in range(args.runs):
        for label, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=False)
            times[label].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[label].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if proc.returncode != 0 and not label.startswith(("rg", "readtags")):
                sys.exit(f"{label} failed ({proc.returncode}): {proc.stderr.decode()[-400:]}")
    base = statistics.median(times["python -c pass"])
    print(f"corpus {root}  runs {args.runs}  load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':<26} {'min ms':>8} {'median ms':>10} {'x pass':>8} {'cpu ms':>8}")
    for label, ts in times.items():
        med, used = statistics.median(ts), statistics.median(cpu[label]) * 1000
        print(f"{label:<26} {min(ts) * 1000:8.0f} {med * 1000:10.0f} {med / base:8.1f} {used:8.0f}")


if __name__ == "__main__":
    main()
