"""What each MCP tool answers, without the SDK: arguments → the query layer → one JSON record
with its freshness, cut to the tool's token budget.

Budgets: hosts reject (or silently cut) tool results that are too long, so every answer is
estimated (`queries.tokens`) and cut to ``max_tokens`` (default well under 25k tokens), and
every list in it says its ``total`` and whether it was ``truncated``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from isgraph.model import Entity
from isgraph.queries import changes, context, detail, graph, impact, lookup
from isgraph.queries.lookup import QueryError
from isgraph.queries.page import Page, paginate
from isgraph.queries.tokens import fit, json_tokens
from isgraph.store.base import Store

DEFAULT_TOKENS = 6000
MAX_TOKENS = 20000
DEFAULT_LIMIT = 20
MAX_TARGETS = 5  # a name meaning more entities than this: the first ones, and a total


class Live(Protocol):
    """A workspace kept fresh (`isgraph.workspace.Folder`)."""

    root: Path
    store: Store

    @property
    def fresh(self) -> bool: ...

    @property
    def pending_files(self) -> int: ...


def _check(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise QueryError(f"{name} must be from {low} to {high}, got {value}")
    return value


class Tools:
    """The tools over one live workspace. Each method is blocking (store reads): the server
    runs it in a thread."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def _answer(self, record: dict[str, Any], max_tokens: int) -> dict[str, Any]:
        _check("max_tokens", max_tokens, 200, MAX_TOKENS)
        record["fresh"] = self.live.fresh
        record["pending_files"] = self.live.pending_files
        record["budget_cut"] = fit(record, max_tokens)
        record["tokens"] = json_tokens(record)
        return record

    def _targets(self, name_or_key: str) -> list[Entity]:
        if not name_or_key.strip():
            raise QueryError("name_or_key is empty")
        return lookup.require_targets(self.live.store, name_or_key)

    def _per_target(
        self, name_or_key: str, answer: Callable[[Entity], dict[str, Any]]
    ) -> dict[str, Any]:
        """``{"targets": page}``: each entity the name means (at most MAX_TARGETS) with its
        brief and ``answer(entity)``."""
        found = self._targets(name_or_key)
        out = [{"target": detail.brief(t), **answer(t)} for t in found[:MAX_TARGETS]]
        return {"targets": Page(out, len(found), len(found) > MAX_TARGETS).record(dict)}

    def find_symbols(
        self,
        query: str = "",
        kind: str | None = None,
        path: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: int = 0,
        max_tokens: int = DEFAULT_TOKENS,
    ) -> dict[str, Any]:
        _check("limit", limit, 1, 500)
        store = self.live.store
        if query.strip():
            # ranked search, then the filters (over enough of the ranking to fill the page)
            wanted = cursor + limit
            got = lookup.search(store, query, wanted * (4 if kind or path else 1), stubs=False)
            items = [
                e
                for e in got.items
                if (kind is None or e.kind == kind) and (path is None or e.path.startswith(path))
            ]
            page = Page(
                items[cursor:wanted],
                len(items),
                len(items) > wanted or got.truncated,
                wanted if len(items) > wanted or got.truncated else None,
                total_exact=not got.truncated,
            )
        elif kind is None and path is None:
            raise QueryError("give a query, a kind or a path")
        else:
            full = lookup.symbols(store, kind=kind, path=path, stubs=path is not None)
            page = paginate(full.items, limit, cursor)
        rec = {"symbols": page.record(_symbol)}
        return self._answer(rec, max_tokens)

    def symbol(
        self,
        name_or_key: str,
        limit: int = 10,
        max_lines: int = 60,
        max_tokens: int = DEFAULT_TOKENS,
    ) -> dict[str, Any]:
        _check("limit", limit, 1, 200)
        _check("max_lines", max_lines, 0, 2000)
        found = self._targets(name_or_key)
        details = [
            detail.detail(self.live.store, self.live.root, e, limit=limit, max_lines=max_lines)
            for e in found[:MAX_TARGETS]
        ]
        page = Page(details, len(found), len(found) > MAX_TARGETS)
        return self._answer({"matches": page.record(lambda d: d.record())}, max_tokens)

    def callers(
        self,
        name_or_key: str,
        depth: int = 1,
        limit: int = 50,
        cursor: int = 0,
        max_tokens: int = DEFAULT_TOKENS,
    ) -> dict[str, Any]:
        """Depth 1: the calls into each target, every call site with its resolution; deeper:
        the entities reached, nearest first."""
        _check("depth", depth, 1, 10)
        _check("limit", limit, 1, 500)
        store = self.live.store

        def answer(t: Entity) -> dict[str, Any]:
            if depth == 1:
                refs = graph.references(store, t.key, kind="calls", limit=limit, cursor=cursor)
                return {"callers": refs.record(_call)}
            reach = graph.reach(store, [t], "callers", depth)
            return {"callers": paginate(reach.items, limit, cursor).record(_reached)}

        return self._answer(self._per_target(name_or_key, answer), max_tokens)

    def impact(
        self,
        name_or_key: str,
        depth: int = 3,
        limit: int = 50,
        max_tokens: int = DEFAULT_TOKENS,
    ) -> dict[str, Any]:
        _check("depth", depth, 1, 10)
        _check("limit", limit, 1, 1000)

        def answer(t: Entity) -> dict[str, Any]:
            got = impact.impact(self.live.store, t, depth, limit)
            return {
                "depth": depth,
                "certain": got.certain.record(_reached),
                "possible": got.possible.record(_reached),
                "unresolved_frontier": got.frontier.record(_call),
            }

        return self._answer(self._per_target(name_or_key, answer), max_tokens)

    def context(
        self,
        symbols: list[str] | None = None,
        files: list[str] | None = None,
        text: str = "",
        max_tokens: int = DEFAULT_TOKENS,
    ) -> dict[str, Any]:
        _check("max_tokens", max_tokens, 200, MAX_TOKENS)
        if not (symbols or files or text.strip()):
            raise QueryError("give symbols, files or a text to build the context from")
        # the pack fits its entries into most of the budget; the envelope takes the rest
        got = context.pack(
            self.live.store,
            self.live.root,
            symbols=symbols or [],
            files=files or [],
            text=text,
            max_tokens=max(max_tokens - 150, 100),
        )
        return self._answer(got.record(), max_tokens)

    def changes(
        self,
        rev: str | None = None,
        depth: int = 2,
        limit: int = 50,
        max_tokens: int = DEFAULT_TOKENS,
    ) -> dict[str, Any]:
        _check("depth", depth, 1, 10)
        _check("limit", limit, 1, 1000)
        files = changes.git_changes(self.live.root, rev or None)
        got = changes.changes(self.live.store, files, depth=depth, limit=limit)
        rec = got.record()
        rec["range"] = rev or "working tree"
        return self._answer(rec, max_tokens)


def _symbol(e: Entity) -> dict[str, Any]:
    out = detail.brief(e)
    if e.doc:
        out["doc"] = e.doc
    return out


def _reached(r: graph.Reached) -> dict[str, Any]:
    return {**detail.brief(r.entity), "depth": r.depth}


def _call(r: graph.Reference) -> dict[str, Any]:
    """A call as an agent reads it: from where, how it was decided, every site."""
    e = r.edge
    out: dict[str, Any] = {
        "path": e.path,
        "sites": graph.sites(e),
        "target_name": e.target_name,
        "resolution": e.resolution,
    }
    if r.other is not None:
        out["from"] = r.other.qualname
        out["from_key"] = r.other.key
    else:
        out["from_key"] = e.src
    return out
