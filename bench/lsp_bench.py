"""Language-server latency, through a real LSP client against `isgraph serve`.

    python bench/lsp_bench.py [CORPUS] [--copies K] [--edits 50] [--queries 100]

Indexes K copies of CORPUS (default: CPython's stdlib, as the other benches prepare it) as one
workspace folder, a fresh one (no store yet), and measures the start:
- time from `initialized` to the first `workspace/symbol` answer that finds a name, polled;
- `$/progress`: the reports' count, the longest gap between two of them (begin to end), and
  the messages around it;
- time until the server says its index is fresh (`isgraph/query`'s `fresh`);
then measures:
- edit-to-visible: write a new file with a uniquely named function on disk, poll
  `workspace/symbol` until the name is returned (p50 / p95 over --edits edits);
- `workspace/symbol` for random name prefixes, and graph-only `textDocument/hover` at random
  definitions (p50 / p95 over --queries requests).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).parent))
from _common import default_corpus, prepare_corpus
from _lsp import fresh, launch


def pct(samples: list[float]) -> str:
    s = sorted(samples)
    return (
        f"p50 {statistics.median(s) * 1e3:7.1f} ms   "
        f"p95 {s[min(len(s) - 1, int(len(s) * 0.95))] * 1e3:7.1f} ms"
    )


async def _first_symbol(client: LanguageClient, name: str, t0: float) -> float:
    """Seconds from ``t0`` until `workspace/symbol` finds ``name`` (polled every 50 ms)."""
    while True:
        got = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=name))
        if got and any(s.name == name for s in got):
            return time.perf_counter() - t0
        await asyncio.sleep(0.05)


async def startup(root: Path, probe: str) -> LanguageClient:
    """Start the server on a fresh folder; print time to first symbol, progress gaps, time to
    fresh. Returns the client (fresh)."""
    reports: list[tuple[float, str]] = []
    client = LanguageClient("isgraph-bench", "0")

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def _create(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.PROGRESS)
    def _progress(params: types.ProgressParams) -> None:
        value = params.value
        kind = getattr(value, "kind", None) or (
            value.get("kind") if isinstance(value, dict) else ""
        )
        msg = getattr(value, "message", None) or getattr(value, "title", None)
        if isinstance(value, dict):
            msg = value.get("message") or value.get("title")
        reports.append((time.perf_counter(), f"{kind}: {msg}"))

    t0 = await launch(client, root)
    for name in probe.split(","):
        symbol_s = await _first_symbol(client, name, t0)
        print(f"first workspace/symbol finding {name!r}: {symbol_s:.2f} s after initialized")
    await fresh(client)
    fresh_s = time.perf_counter() - t0
    times = [t0] + [t for t, _ in reports]
    gaps = [(b - a, i) for i, (a, b) in enumerate(itertools.pairwise(times))]
    worst, at = max(gaps) if gaps else (0.0, 0)
    ended = next((t - t0 for t, m in reports if m.startswith("end")), None)
    print(f"$/progress: {len(reports)} reports, longest gap {worst:.2f} s", end="")
    if gaps:
        before = reports[at - 1][1] if at > 0 else "initialized"
        print(f" (after {before!r}, before {reports[at][1]!r})")
    else:
        print()
    if ended is not None:
        print(f"$/progress end: {ended:.2f} s after initialized")
    print(f"startup index until fresh: {fresh_s:.1f} s")
    return client


async def run(root: Path, edits: int, queries: int, probe: str) -> None:
    client = await startup(root, probe)
    answer = await client.protocol.send_request_async(
        "isgraph/query", {"query": "search", "target": "get", "limit": 200}
    )
    names = [r.name for r in answer.results] or ["get"]

    edit_s = []
    for i in range(edits):
        name = f"bench_fn_{uuid.uuid4().hex[:10]}"
        t = time.perf_counter()
        (root / f"bench_edit_{i}.py").write_text(f"def {name}():\n    return {i}\n")
        while True:
            got = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=name))
            if got and any(s.name == name for s in got):
                break
            await asyncio.sleep(0.005)
        edit_s.append(time.perf_counter() - t)
    print(f"edit-to-visible ({edits} edits)          {pct(edit_s)}")

    rng = random.Random(1)
    sym_s = []
    for _ in range(queries):
        q = rng.choice(names)[: rng.randint(2, 6)]
        t = time.perf_counter()
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=q))
        sym_s.append(time.perf_counter() - t)
    print(f"workspace/symbol ({queries} queries)     {pct(sym_s)}")

    files = sorted(root.rglob("*.py"))
    hover_s = []
    for _ in range(queries):
        f = rng.choice(files)
        lines = f.read_text("utf-8", "replace").count("\n") or 1
        t = time.perf_counter()
        await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=f.as_uri()),
                position=types.Position(line=rng.randrange(lines), character=0),
            )
        )
        hover_s.append(time.perf_counter() - t)
    print(f"hover, graph only ({queries} requests)   {pct(hover_s)}")
    await asyncio.wait_for(client.shutdown_async(None), 10)
    client.exit(None)
    await asyncio.wait_for(client.stop(), 10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--edits", type=int, default=50)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument(
        "--probe",
        default="__init__,JSONDecoder",
        help="names whose first `workspace/symbol` answer is timed, in turn (comma-separated): "
        "by default one in nearly every file (the first answer at all) and one in a file "
        "half-way through the stdlib",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isgraph-lspbench-") as tmp:
        root = prepare_corpus(args.corpus, Path(tmp), args.copies)
        print(f"workspace: {args.copies} copies of {args.corpus}")
        asyncio.run(run(root, args.edits, args.queries, args.probe))


if __name__ == "__main__":
    main()
