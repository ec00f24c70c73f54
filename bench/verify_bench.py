"""`isgraph verify` on a clean store next to the cold index that made it.

    python bench/verify_bench.py [CORPUS] [--jobs 2] [--rounds 1]

Copies CORPUS (default: CPython's standard library), indexes it cold into a fresh SQLite store,
then runs `isgraph verify` on it (no drift: it must exit 0), alternating the two for
``--rounds``. Prints wall seconds, CPU seconds of each process tree (parent and pool workers,
sampled: `_common.TreeMemory`) and verify / cold ratios, with the load average beside them:
on a loaded machine compare the ratios and CPU seconds, not the wall times.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import TreeMemory, default_corpus, isgraph_cmd, prepare_corpus


def measure(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process tree, stdout) of ``cmd``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeMemory(proc.pid, interval=0.05) as tree:
        out, err = proc.communicate()
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[2:5]} exited {proc.returncode}:\n{err[-2000:]}")
    return time.perf_counter() - t0, tree.cpu_seconds, out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    ap.add_argument("--jobs", type=int, default=max(1, multiprocessing.cpu_count()))
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="isgraph-verify-bench-") as tmp:
        root = prepare_corpus(args.corpus, Path(tmp) / "corpus") / "copy_1"
        for i in range(args.rounds):
            db = f"sqlite:{Path(tmp) / f'store{i}' / 'index.db'}"
            load = os.getloadavg()[0]
            jobs = str(args.jobs)
            cold = measure(isgraph_cmd("index", str(root), "--db", db, "--jobs", jobs, "--quiet"))
            ver = measure(isgraph_cmd("verify", str(root), "--db", db, "--json"), ok=(0, 1))
            rec = json.loads(ver[2])
            if rec["drift"]:
                rows = "\n".join(json.dumps(r) for r in rec["rows"][:10])
                raise SystemExit(
                    f"verify found drift on a clean store: {rec['by_category']}\n{rows}"
                )
            rows.append(
                {
                    "cold_s": round(cold[0], 1),
                    "cold_cpu_s": round(cold[1], 1),
                    "verify_s": round(ver[0], 1),
                    "verify_cpu_s": round(ver[1], 1),
                    "wall_ratio": round(ver[0] / cold[0], 2),
                    "cpu_ratio": round(ver[1] / cold[1], 2),
                    "thorough": rec["thorough"],
                    "files": rec["stored"]["files"],
                    "edges": rec["stored"]["edges"],
                    "load_before": round(load, 1),
                    "load_after": round(os.getloadavg()[0], 1),
                }
            )
            print(json.dumps(rows[-1]))
    print(
        f"verify / cold index: wall x{min(r['wall_ratio'] for r in rows)}-"
        f"x{max(r['wall_ratio'] for r in rows)}, CPU x{min(r['cpu_ratio'] for r in rows)}-"
        f"x{max(r['cpu_ratio'] for r in rows)} over {len(rows)} rounds"
    )


if __name__ == "__main__":
    main()
