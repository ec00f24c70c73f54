"""Hover through downstream servers, and enrichment throughput.

    python bench/hover_bench.py [--files 200] [--hovers 100] [--timeout-ms 1000]
                                [--pause-ms 300] [--second basedpyright|jedi|none]
                                [--enrich-files N] [--skip-enrich]

Corpus: the first --files `.py` files of CPython's standard library (sorted by path; tests,
idlelib, tkinter, lib2to3 and ensurepip left out), copied to a temp dir.

1. Hover latency through a real LSP client against `isgraph serve`, at --hovers definition
   names, 5 in each of random files (each file opened with `didOpen` first, as an editor
   does; --pause-ms between hovers, as a reader's pace), after a warm-up, with
   0 downstream servers (graph facts only), 1 (jedi-language-server), the second server
   alone, and both: the last line shows the cost is the slowest server's, not the sum.
2. `isgraph index --enrich` on the first --enrich-files files with jedi-language-server:
   entities/s and the share enriched / empty / timed out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).parent))
from _common import isgraph_cmd
from _lsp import fresh, start_server

SKIP = (
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "lib2to3",
    "ensurepip",
    "turtledemo",
    "site-packages",
)
BIN = Path(sys.executable).parent


def corpus(dest: Path, files: int) -> Path:
    src = Path(sysconfig.get_paths()["stdlib"])
    picked = [
        p
        for p in sorted(src.rglob("*.py"))
        if not any(part in SKIP for part in p.relative_to(src).parts)
    ][:files]
    for p in picked:
        target = dest / p.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    return dest


def tool(name: str) -> str | None:
    return shutil.which(name, path=str(BIN)) or shutil.which(name)


def pct(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1e3, s[min(len(s) - 1, int(len(s) * 0.95))] * 1e3


def positions(root: Path, n: int, per_file: int = 5, seed: int = 7) -> list[tuple[Path, int, int]]:
    """n (file, line, character) at function or class names: ``per_file`` random ones in each
    of n / per_file random files, file after file (as a reader hovers through a file)."""
    rng = random.Random(seed)
    files = sorted(root.rglob("*.py"))
    rng.shuffle(files)
    out: list[tuple[Path, int, int]] = []
    for path in files:
        spots = []
        for i, line in enumerate(path.read_text(errors="replace").splitlines()):
            s = line.lstrip()
            for kw in ("def ", "class "):
                if s.startswith(kw):
                    spots.append((path, i, len(line) - len(s) + len(kw) + 1))
        if len(spots) >= per_file:
            out += rng.sample(spots, per_file)
        if len(out) >= n:
            return out[:n]
    return out


async def hover_run(
    root: Path, servers: list[dict[str, Any]], spots: list[tuple[Path, int, int]], pause: float
) -> tuple[list[float], int]:
    client = await start_server(root, {"downstream": servers})
    await fresh(client)
    opened: set[Path] = set()

    async def hover(path: Path, line: int, char: int) -> str:
        if path not in opened:
            opened.add(path)
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=path.as_uri(), language_id="python", version=1, text=path.read_text()
                    )
                )
            )
        got = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=types.Position(line=line, character=char),
            )
        )
        return "" if got is None else str(got.contents.value)  # type: ignore[union-attr]

    # Warm up: start the servers and let them settle (every part present, or 90 s).
    deadline = time.perf_counter() + 90
    while time.perf_counter() < deadline:
        if (await hover(*spots[0])).count("\n\n---\n\n") >= len(servers):
            break
        await asyncio.sleep(0.5)
    samples: list[float] = []
    merged = 0
    for spot in spots:
        t0 = time.perf_counter()
        text = await hover(*spot)
        samples.append(time.perf_counter() - t0)
        merged += text.count("\n\n---\n\n") >= len(servers)  # every server's part is there
        await asyncio.sleep(pause)  # a reader's pace: a server that fell behind catches up
    await asyncio.wait_for(client.shutdown_async(None), 15)
    client.exit(None)
    proc = client._server
    if proc is not None:
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
    return samples, merged


async def paired_run(
    root: Path, servers: list[dict[str, Any]], spots: list[tuple[Path, int, int]], pause: float
) -> list[tuple[float, list[float | None]]]:
    """In-process, one manager with every server: per hover, the fan-out's total time and
    each server's own time (None: left out). Shows total ~ max(parts), not their sum."""
    from isgraph.config import parse_downstream
    from isgraph.proxy.manager import DownstreamManager

    manager = DownstreamManager(parse_downstream(servers, "bench"), [root])
    own: dict[str, float | None] = {}
    ask = manager._ask

    async def timed(server: Any, uri: str, method: str, params: Any) -> Any:
        t0 = time.perf_counter()
        got = await ask(server, uri, method, params)
        own[server.spec.name] = time.perf_counter() - t0 if got is not None else None
        return got

    manager._ask = timed  # type: ignore[method-assign]
    out: list[tuple[float, list[float | None]]] = []
    try:
        for server in manager.servers:
            await server.ensure(60)
        path0, line0, char0 = spots[0]
        deadline = time.perf_counter() + 90
        while time.perf_counter() < deadline:  # settle: every server answers
            if len(await manager.hover(path0.as_uri(), line0, char0)) == len(servers):
                break
            await asyncio.sleep(0.5)
        opened: set[Path] = set()
        for path, line, char in spots:
            if path not in opened:
                opened.add(path)
                manager.did_open(path.as_uri(), "python", 1, path.read_text())
            own.clear()
            t0 = time.perf_counter()
            await manager.hover(path.as_uri(), line, char)
            total = time.perf_counter() - t0
            out.append((total, [own.get(s["name"]) for s in servers]))
            await asyncio.sleep(pause)
    finally:
        await manager.shutdown()
    return out


def enrich_run(root: Path, jedi: str, timeout_ms: int) -> dict[str, Any]:
    (root / ".isgraph.toml").write_text(
        "[[downstream]]\n"
        'name = "jedi"\n'
        f"command = {json.dumps([jedi])}\n"
        'languages = ["python"]\n'
        f"timeout_ms = {timeout_ms}\n"
    )
    shutil.rmtree(root / ".isgraph", ignore_errors=True)
    plain = subprocess.run(
        isgraph_cmd("index", str(root), "--json", "--db", "mem"),
        capture_output=True,
        text=True,
        check=True,
    )
    proc = subprocess.run(
        isgraph_cmd("index", str(root), "--enrich", "--json"),
        capture_output=True,
        text=True,
        check=True,
    )
    return {"plain": json.loads(plain.stdout), "enriched": json.loads(proc.stdout)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--hovers", type=int, default=100)
    ap.add_argument("--timeout-ms", type=int, default=1000)
    ap.add_argument("--pause-ms", type=int, default=300, help="between hovers")
    ap.add_argument("--second", default="basedpyright", help="basedpyright | jedi | none")
    ap.add_argument("--enrich-files", type=int, default=0, help="default: --files")
    ap.add_argument("--skip-enrich", action="store_true")
    ap.add_argument("--paired-only", action="store_true", help="only the in-process pairing")
    args = ap.parse_args()

    jedi = tool("jedi-language-server")
    if jedi is None:
        sys.exit("jedi-language-server is not installed (pip install -e '.[dev]')")
    t = args.timeout_ms
    first = {"name": "jedi", "command": [jedi], "languages": ["python"], "timeout_ms": t}
    second: dict[str, Any] | None = None
    if args.second == "basedpyright" and tool("basedpyright-langserver"):
        second = {
            "name": "basedpyright",
            "command": [tool("basedpyright-langserver"), "--stdio"],
            "languages": ["python"],
            "timeout_ms": t,
        }
    elif args.second in ("jedi", "basedpyright"):  # a second jedi process: a real server too
        second = {**first, "name": "jedi-2"}

    with tempfile.TemporaryDirectory(prefix="isgraph-hover-") as tmp:
        root = corpus(Path(tmp) / "corpus", args.files)
        n_files = sum(1 for _ in root.rglob("*.py"))
        spots = positions(root, args.hovers)
        print(
            f"corpus: {n_files} stdlib files; {len(spots)} hovers at definition names "
            f"(5 per file, {args.pause_ms} ms apart); downstream timeout {t} ms"
        )
        configs: list[tuple[str, list[dict[str, Any]]]] = [("0 servers (graph only)", [])]
        configs.append(("1 server: jedi", [first]))
        if second is not None:
            configs.append((f"1 server: {second['name']}", [second]))
            configs.append((f"2 servers: jedi + {second['name']}", [first, second]))
        results: dict[str, float] = {}
        for label, servers in configs if not args.paired_only else []:
            samples, merged = asyncio.run(hover_run(root, servers, spots, args.pause_ms / 1000))
            p50, p95 = pct(samples)
            results[label] = p50
            print(
                f"  hover, {label:<34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                f"max {max(samples) * 1e3:7.1f} ms  all parts merged {merged}/{len(samples)}"
            )
        if second is not None and not args.paired_only:
            a, b = results["1 server: jedi"], results[f"1 server: {second['name']}"]
            both = results[f"2 servers: jedi + {second['name']}"]
            print(
                f"  max-not-sum: p50 both {both:.1f} ms vs max {max(a, b):.1f} ms, "
                f"sum {a + b:.1f} ms"
            )
        if second is not None:
            pairs = asyncio.run(paired_run(root, [first, second], spots, args.pause_ms / 1000))
            both = [(t, parts) for t, parts in pairs if all(p is not None for p in parts)]
            if both:
                totals = [t for t, _ in both]
                maxes = [max(p for p in parts if p is not None) for _, parts in both]
                sums = [sum(p for p in parts if p is not None) for _, parts in both]
                mean = statistics.mean
                print(
                    f"  paired (in-process, {len(both)}/{len(pairs)} hovers both answered): "
                    f"total p50 {pct(totals)[0]:.1f} ms, max(parts) p50 {pct(maxes)[0]:.1f} ms, "
                    f"sum(parts) p50 {pct(sums)[0]:.1f} ms; mean total/max "
                    f"{mean(totals) / mean(maxes):.2f}, total/sum {mean(totals) / mean(sums):.2f}"
                )
        if args.skip_enrich:
            return
        n_enrich = args.enrich_files or args.files
        if n_enrich != args.files:
            root = corpus(Path(tmp) / "enrich", n_enrich)
        out = enrich_run(root, jedi, t)
        plain, rep = out["plain"], out["enriched"]
        en = rep["enrichment"]
        asked = max(1, en["entities"])
        print(
            f"enrichment (jedi, timeout {t} ms, 2 requests in flight): "
            f"{en['entities']} entities in {en['files']} files ({n_enrich} files indexed), "
            f"{en['seconds']:.1f} s "
            f"-> {en['entities'] / max(en['seconds'], 1e-9):.1f} entities/s"
        )
        print(
            f"  enriched {100 * en['enriched'] / asked:.1f} %, empty "
            f"{100 * en['empty'] / asked:.1f} %, timed out or failed "
            f"{100 * en['timed_out'] / asked:.1f} %"
        )
        print(
            f"  index without --enrich {plain['seconds']:.1f} s (in memory); with --enrich "
            f"{rep['seconds']:.1f} s (pipeline {rep['pipeline_seconds']:.1f} s)"
        )


if __name__ == "__main__":
    main()
