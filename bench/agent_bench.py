"""What an agent reads: isgraph's MCP tools vs a grep-based agent, on the same questions.

    python bench/agent_bench.py [--corpus DIR] [--rounds 5]

Fixed, real questions on CPython's standard library (a copy, indexed first by the CLI):
who calls X, what breaks if Y changes, where is Z defined, context for a named function.
Each is asked through `isgraph mcp` (the MCP SDK's stdio client, as a host asks) and
answered the grep way: `rg -n -w NAME` (or `grep -rn -w` without ripgrep) plus the files
the matches point to, which is what a grep-based agent reads next.

Per question: tokens of the answer (both sides estimated the same way, queries.tokens),
correctness against the graph's exact edges (recall and precision of the callers / the
certain impact; the definition found), and latency per tool call (p50 / p95 over
``--rounds``, after one warm-up): at the tool's default budget (what an agent's call gets),
and, for the answers scored against the whole truth, at the budget that holds all of it
(`callers` limit 500, `impact` limit 1000, 20k tokens: "full"). The load average is printed
with the figures: the machine is shared, so compare the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import contextlib

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from _common import default_corpus, isgraph_cmd, prepare_corpus
from isgraph.model import EdgeKind, Resolution
from isgraph.queries import impact as impacts
from isgraph.queries import lookup
from isgraph.queries.tokens import estimate_tokens
from isgraph.store.base import Store
from isgraph.store.connect import default_store_url, open_store

# (qualified name, bare name) — functions with many callers across the stdlib
CALLERS = [
    "urllib.parse.urlsplit",
    "os.fspath",
    "email.utils.parseaddr",
    "json.decoder.JSONDecoder.raw_decode",
    "logging.getLogger",
]
IMPACT = ["urllib.parse.unquote", "email._header_value_parser.get_word", "textwrap.dedent"]
DEFINED = ["JSONDecoder", "HTTPConnection", "ThreadPoolExecutor", "urlsplit", "SMTP"]
CONTEXT = ["email.message.Message.get_payload", "http.client.HTTPConnection.request"]


def grep_lines(root: Path, *words: str) -> list[tuple[str, int, str]]:
    """(path, line, text) of every whole-word match of any of ``words``, as `rg -n -w` (or
    `grep -rn -w`) prints them: one run for many words, as an agent's alternation would."""
    if not words:
        return []
    pats = [a for w in words for a in ("-e", w)]
    rg = shutil.which("rg")
    cmd = [rg, "-n", "-w", "--no-heading", *pats, "."] if rg else ["grep", "-rn", "-w", *pats, "."]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, errors="replace")
    out = []
    for line in proc.stdout.splitlines():
        path, _, rest = line.partition(":")
        num, _, text = rest.partition(":")
        if num.isdigit():
            out.append((path.removeprefix("./"), int(num), text))
    return out


def grep_cost(root: Path, hits: list[tuple[str, int, str]], read_files: bool) -> int:
    """Tokens of the grep output, plus the whole of every file it points to."""
    text = "\n".join(f"{p}:{n}:{t}" for p, n, t in hits)
    tokens = estimate_tokens(text)
    if read_files:
        for path in sorted({p for p, _, _ in hits}):
            with contextlib.suppress(OSError):
                tokens += estimate_tokens((root / path).read_text(errors="replace"))
    return tokens


_FILE_ENTITIES: dict[str, list[Any]] = {}  # the bench's own reads, cached across questions


def enclosing(store: Store, hits: list[tuple[str, int, str]]) -> set[str]:
    """The innermost entity around each match: what a grep agent takes for 'the caller'."""
    out = set()
    for path, line, _ in hits:
        ents = _FILE_ENTITIES.get(path)
        if ents is None:
            ents = _FILE_ENTITIES[path] = store.find_entities(path=path)
        e = lookup.innermost(ents, line)
        if e is not None:
            out.add(e.key)
    return out


def score(found: set[str], truth: set[str]) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(truth) if truth else 1.0, hit / len(found) if found else 1.0)


class Timer:
    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {}
        self.recording = True  # off for each question's warm-up call

    async def call(
        self, s: ClientSession, tool: str, label: str = "", **args: Any
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = await s.call_tool(tool, args)
        if self.recording:
            self.ms.setdefault(label or tool, []).append((time.perf_counter() - t0) * 1000)
        if result.is_error:
            raise RuntimeError(f"{tool}({args}): {result.content}")
        return json.loads(result.content[0].text)  # type: ignore[union-attr]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(root: Path, rounds: int) -> None:
    store = open_store(default_store_url(root), root)
    timer = Timer()
    rows: list[tuple[str, str, int, int, int, str, str]] = []
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "isgraph", "mcp", "--root", str(root)]
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        for _ in range(600):  # the start-up run is incremental: wait until fresh
            if (await timer.call(s, "find_symbols", query="x"))["fresh"]:
                break
            await asyncio.sleep(0.5)
        timer.ms.clear()

        for name in CALLERS:
            (target, *_) = lookup.require_targets(store, name)
            truth = {
                e.src
                for e in store.edges(dst=target.key, kind=EdgeKind.CALLS)
                if e.resolution == Resolution.EXACT
            }
            for i in range(rounds + 1):
                timer.recording = i > 0
                await timer.call(s, "callers", name_or_key=target.key)
                answer = await timer.call(s, "callers", "callers (full)", name_or_key=target.key,
                                          limit=500, max_tokens=20000)  # fmt: skip
            page = answer["targets"]["items"][0]["callers"]
            mine = {c["from_key"] for c in page["items"] if c["resolution"] == "exact"}
            hits = [h for h in grep_lines(root, target.name) if "def " + target.name not in h[2]]
            r_g, p_g = score(enclosing(store, hits), truth)
            r_m, p_m = score(mine, truth)
            rows.append(("callers", name, answer["tokens"], grep_cost(root, hits, False),
                         grep_cost(root, hits, True), f"{r_m:.0%}/{p_m:.0%}",
                         f"{r_g:.0%}/{p_g:.0%}"))  # fmt: skip

        for name in IMPACT:
            (target, *_) = lookup.require_targets(store, name)
            _, exact = impacts.dependents(store, target.key, 2)
            truth = set(exact)
            for i in range(rounds + 1):
                timer.recording = i > 0
                await timer.call(s, "impact", name_or_key=target.key, depth=2)
                answer = await timer.call(s, "impact", "impact (full)", name_or_key=target.key,
                                          depth=2, limit=1000, max_tokens=20000)  # fmt: skip
            t = answer["targets"]["items"][0]
            mine = {i["key"] for i in t["certain"]["items"]}
            # grep, two levels: the name, then the names of what encloses each match
            hits = grep_lines(root, target.name)
            first = enclosing(store, hits)
            names = {e.name for e in store.get_entities(first).values()}
            second = grep_lines(root, *sorted(names))
            found = first | enclosing(store, second)
            r_g, p_g = score(found, truth)
            r_m, p_m = score(mine, truth)
            rows.append(("impact d2", name, answer["tokens"], grep_cost(root, hits + second, False),
                         grep_cost(root, hits + second, True), f"{r_m:.0%}/{p_m:.0%}",
                         f"{r_g:.0%}/{p_g:.0%}"))  # fmt: skip

        for name in DEFINED:
            truth = {e.key for e in store.find_entities(name=name) if e.kind != "module"}
            for i in range(rounds + 1):
                timer.recording = i > 0
                answer = await timer.call(s, "find_symbols", query=name, limit=10)
            mine = {i["key"] for i in answer["symbols"]["items"]}
            hits = [
                h
                for h in grep_lines(root, name)
                if f"def {name}" in h[2] or f"class {name}" in h[2]
            ]
            found = enclosing(store, [(p, n + 1, t) for p, n, t in hits]) | {
                e.key for p, n, _ in hits for e in store.find_entities(path=p) if e.start_line == n
            }
            r_g, _ = score(found, truth)
            r_m, _ = score(mine, truth)
            all_hits = grep_lines(root, name)
            rows.append(("defined", name, answer["tokens"], grep_cost(root, all_hits, False),
                         grep_cost(root, all_hits, False), f"{r_m:.0%}",
                         f"{r_g:.0%}"))  # fmt: skip

        for name in CONTEXT:
            (target, *_) = lookup.require_targets(store, name)
            near = {e.src for e in store.edges(dst=target.key) if e.resolution == Resolution.EXACT}
            near |= {
                e.dst
                for e in store.edges(src=target.key)
                if e.dst and e.resolution == Resolution.EXACT
            }
            for i in range(rounds + 1):
                timer.recording = i > 0
                answer = await timer.call(s, "context", symbols=[target.key], max_tokens=8000)
            mine = {i["key"] for i in answer["items"]}
            hits = grep_lines(root, target.name)
            r_m, _ = score(mine, near)
            r_g, p_g = score(enclosing(store, hits) | {target.key}, near | {target.key})
            rows.append(("context", name, answer["tokens"], grep_cost(root, hits, False),
                         grep_cost(root, hits, True), f"{r_m:.0%} nbrs",
                         f"{r_g:.0%}/{p_g:.0%}"))  # fmt: skip
    store.close()

    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; corpus {root}")
    print(f"{'question':<10} {'target':<38} {'isgraph':>8} {'rg out':>8} {'rg+files':>9} "
          f"{'isgraph R/P':>12} {'grep R/P':>10}")  # fmt: skip
    for kind, name, mine_t, rg_t, rgf_t, ok_m, ok_g in rows:
        print(f"{kind:<10} {name[-38:]:<38} {mine_t:>8} {rg_t:>8} {rgf_t:>9} {ok_m:>12} {ok_g:>10}")
    total_m = sum(r[2] for r in rows)
    total_rg = sum(r[3] for r in rows)
    total_rgf = sum(r[4] for r in rows)
    print(f"tokens in all: isgraph {total_m}, rg output {total_rg} ({total_rg / total_m:.1f}x), "
          f"rg + files read {total_rgf} ({total_rgf / total_m:.1f}x)")  # fmt: skip
    print("latency per tool call, ms (client side, stdio):")
    for tool, ms in timer.ms.items():
        print(
            f"  {tool:<15} n={len(ms):<4} "
            f"p50 {statistics.median(ms):7.1f}  p95 {pct(ms, 0.95):7.1f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="an indexed-or-not directory (default: a copy "
                    "of the stdlib under /tmp/isgraph-agent-bench)")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    root = (
        args.corpus or prepare_corpus(default_corpus(), Path("/tmp/isgraph-agent-bench")) / "copy_1"
    )
    root = root.resolve()
    subprocess.run(isgraph_cmd("index", str(root), "--quiet"), check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    asyncio.run(run(root, args.rounds))


if __name__ == "__main__":
    main()
