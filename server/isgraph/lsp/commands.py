"""`workspace/executeCommand` commands (`isgraph.reindex`, `.stats`, `.impact`, `.callers`,
`.candidates`, `.verify`) and
the custom requests `isgraph/query` and `isgraph/confirmEdges`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from isgraph.index.verify import verify
from isgraph.lsp.server import IsgraphServer, as_dict, server
from isgraph.proxy import lsp as proxy
from isgraph.queries import graph, lookup
from isgraph.store.base import Store

log = logging.getLogger(__name__)

QUERIES = ("callers", "callees", "impact", "cycles", "search")
FRESH_POLL_S = 0.05
VERIFY_ROWS = 200  # differing rows listed per folder (all are counted)


@server.command("isgraph.reindex")
async def cmd_reindex(ls: IsgraphServer, *args: Any) -> dict[str, Any]:
    """A full re-index of the folders (or ``{"folder": URI}``): `isgraph index --json`'s
    summary, summed over the folders, with each folder's own under ``folders``."""
    records = []
    for folder in ls.selected(args):
        summary = await folder.reindex()
        records.append({"root": str(folder.root), **summary.record()})
    return _summed(records)


@server.command("isgraph.stats")
async def cmd_stats(ls: IsgraphServer, *args: Any) -> dict[str, Any]:
    """`isgraph stats --json`, summed over the folders (or ``{"folder": URI}``), with each
    folder's own under ``folders``."""
    records = []
    for folder in ls.selected(args):
        stats = await asyncio.to_thread(graph.stats, folder.store)
        records.append({"root": str(folder.root), **stats.record()})
    return _summed(records)


@server.command("isgraph.verify")
async def cmd_verify(ls: IsgraphServer, *args: Any) -> dict[str, Any]:
    """`isgraph verify --json` for the folders (or ``{"folder": URI}``), each once it is fresh:
    the index against a clean index of the tree with the editor's unsaved buffers;
    ``{"repair": true}`` rewrites drifted files with their clean rows; ``{"thorough": true}``
    compares with a resolved clean index at once (`index.verify`)."""
    repair = any(as_dict(a).get("repair") is True for a in args if isinstance(a, dict))
    thorough = any(as_dict(a).get("thorough") is True for a in args if isinstance(a, dict))
    records = []
    for folder in ls.selected(args):
        await folder.ready.wait()
        while not folder.fresh:  # a run or an owed resolution would show as drift
            await asyncio.sleep(FRESH_POLL_S)
        report = await verify(
            folder.service, repair=repair, overrides=dict(folder.buffers), thorough=thorough
        )
        records.append({"root": str(folder.root), **report.record(VERIFY_ROWS)})
    return _summed(records)


@server.command("isgraph.impact")
async def cmd_impact(ls: IsgraphServer, *args: Any) -> list[dict[str, Any]]:
    """``KEY|NAME`` or ``{"target": KEY|NAME, "depth": N}``: `isgraph impact --json`'s records
    (with "depth" and "target"), over every folder."""
    return await _walk(ls, "impact", 3, args)


@server.command("isgraph.callers")
async def cmd_callers(ls: IsgraphServer, *args: Any) -> list[dict[str, Any]]:
    """``KEY|NAME`` or ``{"target": KEY|NAME, "depth": N}``: `isgraph callers --json`'s
    records (with "depth", "target" and the call ``sites``), over every folder. What the code
    action "Show callers" runs."""
    return await _walk(ls, "callers", 1, args)


@server.command("isgraph.candidates")
async def cmd_candidates(ls: IsgraphServer, *args: Any) -> list[dict[str, Any]]:
    """``NAME``: the entity records of every definition so named (or so qualified), over
    every folder — what an unresolved reference could mean. What the code action on an
    unresolved call runs."""
    name = args[0] if args else None
    if not isinstance(name, str) or not name:
        raise ValueError("isgraph.candidates needs a NAME")
    records: list[dict[str, Any]] = []
    for folder in ls.folders:
        found = await asyncio.to_thread(lookup.find_targets, folder.store, name)
        records += [e.record() for e in found]
    return records


async def _walk(
    ls: IsgraphServer, walk: str, default_depth: int, args: Any
) -> list[dict[str, Any]]:
    """A graph walk from ``KEY|NAME`` (or ``{"target": ..., "depth": N}``, or
    ``KEY|NAME, N``) over every folder (or the ``{"folder": URI}`` among the rest)."""
    target: Any = args[0] if args else None
    depth: Any = default_depth
    if target is not None and not isinstance(target, str):
        spec = as_dict(target)
        target, depth = spec.get("target"), spec.get("depth", default_depth)
    elif len(args) > 1:
        depth = args[1]
    if not isinstance(target, str) or not target:
        raise ValueError(f'isgraph.{walk} needs a KEY or NAME (or {{"target": ..., "depth": N}})')
    depth = _bounded_int(depth, "depth", 1, 50)
    records: list[dict[str, Any]] = []
    for folder in ls.selected(args[1:]):
        store = folder.store

        def run(store: Store = store) -> list[dict[str, Any]]:
            found = graph.reach(store, lookup.find_targets(store, target), walk, depth)
            return [r.record() for r in found.items]

        records += await asyncio.to_thread(run)
    return records


def _summed(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Records of several folders as one: counts added (also inside dicts), lists joined,
    seconds the longest; ``folders`` keeps each folder's record."""
    total: dict[str, Any] = {}
    for rec in records:
        for key, value in rec.items():
            if key == "root":
                continue
            have = total.get(key)
            if have is None:
                total[key] = (
                    dict(value)
                    if isinstance(value, dict)
                    else (list(value) if isinstance(value, list) else value)
                )
            elif isinstance(value, dict):
                for k, v in value.items():
                    have[k] = have.get(k, 0) + v
            elif isinstance(value, list):
                have.extend(value)
            elif isinstance(value, float):
                total[key] = max(have, value)
            else:
                total[key] = have + value
    total["folders"] = records
    return total


def _bounded_int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


@server.feature("isgraph/query")
async def query(ls: IsgraphServer, params: Any) -> dict[str, Any]:
    """`{"query": "callers"|"callees"|"impact"|"search", "target": KEY or text, "depth": N,
    "limit": N}` or `{"query": "cycles", "kind": "calls", "limit": N}` ->
    `{"results": [...], "fresh": bool, "pending_files": N}`; callers/callees records list their
    call `sites`. With several workspace folders,
    each record also names its folder (`"folder": URI`): paths are relative to it."""
    args = as_dict(params)
    kind = args.get("query")
    target = args.get("target") or args.get("text") or ""
    if kind not in QUERIES or (kind != "cycles" and not (isinstance(target, str) and target)):
        raise ValueError(f"isgraph/query needs query in {QUERIES} and a string target")
    depth = _bounded_int(args.get("depth") or (3 if kind == "impact" else 1), "depth", 1, 50)
    limit = _bounded_int(args.get("limit") or (100 if kind == "cycles" else 20), "limit", 1, 10_000)
    results: list[Any] = []
    several = len(ls.folders) > 1
    for folder in ls.folders:
        store = folder.store
        where = {"folder": folder.root.as_uri()} if several else {}
        if kind == "search":
            found = await asyncio.to_thread(lookup.search, store, target, limit)
            results += [{**e.record(), **where} for e in found.items]
        elif kind == "cycles":
            edge_kind = args.get("kind") or "calls"
            comps = await asyncio.to_thread(graph.cycles, store, edge_kind, limit)
            results += comps.items
        else:

            def walk(store: Store = store) -> list[graph.Reached]:
                return graph.reach(store, lookup.find_targets(store, target), kind, depth).items

            results += [{**r.record(), **where} for r in await asyncio.to_thread(walk)]
    pending = sum(f.pending_files for f in ls.folders)
    return {"results": results, "fresh": ls.fresh, "pending_files": pending}


@server.feature("isgraph/confirmEdges")
async def confirm_edges(ls: IsgraphServer, params: Any) -> dict[str, int]:
    """`{"uri": URI}` -> counts: the file's inferred calls checked with a downstream server's
    `definition`; confirmed or corrected ones become exact (proxy/confirm.py)."""
    uri = as_dict(params).get("uri")
    found = ls.folder_of(uri) if isinstance(uri, str) else None
    if found is None:
        raise ValueError("isgraph/confirmEdges needs the uri of a file in a workspace folder")
    return await proxy.confirm_edges(ls.proxy, found[0], found[1])
