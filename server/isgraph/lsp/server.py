"""`isgraph serve`: a pygls 2 language server over the index of each workspace folder.

Features backed by the graph: workspace/symbol (ranked fuzzy search), documentSymbol
(hierarchical), hover (kind, signature, where defined, callers / callees / impact counts),
definition (the resolved edge on the cursor's line), and the custom request `isgraph/query`
(callers, callees, impact, search) returning the CLI's JSON records plus how fresh they are.
Indexing runs in the background with `$/progress`; saves and changes on disk re-index.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from isgraph import __version__
from isgraph.lsp.workspace import Folder
from isgraph.model import Entity, is_external
from isgraph.store.base import Store

log = logging.getLogger(__name__)

SYMBOL_LIMIT = 100
QUERIES = ("callers", "callees", "impact", "search")

_KINDS = {
    "module": types.SymbolKind.Module,
    "class": types.SymbolKind.Class,
    "struct": types.SymbolKind.Struct,
    "interface": types.SymbolKind.Interface,
    "trait": types.SymbolKind.Interface,
    "enum": types.SymbolKind.Enum,
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "property": types.SymbolKind.Property,
    "constant": types.SymbolKind.Constant,
    "namespace": types.SymbolKind.Namespace,
}


class IsgraphServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("isgraph", __version__)
        self.folders: list[Folder] = []
        self.db: str | None = None

    def folder_of(self, uri: str) -> tuple[Folder, str] | None:
        """The folder holding a document and the document's repo-relative path; None for a
        file outside every folder (never read)."""
        path = to_fs_path(uri)
        if path is None:
            return None
        for folder in self.folders:
            rel = folder.relpath(Path(path))
            if rel is not None:
                return folder, rel
        return None

    def notify(self, message: str) -> None:
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )


server = IsgraphServer()


def _location(folder: Folder, e: Entity) -> types.Location:
    uri = from_fs_path(str(folder.root / e.path)) or ""
    return types.Location(uri=uri, range=_range(e))


def _range(e: Entity) -> types.Range:
    return types.Range(
        start=types.Position(line=max(0, e.start_line - 1), character=e.start_col),
        end=types.Position(line=max(0, e.end_line - 1), character=e.end_col),
    )


@server.feature(types.INITIALIZE)
def initialize(ls: IsgraphServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("db"), str):
        ls.db = options["db"]


@server.feature(types.INITIALIZED)
async def initialized(ls: IsgraphServer, params: types.InitializedParams) -> None:
    roots = [to_fs_path(f.uri) for f in (ls.workspace.folders or {}).values()]
    if not roots and ls.workspace.root_path:
        roots = [ls.workspace.root_path]
    for root in roots:
        if root is None:
            continue
        folder = Folder(Path(root), ls.db, ls.notify)
        ls.folders.append(folder)
        folder.start(*await _progress(ls, folder))


async def _progress(ls: IsgraphServer, folder: Folder) -> tuple[Any, Any]:
    """Callbacks reporting `$/progress` (files done of found, then the end once the run,
    resolution included, is over), if the client supports it; else (None, None)."""
    window = ls.client_capabilities.window
    if window is None or not window.work_done_progress:
        return None, None
    token = f"isgraph-index-{uuid.uuid4().hex[:8]}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception:  # the client refused the token: index without progress
        return None, None
    ls.work_done_progress.begin(
        token, types.WorkDoneProgressBegin(title=f"isgraph: indexing {folder.root.name}")
    )
    state = {"ended": False}

    def progress(done: int, seen: int, discovered_all: bool) -> None:
        # The pipeline's last call comes before stubs and resolution: not the end yet (an
        # editor that waits for the end must see callers and impact resolved).
        if state["ended"]:
            return
        pct = int(100 * done / seen) if seen else 0
        ls.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=f"{done}/{seen} files", percentage=pct)
        )

    def end() -> None:
        if not state["ended"]:
            state["ended"] = True
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="indexed"))

    return progress, end


@server.feature(types.SHUTDOWN)
async def shutdown(ls: IsgraphServer, params: None) -> None:
    await asyncio.gather(*(f.close() for f in ls.folders), return_exceptions=True)
    ls.folders.clear()


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: IsgraphServer, params: types.DidSaveTextDocumentParams) -> None:
    found = ls.folder_of(params.text_document.uri)
    if found is not None:
        found[0].changed({found[1]})


@server.feature(types.WORKSPACE_SYMBOL)
async def workspace_symbol(
    ls: IsgraphServer, params: types.WorkspaceSymbolParams
) -> list[types.SymbolInformation]:
    out: list[types.SymbolInformation] = []
    for folder in ls.folders:
        ents = await asyncio.to_thread(folder.store.search, params.query, SYMBOL_LIMIT)
        out += [
            types.SymbolInformation(
                name=e.name,
                kind=_KINDS.get(e.kind, types.SymbolKind.Variable),
                location=_location(folder, e),
                container_name=e.qualname.rpartition(".")[0] or None,
            )
            for e in ents
            if not is_external(e.path)
        ]
    return out[:SYMBOL_LIMIT]


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def document_symbol(
    ls: IsgraphServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    ents = await asyncio.to_thread(folder.store.find_entities, path=rel)
    kids: dict[str, list[types.DocumentSymbol]] = {e.key: [] for e in ents}
    modules = {e.key for e in ents if e.kind == "module"}
    roots: list[types.DocumentSymbol] = []
    # Parents come before their children (sorted by line), so children lists fill first.
    for e in sorted(ents, key=lambda e: (e.start_line, -e.end_line)):
        if e.kind == "module":
            continue
        node = types.DocumentSymbol(
            name=e.name,
            detail=e.signature or None,
            kind=_KINDS.get(e.kind, types.SymbolKind.Variable),
            range=_range(e),
            selection_range=_range(e),
            children=kids[e.key],
        )
        siblings = kids.get(e.parent or "")
        (roots if siblings is None or e.parent in modules else siblings).append(node)
    return roots


def _at(store: Store, rel: str, line: int) -> Entity | None:
    """The innermost entity of a file whose lines contain ``line`` (1-based)."""
    inside = [e for e in store.find_entities(path=rel) if e.start_line <= line <= e.end_line]
    return min(inside, key=lambda e: e.end_line - e.start_line, default=None)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: IsgraphServer, params: types.HoverParams) -> types.Hover | None:
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return None
    folder, rel = found
    store = folder.store

    def facts() -> str | None:
        e = _at(store, rel, params.position.line + 1)
        if e is None:
            return None
        callers = len(store.callers(e.key, 1))
        callees = len(store.callees(e.key, 1))
        impact = len(store.impact(e.key, 3))
        lines = [
            f"**{e.kind}** `{e.qualname}{e.signature}`",
            f"{e.path}:{e.start_line}",
            f"callers {callers} · callees {callees} · impact {impact} (depth 3)",
        ]
        if e.doc:
            lines.insert(1, e.doc)
        return "\n\n".join(lines)

    text = await asyncio.to_thread(facts)
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: IsgraphServer, params: types.DefinitionParams) -> list[types.Location]:
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    line = params.position.line + 1

    def targets() -> list[Entity]:
        edges = [e for e in folder.store.edges(path=rel) if e.line == line and e.dst]
        got = folder.store.get_entities(e.dst for e in edges if e.dst)
        return list(got.values())

    return [_location(folder, e) for e in await asyncio.to_thread(targets)]


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def references(ls: IsgraphServer, params: types.ReferenceParams) -> list[types.Location]:
    """Where the definition at the cursor is used: the lines of the resolved edges to it."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found

    def uses() -> list[types.Location]:
        target = _at(folder.store, rel, params.position.line + 1)
        if target is None:
            return []
        out = [
            types.Location(
                uri=from_fs_path(str(folder.root / e.path)) or "",
                range=types.Range(
                    start=types.Position(line=e.line - 1, character=0),
                    end=types.Position(line=e.line, character=0),
                ),
            )
            for e in folder.store.edges(dst=target.key)
        ]
        if params.context.include_declaration:
            out.insert(0, _location(folder, target))
        return out

    return await asyncio.to_thread(uses)


def _call_item(folder: Folder, e: Entity) -> types.CallHierarchyItem:
    return types.CallHierarchyItem(
        name=e.name,
        kind=_KINDS.get(e.kind, types.SymbolKind.Function),
        uri=from_fs_path(str(folder.root / e.path)) or "",
        range=_range(e),
        selection_range=_range(e),
        detail=e.qualname,
        data=e.key,
    )


@server.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
async def prepare_call_hierarchy(
    ls: IsgraphServer, params: types.CallHierarchyPrepareParams
) -> list[types.CallHierarchyItem]:
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    e = await asyncio.to_thread(_at, folder.store, rel, params.position.line + 1)
    return [] if e is None or e.kind == "module" else [_call_item(folder, e)]


async def _calls(
    ls: IsgraphServer, item: types.CallHierarchyItem, incoming: bool
) -> list[tuple[Folder, Entity, list[int]]]:
    found = ls.folder_of(item.uri)
    if found is None or not isinstance(item.data, str):
        return []
    folder, key = found[0], item.data
    store = folder.store

    def run() -> list[tuple[Folder, Entity, list[int]]]:
        edges = (
            store.edges(kind="calls", dst=key) if incoming else store.edges(kind="calls", src=key)
        )
        ends = [(e.src if incoming else e.dst, e.line) for e in edges if e.dst]
        ents = store.get_entities(k for k, _ in ends if k)
        return [(folder, ents[k], [line]) for k, line in ends if k in ents]

    return await asyncio.to_thread(run)


def _line_range(line: int) -> types.Range:
    return types.Range(
        start=types.Position(line=line - 1, character=0),
        end=types.Position(line=line, character=0),
    )


@server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
async def incoming_calls(
    ls: IsgraphServer, params: types.CallHierarchyIncomingCallsParams
) -> list[types.CallHierarchyIncomingCall]:
    return [
        types.CallHierarchyIncomingCall(
            from_=_call_item(folder, e), from_ranges=[_line_range(n) for n in lines]
        )
        for folder, e, lines in await _calls(ls, params.item, incoming=True)
    ]


@server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
async def outgoing_calls(
    ls: IsgraphServer, params: types.CallHierarchyOutgoingCallsParams
) -> list[types.CallHierarchyOutgoingCall]:
    return [
        types.CallHierarchyOutgoingCall(
            to=_call_item(folder, e), from_ranges=[_line_range(n) for n in lines]
        )
        for folder, e, lines in await _calls(ls, params.item, incoming=False)
    ]


@server.feature("isgraph/query")
async def query(ls: IsgraphServer, params: Any) -> dict[str, Any]:
    """`{"query": "callers"|"callees"|"impact"|"search", "target": KEY or text, "depth": N,
    "limit": N}` -> `{"results": [...], "fresh": bool, "pending_files": N}`."""
    args = _as_dict(params)
    kind = args.get("query")
    target = args.get("target") or args.get("text")
    if kind not in QUERIES or not isinstance(target, str):
        raise ValueError(f"isgraph/query needs query in {QUERIES} and a string target")
    depth = int(args.get("depth") or (3 if kind == "impact" else 1))
    limit = int(args.get("limit") or 20)
    results: list[dict[str, Any]] = []
    for folder in ls.folders:
        store = folder.store
        if kind == "search":
            ents = await asyncio.to_thread(store.search, target, limit)
            results += [e.record() for e in ents]
            continue
        reach = await asyncio.to_thread(getattr(store, kind), target, depth)
        got = await asyncio.to_thread(store.get_entities, [r.key for r in reach])
        results += [{**got[r.key].record(), "depth": r.depth} for r in reach if r.key in got]
    pending = sum(len(f.pending) for f in ls.folders)
    fresh = all(f.ready.is_set() for f in ls.folders) and pending == 0
    return {"results": results, "fresh": fresh, "pending_files": pending}


def _as_dict(params: Any) -> dict[str, Any]:
    """Params of a custom request as a dict (pygls hands them over as a plain object)."""
    if isinstance(params, dict):
        return params
    if hasattr(params, "_asdict"):
        return dict(params._asdict())
    return {k: getattr(params, k) for k in dir(params) if not k.startswith("_")}


def serve(tcp: str | None = None) -> None:
    """Run the server on stdio, or on ``HOST:PORT`` for debugging."""
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
