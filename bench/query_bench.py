"""Query latency on a store: point lookup, name search, callers, impact.

    python bench/query_bench.py --db CONN [--n 2000]
    python bench/query_bench.py --synthetic 50000 [--db CONN | --db-kind rocksdb]
    python bench/query_bench.py --index CORPUS [--db-kind rocksdb]   # index first, then measure

``--synthetic N`` fills a store (a fresh temporary one unless ``--db`` names one) with N
synthetic entities and 3 edges per entity, timing the bulk write, so the script runs without
any indexed corpus. Keys and names are drawn at random (fixed seed) from the store. Latency is
measured in-process through the Store API, as the language server and the CLI call it, and
printed as p50/p99/max ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import isgraph_cmd, prepare_corpus
from isgraph.model import Alias, Edge, Entity, FileResult, make_key
from isgraph.store.base import Store
from isgraph.store.connect import open_store

ENTITIES_PER_FILE = 25
EDGES_PER_ENTITY = 3
FILES_PER_WRITE = 200  # about what the writer merges into one transaction (20k rows)

_VERBS = [
    "get",
    "set",
    "load",
    "save",
    "parse",
    "build",
    "make",
    "read",
    "write",
    "find",
    "check",
    "apply",
    "run",
    "open",
    "close",
]
_NOUNS = [
    "entity",
    "edge",
    "file",
    "node",
    "graph",
    "index",
    "store",
    "query",
    "cache",
    "token",
    "scope",
    "table",
    "record",
    "field",
    "item",
    "value",
    "config",
    "buffer",
    "stream",
    "handler",
    "session",
    "request",
    "response",
]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49] * 1000, qs[98] * 1000, max(samples) * 1000


def measure(fn: Callable[[str], object], args: Sequence[str]) -> tuple[float, float, float]:
    for a in args[:50]:  # warm caches the way a running server would be warm
        fn(a)
    samples = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def synthetic_files(n: int, seed: int = 7) -> list[FileResult]:
    """``n`` entities in files of 25 (2 classes of 5 methods, 13 functions), 3 edges each.

    Call targets are skewed (1 % of entities receive 30 % of calls, as hubs do in real code);
    70 % of calls are resolved exactly, 10 % inferred, 20 % unresolved; every class inherits
    from a random class.
    """
    rng = random.Random(seed)
    n_files = max(1, -(-n // ENTITIES_PER_FILE))
    files: list[FileResult] = []
    every: list[Entity] = []
    classes: list[Entity] = []
    for f in range(n_files):
        path = f"pkg{f % 40}/mod{f}.py"
        module = path[:-3].replace("/", ".")
        ents: list[Entity] = []
        cls: Entity | None = None
        for i in range(min(ENTITIES_PER_FILE, n - len(every))):
            verb, noun = rng.choice(_VERBS), rng.choice(_NOUNS)
            if i in (0, 6):
                name, kind, parent = f"{noun.title()}{verb.title()}er{i}", "class", None
                qual = name
            elif i < 12 and cls is not None:
                name, kind, parent = f"{verb}_{noun}", "method", cls.key
                qual = f"{cls.qualname}.{name}"
            else:
                name, kind, parent = f"{verb}_{noun}_{f}_{i}", "function", None
                qual = name
            ordinal = sum(1 for e in ents if e.qualname == qual)
            ent = Entity(
                key=make_key("python", kind, path, qual, ordinal),
                language="python",
                kind=kind,
                name=name,
                qualname=qual,
                path=path,
                start_line=i * 10 + 1,
                start_col=4 if parent else 0,
                end_line=i * 10 + 8,
                end_col=0,
                signature="(self, x)" if parent else "(x, y=1)",
                doc=f"{verb.title()} the {noun}.",
                parent=parent,
                fqn=f"{module}.{qual}",
            )
            if kind == "class":
                cls = ent
                classes.append(ent)
            ents.append(ent)
        every.extend(ents)
        files.append(
            FileResult(
                path,
                "python",
                "indexed",
                f"h{f}",
                len(ents) * 300,
                f,
                None,
                ents,
                [],
                [Alias(path, f"{module}.alias{f}", "os.path")],
            )
        )
    hubs = every[: max(1, len(every) // 100)]
    for fr in files:
        for ent in fr.entities:
            for j in range(EDGES_PER_ENTITY):
                dst: Entity | None
                if ent.kind == "class" and j == 0 and classes:
                    dst, kind, res = rng.choice(classes), "inherits", "exact"
                else:
                    dst = rng.choice(hubs) if rng.random() < 0.3 else rng.choice(every)
                    roll = rng.random()
                    kind = "calls"
                    res = "exact" if roll < 0.7 else "inferred" if roll < 0.8 else "unresolved"
                    if res == "unresolved":
                        dst = None
                target = f"t{j}.{dst.name if dst else 'unknown'}"
                fr.edges.append(
                    Edge(
                        ent.key,
                        kind,
                        target,
                        fr.path,
                        ent.start_line + j + 1,
                        dst.key if dst else None,
                        res,
                        (f"={target}",) if res != "exact" else (),
                    )
                )
    return files


def fill(store: Store, n: int) -> None:
    t0 = time.perf_counter()
    files = synthetic_files(n)
    made = time.perf_counter() - t0
    n_ent = sum(len(f.entities) for f in files)
    n_edge = sum(len(f.edges) for f in files)
    print(f"synthetic: {len(files)} files, {n_ent} entities, {n_edge} edges ({made:.2f} s to make)")
    t0 = time.perf_counter()
    for i in range(0, len(files), FILES_PER_WRITE):
        store.write_files(files[i : i + FILES_PER_WRITE])
    batched = time.perf_counter() - t0
    print(
        f"  bulk write, {FILES_PER_WRITE} files per transaction: {batched:.2f} s "
        f"({(n_ent + n_edge) / batched:,.0f} rows/s)"
    )
    t0 = time.perf_counter()
    store.write_files(files)  # every file again, replacing its rows: one transaction
    whole = time.perf_counter() - t0
    print(f"  rewrite of everything in ONE transaction (delete + put): {whole:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", help="store to measure (with --synthetic: the store to fill)")
    ap.add_argument("--synthetic", type=int, metavar="N", help="fill with N synthetic entities")
    ap.add_argument("--index", type=Path, help="index this corpus into a fresh store first")
    ap.add_argument("--db-kind", choices=["sqlite", "rocksdb", "mem"], default="sqlite")
    ap.add_argument("--n", type=int, default=2000, help="queries per measurement")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="isgraph-qbench-")
    db: str | None = args.db
    fresh = "mem" if args.db_kind == "mem" else f"{args.db_kind}:{Path(tmp.name) / 'index.db'}"
    if args.index is not None:
        root = prepare_corpus(args.index, Path(tmp.name)) / "copy_1"
        db = fresh
        subprocess.run(
            isgraph_cmd("index", str(root), "--db", db, "--quiet"),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    elif args.synthetic is not None and db is None:
        db = fresh
    if db is None:
        ap.error("give --db CONN, --synthetic N or --index CORPUS")

    store = open_store(db)
    if args.synthetic:
        fill(store, args.synthetic)
    ents = store.find_entities()
    if not ents:
        raise SystemExit(f"{db} holds no entities: index something first, or use --synthetic N")
    rng = random.Random(42)
    picks = [rng.choice(ents) for _ in range(args.n)]
    keys = [e.key for e in picks]
    # Search terms as a user types them: a prefix, the end of a name, every third letter.
    names = [
        rng.choice((e.name[: max(3, len(e.name) // 2)], e.name.lower()[-5:], e.name[::3]))
        for e in picks[: max(200, args.n // 10)]
    ]
    callables = [e.key for e in picks if e.kind in ("function", "method")]
    files, n_ent, n_edge = store.counts()
    print(f"store {db}: {files} files, {n_ent} entities, {n_edge} edges; n = {args.n}")
    t0 = time.perf_counter()
    store.search("warm")  # the first search loads the name cache: reported apart
    first_search = (time.perf_counter() - t0) * 1000
    print(f"{'query':<30}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for label, fn, sample in (
        ("point lookup (get_entity)", store.get_entity, keys),
        ("callers depth 1", lambda k: store.callers(k, 1), callables),
        ("callers depth 3", lambda k: store.callers(k, 3), callables[:300]),
        ("callees depth 1", lambda k: store.callees(k, 1), callables),
        ("impact depth 3", lambda k: store.impact(k, 3), callables[:300]),
        ("name search (fuzzy, top 20)", lambda q: store.search(q, 20), names),
    ):
        p50, p99, mx = measure(fn, sample)
        print(f"{label:<30}{p50:>10.3f}{p99:>10.3f}{mx:>10.2f}")
    once: list[tuple[str, Callable[[], object]]] = [
        ("first search (loads names)", lambda: None),
        ("cycles (calls)", lambda: store.cycles("calls", 100)),
        ("edge_paths_to_recheck (20)", lambda: store.edge_paths_to_recheck(names[:20])),
        ("stats", store.stats),
    ]
    for label, fn in once:
        t0 = time.perf_counter()
        fn()
        ms = first_search if label.startswith("first") else (time.perf_counter() - t0) * 1000
        print(f"{label + ', once':<30}{ms:>10.1f}")
    store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
