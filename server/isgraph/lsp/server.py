"""`isgraph serve`: a pygls 2 language server over the index of each workspace folder.

Features backed by the graph: workspace/symbol (ranked fuzzy search), documentSymbol
(hierarchical), hover (kind, signature, where defined, callers / callees / impact counts),
definition, references, call and type hierarchies, code lens (callers · impact), the commands
`isgraph.reindex`, `isgraph.impact`, `isgraph.stats`, and the custom request `isgraph/query`
(callers, callees, impact, cycles, search) returning the CLI's JSON records plus how fresh
they are. Indexing runs in the background with `$/progress`; changes on disk, saves and unsaved
edits re-index. Settings come from initializationOptions and workspace/didChangeConfiguration.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from isgraph import __version__
from isgraph.config import SETTING_KEYS, ConfigError, DownstreamSpec, validate_settings
from isgraph.lsp.workspace import Folder
from isgraph.model import EdgeKind, Entity, is_external
from isgraph.proxy import lsp as proxy
from isgraph.proxy.manager import DownstreamManager
from isgraph.queries import find_targets, reach_records
from isgraph.store.base import Store

log = logging.getLogger(__name__)

SYMBOL_LIMIT = 100
QUERIES = ("callers", "callees", "impact", "cycles", "search")
SETTINGS_SECTION = "isgraph"  # workspace/configuration section; also accepted nested
CONFIG_PULL_TIMEOUT_S = 2.0
TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum"})
LENS_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "function", "method"})

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


class _Dropped:
    """Stands for a message that could not be read; pygls ignores it (unknown version)."""

    jsonrpc = "invalid"


class IsgraphProtocol(LanguageServerProtocol):
    """Answers a request whose params do not fit the method's schema with InvalidParams.

    pygls 2 logs such a request and drops it, so the client waits forever for an answer
    that JSON-RPC says it must get (found by tests/lsp/test_abuse.py)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                self._send_response(data["id"], error=exc.to_response_error())
            return _Dropped()


# initializationOptions keys that are not configuration keys (config.py's)
SERVER_OPTIONS = frozenset({"trustWorkspace"})


class IsgraphServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("isgraph", __version__, protocol_cls=IsgraphProtocol)
        self.folders: list[Folder] = []
        self.settings: dict[str, Any] = {}  # validated configuration keys (config.py's)
        self.opening = 1  # folders being opened (1 until `initialized` has opened the first)
        # Downstream language servers (hover, enrichment): None when none is configured.
        self.proxy: DownstreamManager | None = None
        self.downstream_options: tuple[DownstreamSpec, ...] | None = None
        self.option_errors: list[str] = []
        self.trusted: bool | None = None  # initializationOptions.trustWorkspace

    def folder_of(self, uri: str) -> tuple[Folder, str] | None:
        """The folder holding a document and the document's repo-relative path; None for a
        file outside every folder (never read)."""
        path = to_fs_path(uri)
        if path is None:
            return None
        # The innermost folder wins (a folder may be nested in another).
        for folder in sorted(self.folders, key=lambda f: -len(f.root.parts)):
            rel = folder.relpath(Path(path))
            if rel is not None:
                return folder, rel
        return None

    def notify(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        log.warning("%s", message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def apply_settings(self, raw: Any, source: str) -> bool:
        """Validate settings key by key; a bad key keeps its previous value and is reported
        with ``window/showMessage``. True when the settings changed."""
        table = _settings_table(raw)
        if table is None:
            return False
        good, bad = validate_settings(table, source)
        for message in bad.values():
            self.notify(f"isgraph: {message}; keeping the previous value", types.MessageType.Error)
        # Keys given a bad value keep what they had; keys left out return to their defaults.
        new = {**{k: v for k, v in self.settings.items() if k in bad}, **good}
        changed = new != self.settings
        self.settings = new
        return changed

    async def add_folder(
        self, root: Path, progress: bool = True, folder: Folder | None = None
    ) -> None:
        """Open a folder's store and index it in the background (``folder``: made already)."""
        if any(f.root == root.resolve() for f in self.folders):
            return
        if folder is None:
            folder = Folder(root, self.settings, self.notify, self.trusted)
        self.opening += 1
        try:
            await folder.open()
            self.folders.append(folder)  # only now: requests read its store
            proxy.enrich(self.proxy, folder)  # before the first index: it feeds enrichment
            folder.start(*(await _progress(self, folder) if progress else (None, None)))
        finally:
            self.opening -= 1

    @property
    def fresh(self) -> bool:
        """Every folder open, indexed and without changes waiting."""
        return self.opening == 0 and all(f.fresh for f in self.folders)

    async def remove_folder(self, root: Path) -> None:
        for folder in [f for f in self.folders if f.root == root.resolve()]:
            self.folders.remove(folder)
            await folder.close()

    async def close_folders(self) -> None:
        """Flush every folder's writer, stop its pool and close its store."""
        folders, self.folders = self.folders, []
        results = await asyncio.gather(*(f.close() for f in folders), return_exceptions=True)
        for folder, result in zip(folders, results, strict=True):
            if isinstance(result, BaseException):
                log.error("closing %s: %r", folder.root, result)

    def selected(self, args: tuple[Any, ...]) -> list[Folder]:
        """The folders a command's ``{"folder": URI}`` argument names, else every folder."""
        for arg in args:
            spec = _as_dict(arg) if not isinstance(arg, str) else {}
            uri = spec.get("folder")
            if isinstance(uri, str):
                path = to_fs_path(uri) if ":" in uri else uri
                chosen = [f for f in self.folders if path and f.root == Path(path).resolve()]
                if not chosen:
                    raise ValueError(f"no workspace folder {uri}")
                return chosen
        return list(self.folders)


def _settings_table(raw: Any) -> dict[str, Any] | None:
    """The isgraph keys of a settings object: ``{"isgraph": {...}}`` or the keys themselves."""
    if raw is None:
        return None
    table = _as_dict(raw) if not isinstance(raw, dict) else raw
    if not isinstance(table, dict):
        return None
    nested = table.get(SETTINGS_SECTION)
    if nested is not None:
        inner = _as_dict(nested) if not isinstance(nested, dict) else nested
        table = inner if isinstance(inner, dict) else None
        if table is None:
            return None
    return {k: v for k, v in table.items() if k not in SERVER_OPTIONS}


server = IsgraphServer()


def _location(folder: Folder, e: Entity) -> types.Location:
    uri = from_fs_path(str(folder.root / e.path)) or ""
    return types.Location(uri=uri, range=_range(e))


def _range(e: Entity) -> types.Range:
    return types.Range(
        start=types.Position(line=max(0, e.start_line - 1), character=e.start_col),
        end=types.Position(line=max(0, e.end_line - 1), character=e.end_col),
    )


# -- lifecycle ----------------------------------------------------------------------------------
@server.feature(types.INITIALIZE)
def initialize(ls: IsgraphServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("trustWorkspace"), bool):
        ls.trusted = options["trustWorkspace"]
    if isinstance(options, dict) and "downstream" in options:
        try:
            ls.downstream_options = proxy.specs_from_options(options)
        except ConfigError as exc:
            ls.option_errors.append(proxy.config_error(exc))
        options = {k: v for k, v in options.items() if k != "downstream"}
    ls.apply_settings(options, "initializationOptions")


@server.feature(types.INITIALIZED)
async def initialized(ls: IsgraphServer, params: types.InitializedParams) -> None:
    await _pull_settings(ls)
    roots = [to_fs_path(f.uri) for f in (ls.workspace.folders or {}).values()]
    if not roots and ls.workspace.root_path:
        roots = [ls.workspace.root_path]
    folders = [Folder(Path(r), ls.settings, ls.notify, ls.trusted) for r in roots if r]
    # The downstream manager first (from the folders' configuration; stores still to open),
    # so that documents opened from now on are mirrored to its servers.
    ls.proxy = proxy.build(folders, ls.downstream_options, ls.notify)
    for message in ls.option_errors:
        ls.notify(message)
    try:
        for folder in folders:
            await ls.add_folder(folder.root, folder=folder)
    finally:
        ls.opening -= 1


async def _pull_settings(ls: IsgraphServer) -> bool:
    """Ask the client for the ``isgraph`` section (clients that keep settings themselves, as
    VS Code does, send a didChangeConfiguration without them). True if they changed."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return False
    try:
        got = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SETTINGS_SECTION)])
            ),
            CONFIG_PULL_TIMEOUT_S,
        )
    except Exception as exc:  # a client that does not answer: keep what we have
        log.info("workspace/configuration failed: %r", exc)
        return False
    if not got or got[0] is None:
        return False
    return ls.apply_settings({SETTINGS_SECTION: got[0]}, "workspace/configuration")


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
    await ls.close_folders()
    if ls.proxy is not None:  # bounded: every step has a timeout, then the process is killed
        await ls.proxy.shutdown()


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
async def did_change_workspace_folders(
    ls: IsgraphServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    for gone in params.event.removed:
        path = to_fs_path(gone.uri)
        if path is not None:
            await ls.remove_folder(Path(path))
    for new in params.event.added:
        path = to_fs_path(new.uri)
        if path is not None:
            await ls.add_folder(Path(path))


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: IsgraphServer, params: types.DidChangeConfigurationParams
) -> None:
    table = _settings_table(params.settings)
    if table is not None and (SETTINGS_SECTION in _as_dict(params.settings) or _known(table)):
        changed = ls.apply_settings(params.settings, "workspace/didChangeConfiguration")
    else:  # a pull-model client: the new values are to be asked for
        changed = await _pull_settings(ls)
    if changed:
        await asyncio.gather(*(f.reconfigure(ls.settings) for f in ls.folders))
    if ls.proxy is not None:  # the downstream servers get the editor's settings too
        ls.proxy.did_change_configuration(params.settings)


def _known(table: Mapping[str, Any]) -> bool:
    return any(k.replace("-", "_") in SETTING_KEYS for k in table)


# -- document sync (mirrored to the downstream servers; pygls keeps `ls.workspace` itself) ---------
@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: IsgraphServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    if ls.proxy is not None:
        ls.proxy.did_open(doc.uri, doc.language_id, doc.version, doc.text)
    found = ls.folder_of(doc.uri)
    if found is not None:
        await found[0].opened(found[1], doc.text.encode("utf-8", "surrogatepass"))


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: IsgraphServer, params: types.DidSaveTextDocumentParams) -> None:
    found = ls.folder_of(params.text_document.uri)
    if found is not None:
        found[0].saved(found[1])


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: IsgraphServer, params: types.DidChangeTextDocumentParams) -> None:
    """An unsaved edit: the editor's text (pygls applied the changes) is indexed, debounced."""
    doc = ls.workspace.get_text_document(params.text_document.uri)
    if ls.proxy is not None:
        ls.proxy.did_change(params.text_document.uri, params.text_document.version, doc.source)
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return
    found[0].edited(found[1], doc.source.encode("utf-8", "surrogatepass"))


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: IsgraphServer, params: types.DidCloseTextDocumentParams) -> None:
    if ls.proxy is not None:
        ls.proxy.did_close(params.text_document.uri)
    found = ls.folder_of(params.text_document.uri)
    if found is not None:
        found[0].closed(found[1])


# -- features -----------------------------------------------------------------------------------
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
    """Graph facts for the entity at the cursor, after what the downstream servers say."""
    uri, pos = params.text_document.uri, params.position
    found = ls.folder_of(uri)
    if found is None and ls.proxy is None:
        return None

    def facts() -> tuple[str | None, Entity | None]:
        if found is None:
            return None, None
        folder, rel = found
        store = folder.store
        e = _at(store, rel, pos.line + 1)
        if e is None:
            return None, None
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
        return "\n\n".join(lines), e

    text = await proxy.hover_text(
        ls.proxy,
        uri,
        pos.line,
        pos.character,
        asyncio.to_thread(facts),
        lambda: ls.workspace.get_text_document(uri).lines,
    )
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


def _item_fields(folder: Folder, e: Entity, default: types.SymbolKind) -> dict[str, Any]:
    """What call- and type-hierarchy items of an entity share."""
    return {
        "name": e.name,
        "kind": _KINDS.get(e.kind, default),
        "uri": from_fs_path(str(folder.root / e.path)) or "",
        "range": _range(e),
        "selection_range": _range(e),
        "detail": e.qualname,
        "data": e.key,
    }


def _call_item(folder: Folder, e: Entity) -> types.CallHierarchyItem:
    return types.CallHierarchyItem(**_item_fields(folder, e, types.SymbolKind.Function))


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


def _type_item(folder: Folder, e: Entity) -> types.TypeHierarchyItem:
    return types.TypeHierarchyItem(**_item_fields(folder, e, types.SymbolKind.Class))


@server.feature(types.TEXT_DOCUMENT_PREPARE_TYPE_HIERARCHY)
async def prepare_type_hierarchy(
    ls: IsgraphServer, params: types.TypeHierarchyPrepareParams
) -> list[types.TypeHierarchyItem]:
    """The innermost class (struct, interface, …) whose lines hold the cursor."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    line = params.position.line + 1

    def innermost() -> Entity | None:
        inside = [
            e
            for e in folder.store.find_entities(path=rel)
            if e.kind in TYPE_KINDS and e.start_line <= line <= e.end_line
        ]
        return min(inside, key=lambda e: e.end_line - e.start_line, default=None)

    e = await asyncio.to_thread(innermost)
    return [] if e is None else [_type_item(folder, e)]


async def _types(
    ls: IsgraphServer, item: types.TypeHierarchyItem, supertypes: bool
) -> list[types.TypeHierarchyItem]:
    """Classes one resolved ``inherits`` edge away: bases (supertypes) or subclasses."""
    found = ls.folder_of(item.uri)
    if found is None or not isinstance(item.data, str):
        return []
    folder, key = found[0], item.data
    store = folder.store

    def run() -> list[Entity]:
        if supertypes:
            ends = [e.dst for e in store.edges(kind=EdgeKind.INHERITS, src=key) if e.dst]
        else:
            ends = [e.src for e in store.edges(kind=EdgeKind.INHERITS, dst=key)]
        got = store.get_entities(ends)
        return [got[k] for k in dict.fromkeys(ends) if k in got]

    return [_type_item(folder, e) for e in await asyncio.to_thread(run)]


@server.feature(types.TYPE_HIERARCHY_SUPERTYPES)
async def supertypes(
    ls: IsgraphServer, params: types.TypeHierarchySupertypesParams
) -> list[types.TypeHierarchyItem]:
    return await _types(ls, params.item, supertypes=True)


@server.feature(types.TYPE_HIERARCHY_SUBTYPES)
async def subtypes(
    ls: IsgraphServer, params: types.TypeHierarchySubtypesParams
) -> list[types.TypeHierarchyItem]:
    return await _types(ls, params.item, supertypes=False)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=True))
async def code_lens(ls: IsgraphServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """A lens on every function, method and class; its counts come with `codeLens/resolve`
    (an editor resolves only the lenses it shows)."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    ents = await asyncio.to_thread(folder.store.find_entities, path=rel)
    return [
        types.CodeLens(
            range=types.Range(start=_range(e).start, end=_range(e).start),
            data={"uri": params.text_document.uri, "key": e.key},
        )
        for e in ents
        if e.kind in LENS_KINDS
    ]


@server.feature(types.CODE_LENS_RESOLVE)
async def code_lens_resolve(ls: IsgraphServer, lens: types.CodeLens) -> types.CodeLens:
    data = _as_dict(lens.data) if lens.data is not None else {}
    uri, key = data.get("uri"), data.get("key")
    found = ls.folder_of(uri) if isinstance(uri, str) else None
    if found is None or not isinstance(key, str):
        raise ValueError("codeLens/resolve: the lens carries no isgraph data")
    store = found[0].store

    def counts() -> tuple[int, int]:
        return len(store.callers(key, 1)), len(store.impact(key, 3))

    callers, impact = await asyncio.to_thread(counts)
    noun = "caller" if callers == 1 else "callers"
    lens.command = types.Command(
        title=f"{callers} {noun} · impact {impact}", command="isgraph.impact", arguments=[key]
    )
    return lens


# -- commands and custom requests -----------------------------------------------------------
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
        stats = await asyncio.to_thread(folder.store.stats)
        records.append({"root": str(folder.root), **stats.record()})
    return _summed(records)


@server.command("isgraph.impact")
async def cmd_impact(ls: IsgraphServer, *args: Any) -> list[dict[str, Any]]:
    """``KEY|NAME`` or ``{"target": KEY|NAME, "depth": N}``: `isgraph impact --json`'s records
    (with "depth" and "target"), over every folder."""
    target: Any = args[0] if args else None
    depth: Any = 3
    if target is not None and not isinstance(target, str):
        spec = _as_dict(target)
        target, depth = spec.get("target"), spec.get("depth", 3)
    elif len(args) > 1:
        depth = args[1]
    if not isinstance(target, str) or not target:
        raise ValueError('isgraph.impact needs a KEY or NAME (or {"target": ..., "depth": N})')
    depth = _bounded_int(depth, "depth", 1, 50)
    records: list[dict[str, Any]] = []
    for folder in ls.selected(args[1:]):
        store = folder.store

        def run(store: Store = store) -> list[dict[str, Any]]:
            return reach_records(
                store, find_targets(store, target), lambda s, k, d: s.impact(k, d), depth
            )

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
    `{"results": [...], "fresh": bool, "pending_files": N}`."""
    args = _as_dict(params)
    kind = args.get("query")
    target = args.get("target") or args.get("text") or ""
    if kind not in QUERIES or (kind != "cycles" and not (isinstance(target, str) and target)):
        raise ValueError(f"isgraph/query needs query in {QUERIES} and a string target")
    depth = _bounded_int(args.get("depth") or (3 if kind == "impact" else 1), "depth", 1, 50)
    limit = _bounded_int(args.get("limit") or (100 if kind == "cycles" else 20), "limit", 1, 10_000)
    results: list[Any] = []
    for folder in ls.folders:
        store = folder.store
        if kind == "search":
            ents = await asyncio.to_thread(store.search, target, limit)
            results += [e.record() for e in ents]
        elif kind == "cycles":
            edge_kind = args.get("kind") or "calls"
            if edge_kind not in set(EdgeKind):
                raise ValueError(f"kind must be one of {sorted(EdgeKind)}, got {edge_kind!r}")
            results += await asyncio.to_thread(store.cycles, edge_kind, limit)
        else:
            reach = await asyncio.to_thread(getattr(store, kind), target, depth)
            got = await asyncio.to_thread(store.get_entities, [r.key for r in reach])
            results += [{**got[r.key].record(), "depth": r.depth} for r in reach if r.key in got]
    pending = sum(f.pending_files for f in ls.folders)
    return {"results": results, "fresh": ls.fresh, "pending_files": pending}


@server.feature("isgraph/confirmEdges")
async def confirm_edges(ls: IsgraphServer, params: Any) -> dict[str, int]:
    """`{"uri": URI}` -> counts: the file's inferred calls checked with a downstream server's
    `definition`; confirmed or corrected ones become exact (proxy/confirm.py)."""
    uri = _as_dict(params).get("uri")
    found = ls.folder_of(uri) if isinstance(uri, str) else None
    if found is None:
        raise ValueError("isgraph/confirmEdges needs the uri of a file in a workspace folder")
    return await proxy.confirm_edges(ls.proxy, found[0], found[1])


def _as_dict(params: Any) -> dict[str, Any]:
    """Params of a custom request as a dict (pygls hands them over as a plain object)."""
    if isinstance(params, dict):
        return params
    if hasattr(params, "_asdict"):
        return dict(params._asdict())
    if params is None or isinstance(params, (str, int, float, list, tuple)):
        raise ValueError(f"expected an object, got {params!r}")
    return {k: getattr(params, k) for k in dir(params) if not k.startswith("_")}


# -- running ----------------------------------------------------------------------------------
def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run the server on stdio, or for one client on TCP ``(host, port)`` (debugging)."""
    code: str | int | None = 0
    try:
        asyncio.run(_serve_stdio() if tcp is None else _serve_tcp(*tcp))
    except SystemExit as exc:  # `exit`: 0 after `shutdown`, else 1 (pygls follows the spec)
        code = exc.code
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
    if code:
        sys.exit(code)


async def _serve_tcp(host: str, port: int) -> None:
    """One client over TCP. When it disconnects (or sends `exit`), the folders are closed as
    on stdio and the process ends: pygls's own `start_tcp` would leave writers unflushed and
    the parser pools running."""
    done = asyncio.Event()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if done.is_set() or server.protocol.writer is not None:
            writer.close()  # one client per process, as for stdio
            return
        server.protocol.set_writer(writer)
        try:
            await run_async(
                stop_event=threading.Event(),
                reader=reader,
                protocol=server.protocol,
                logger=log,
                error_handler=server.report_server_error,
            )
        finally:
            try:
                await server.close_folders()
            finally:
                done.set()

    listener = await asyncio.start_server(connection, host, port)
    addrs = ", ".join(str(sock.getsockname()) for sock in listener.sockets)
    print(f"isgraph: listening on {addrs}", file=sys.stderr, flush=True)
    async with listener:
        await done.wait()


async def _serve_stdio() -> None:
    """pygls's stdio loop, plus what its `start_io` lacks: when the client goes away (stdin
    closed) without `shutdown`/`exit`, the writers are flushed and the pools stopped before
    the event loop ends (cancelled instead, queued writes would be lost)."""
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        await run_async(
            stop_event=threading.Event(),
            reader=StdinAsyncReader(sys.stdin.buffer, server.thread_pool),
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    finally:
        await server.close_folders()
