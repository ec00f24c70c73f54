"""A context pack for a task: the code most relevant to some symbols, files or a text, ranked
and cut to a token budget.

Relevance is personalised PageRank over the call/import/inherit graph (plus containment:
a method and its class), restarted at the seeds: what the seeds call, what calls them and
what they share neighbours with rank high, hubs far away do not. The walk runs on the
seeds' neighbourhood (a few hops, capped), read layer by layer from the store, so its cost
follows the neighbourhood, not the repo. Signatures come first (many of them are cheap and
orient), then bodies of the top entries while the budget lasts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isgraph.model import EdgeKind, Entity, is_external
from isgraph.queries import lookup
from isgraph.queries.detail import brief
from isgraph.queries.source import read_lines
from isgraph.queries.tokens import json_tokens
from isgraph.store.base import Store

RESTART = 0.25  # probability of jumping back to the seeds at each step
ITERATIONS = 30
HOPS = 2
NODE_CAP = 3000  # the neighbourhood stops growing here
FORWARD, BACKWARD, CONTAINS = 1.0, 0.6, 0.4  # weights: caller->callee, callee->caller, parent
BODY_LINES = 80
SIGNATURE_SHARE = 0.35  # of the budget, spent on signatures before bodies
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "when",
        "what",
        "where",
        "which",
        "how",
        "why",
        "not",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "its",
        "use",
        "used",
        "uses",
        "using",
        "add",
        "fix",
        "make",
        "new",
        "all",
        "any",
        "can",
        "should",
        "would",
        "could",
        "get",
        "set",
        "call",
        "calls",
        "code",
        "file",
        "files",
        "function",
        "method",
        "class",
        "test",
        "tests",
    ]
)


@dataclass(slots=True)
class Item:
    entity: Entity
    score: float
    body: str | None = None
    body_truncated: bool = False

    def record(self) -> dict[str, Any]:
        out = {**brief(self.entity), "end_line": self.entity.end_line, "score": self.score}
        if self.entity.doc:
            out["doc"] = self.entity.doc
        if self.body is not None:
            out["body"] = self.body
            out["body_truncated"] = self.body_truncated
        return out


@dataclass(slots=True)
class Pack:
    """Ranked entries (signatures for all, bodies for the top ones) within ``max_tokens``."""

    seeds: list[str]
    unmatched: list[str]
    items: list[Item]
    total: int  # candidates ranked
    truncated: bool  # entries (or bodies) left out for the budget
    tokens: int  # estimate of the entries' size
    bodies: int
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "unmatched": self.unmatched,
            "items": [i.record() for i in self.items],
            "total": self.total,
            "truncated": self.truncated,
            "tokens": self.tokens,
            "bodies": self.bodies,
        }


def seeds(
    store: Store, symbols: list[str], files: list[str], text: str
) -> tuple[dict[str, float], list[str]]:
    """Restart weights by key, and the inputs that matched nothing. Symbols weigh most, then
    files' definitions, then names found in the text (exact names first, else a search)."""
    weights: dict[str, float] = defaultdict(float)
    unmatched: list[str] = []
    for name in symbols:
        found = lookup.find_targets(store, name)
        for e in found:
            weights[e.key] += 1.0 / len(found)
        if not found:
            unmatched.append(name)
    for path in files:
        ents = [e for e in store.find_entities(path=path) if e.kind != "module"]
        if not ents:
            ents = store.find_entities(path=path)
        for e in ents:
            weights[e.key] += 0.8 / len(ents)
        if not ents:
            unmatched.append(path)
    words = [w for w in dict.fromkeys(_WORD.findall(text)) if w.lower() not in _STOP][:40]
    for word in words:
        found = [e for e in store.find_entities(name=word, limit=20) if not is_external(e.path)]
        if not found and len(word) >= 4:
            found = [e for e in store.search(word, 3) if not is_external(e.path)]
        for e in found:
            weights[e.key] += 0.5 / len(found)
    return dict(weights), unmatched


def neighbourhood(store: Store, start: set[str]) -> dict[str, dict[str, float]]:
    """Weighted adjacency of the entities within HOPS edges of ``start`` (capped)."""
    adj: dict[str, dict[str, float]] = defaultdict(dict)

    def link(a: str, b: str, w: float) -> None:
        if a != b:
            adj[a][b] = max(adj[a].get(b, 0.0), w)

    seen = set(start)
    frontier = set(start)
    for _ in range(HOPS):
        if not frontier or len(seen) >= NODE_CAP:
            break
        nxt: set[str] = set()
        out = [e for k in EdgeKind for e in store.edges_from_srcs(frontier, k) if e.dst]
        for e in out + store.edges_to(frontier):
            assert e.dst is not None
            link(e.src, e.dst, FORWARD)
            link(e.dst, e.src, BACKWARD)
            for k in (e.src, e.dst):
                if k not in seen and len(seen) < NODE_CAP:
                    seen.add(k)
                    nxt.add(k)
        frontier = nxt
    for ent in store.get_entities(seen).values():
        if ent.parent and ent.parent in seen:
            link(ent.key, ent.parent, CONTAINS)
            link(ent.parent, ent.key, CONTAINS)
    for k in seen:
        adj.setdefault(k, {})
    return adj


def pagerank(adj: dict[str, dict[str, float]], restart: dict[str, float]) -> dict[str, float]:
    """Personalised PageRank by power iteration; dangling mass returns to the seeds."""
    total = sum(restart.values()) or 1.0
    p = {k: v / total for k, v in restart.items()}
    rank = dict(p)
    out_w = {k: sum(n.values()) for k, n in adj.items()}
    for _ in range(ITERATIONS):
        nxt: dict[str, float] = defaultdict(float)
        dangling = 0.0
        for k, r in rank.items():
            w = out_w.get(k, 0.0)
            if w <= 0:
                dangling += r
                continue
            share = (1 - RESTART) * r / w
            for n, wn in adj[k].items():
                nxt[n] += share * wn
        for k, v in p.items():
            nxt[k] += (RESTART + (1 - RESTART) * dangling) * v
        rank = nxt
    return rank


def pack(
    store: Store,
    root: Path,
    *,
    symbols: Sequence[str] = (),
    files: Sequence[str] = (),
    text: str = "",
    max_tokens: int = 6000,
    limit: int = 40,
) -> Pack:
    """The ranked pack for the seeds, within ``max_tokens`` (estimated) and ``limit`` entries."""
    restart, unmatched = seeds(store, list(symbols), list(files), text)
    if not restart:
        return Pack([], unmatched, [], 0, False, 0, 0)
    adj = neighbourhood(store, set(restart))
    rank = pagerank(adj, restart)
    ents = store.get_entities(rank)
    ranked = sorted(
        (e for e in ents.values() if not is_external(e.path) and e.kind != "module"),
        key=lambda e: (-rank[e.key], e.path, e.start_line),
    )
    if not ranked:  # only modules (a file of imports): keep them
        ranked = sorted(ents.values(), key=lambda e: (-rank[e.key], e.path))
    items: list[Item] = []
    used = 0
    for e in ranked[:limit]:
        item = Item(e, round(rank[e.key], 5))
        cost = json_tokens(item.record())
        if used + cost > max_tokens * SIGNATURE_SHARE and items:
            break
        items.append(item)
        used += cost
    bodies = 0
    skipped_body = False
    for item in items:
        got = read_lines(root, item.entity, BODY_LINES)
        if got is None:
            continue
        before = json_tokens(item.record())
        item.body, item.body_truncated = got
        extra = json_tokens(item.record()) - before
        if used + extra > max_tokens:
            item.body, item.body_truncated = None, False
            skipped_body = True
            continue
        used += extra
        bodies += 1
    truncated = len(items) < len(ranked) or skipped_body
    return Pack(list(restart), unmatched, items, len(ranked), truncated, used, bodies)
