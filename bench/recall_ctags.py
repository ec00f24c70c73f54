"""Definitions recall against universal-ctags, and the share of call edges resolved.

    python bench/recall_ctags.py [CORPUS] [--db CONN] [--jobs N]

Indexes CORPUS (a copy of it, without site-packages/__pycache__) into a fresh store unless
--db names an existing one for the same copy, runs `ctags -R --languages=Python` on the same
files, and matches ctags' class / function / member definitions to isgraph's class / function /
method / property entities on (path, line, name). Prints recall and precision per kind, up to
20 misses, the lost-entity check (entities in the store == entities listed), and the share of
`calls` edges that are exact, inferred and unresolved. Figures, not assertions: exit code 0
unless a tool fails to run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import default_corpus, isgraph_cmd, prepare_corpus

CTAGS_TO_ISGRAPH = {"class": {"class"}, "function": {"function"}, "member": {"method", "property"}}


def ctags_defs(root: Path) -> set[tuple[str, int, str, str]]:
    proc = subprocess.run(
        [
            "ctags",
            "-R",
            "--languages=Python",
            "--output-format=json",
            "--fields=+nK",
            "-f",
            "-",
            ".",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    out = set()
    for line in proc.stdout.splitlines():
        tag = json.loads(line)
        if tag.get("_type") != "tag" or tag.get("kind") not in CTAGS_TO_ISGRAPH:
            continue
        out.add((tag["path"].removeprefix("./"), int(tag["line"]), tag["name"], tag["kind"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    ap.add_argument("--db", help="an existing store of the same corpus copy")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isgraph-recall-") as tmp:
        root = prepare_corpus(args.corpus, Path(tmp)) / "copy_1"
        db = args.db or f"sqlite:{Path(tmp) / 'store' / 'index.db'}"
        if not args.db:
            subprocess.run(
                isgraph_cmd("index", str(root), "--db", db, "--jobs", str(args.jobs), "--quiet"),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        from isgraph.store.connect import open_store

        store = open_store(db)
        ents = store.find_entities()
        ours = {(e.path, e.start_line, e.name, e.kind) for e in ents}
        theirs = ctags_defs(root)
        stats = store.stats()
        calls = store.edges(kind="calls")
        store.close()

    print(f"corpus {args.corpus}: ctags definitions {len(theirs)}, isgraph entities {len(ents)}")
    total_hit = total = 0
    misses: list[tuple[str, int, str, str]] = []
    for ckind, ikinds in CTAGS_TO_ISGRAPH.items():
        want = {(p, ln, n) for p, ln, n, k in theirs if k == ckind}
        have = {(p, ln, n) for p, ln, n, k in ours if k in ikinds}
        hit = len(want & have)
        total_hit += hit
        total += len(want)
        misses += [(p, ln, n, ckind) for p, ln, n in sorted(want - have)]
        extra = len(have - want)
        recall = 100 * hit / len(want) if want else 100.0
        print(
            f"  {ckind:<9} ctags {len(want):6d}  matched {hit:6d}  recall {recall:6.2f}%  "
            f"isgraph-only {extra}"
        )
    print(f"  overall recall {100 * total_hit / max(1, total):.2f}%")
    for m in misses[:20]:
        print(f"    missed {m[3]} {m[2]} at {m[0]}:{m[1]}")
    lost = stats.entities - len(ents)
    print(f"lost entities: {lost} (store counts {stats.entities}, listed {len(ents)})")
    by = Counter(e.resolution for e in calls)
    n = max(1, len(calls))
    print(
        f"calls edges {len(calls)}: "
        + ", ".join(
            f"{k} {by.get(k, 0)} ({100 * by.get(k, 0) / n:.1f}%)"
            for k in ("exact", "inferred", "unresolved")
        )
        + f"; resolved {100 * (by['exact'] + by['inferred']) / n:.1f}%"
    )
    builtins = set(dir(__builtins__)) if not isinstance(__builtins__, dict) else set(__builtins__)
    to_builtins = sum(
        1 for e in calls if e.resolution == "unresolved" and e.target_name in builtins
    )
    print(
        f"  of the unresolved, {to_builtins} ({100 * to_builtins / n:.1f}% of all calls) are calls "
        "to names of Python builtins (rebound locally, or typeshed lacks them)"
    )


if __name__ == "__main__":
    main()
