"""`isgraph serve`: a pygls 2 language server over the index of each workspace folder.

This module holds the server object, its lifecycle (initialize, folders, settings, progress)
and document sync; `features` the graph-backed LSP features, `commands` the commands and the
custom requests, `run` the stdio and TCP loops.

Features backed by the graph: workspace/symbol (ranked fuzzy search), documentSymbol
(hierarchical), hover (kind, signature, where defined, callers / callees / impact counts),
definition, references, call and type hierarchies, code lens (callers · impact), code actions
(callers, impact or candidates of the word under the cursor), the commands `isgraph.reindex`,
`isgraph.impact`, `isgraph.callers`, `isgraph.candidates`, `isgraph.stats`, `isgraph.verify`,
and the custom request
`isgraph/query`
(callers, callees, impact, cycles, search) returning the CLI's JSON records plus how fresh
they are. Indexing runs in the background with `$/progress`; changes on disk, saves and unsaved
edits re-index. Settings come from initializationOptions and workspace/didChangeConfiguration.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from isgraph import __version__
from isgraph.config import SETTING_KEYS, ConfigError, DownstreamSpec, validate_settings
from isgraph.index.service import PHASE_WORDS
from isgraph.proxy import lsp as proxy
from isgraph.proxy.manager import DownstreamManager
from isgraph.workspace import Folder

log = logging.getLogger(__name__)

SETTINGS_SECTION = "isgraph"  # workspace/configuration section; also accepted nested
CONFIG_PULL_TIMEOUT_S = 2.0


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
        self.adding: set[Folder] = set()  # folders whose store is being opened
        self.closing = False  # close_folders() was called: no folder is added any more
        self.shut_down = False  # `shutdown` was received
        # `exit` was received: the process's exit code (LSP: 0 after `shutdown`, else 1). Kept
        # here because pygls raises its SystemExit from a callback, which the loop's teardown
        # turns into a cancellation before `lsp.run` sees it.
        self.exit_code: int | None = None

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
        if self.closing or any(f.root == root.resolve() for f in self.folders):
            return
        if folder is None:
            folder = Folder(root, self.settings, self.notify, self.trusted)
        self.opening += 1
        self.adding.add(folder)
        try:
            await folder.open()
            if self.closing:  # the server is exiting: close_folders() closed it
                return
            self.folders.append(folder)  # only now: requests read its store
            proxy.enrich(self.proxy, folder)  # before the first index: it feeds enrichment
            folder.start(*(await _progress(self, folder) if progress else (None, None, None)))
        finally:
            self.adding.discard(folder)
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
        """Flush every folder's writer, stop its pool and close its store; a folder still
        being added is closed too and never starts (it would index on past the exit)."""
        self.closing = True
        folders, self.folders = [*self.folders, *self.adding], []
        results = await asyncio.gather(*(f.close() for f in folders), return_exceptions=True)
        for folder, result in zip(folders, results, strict=True):
            if isinstance(result, BaseException):
                log.error("closing %s: %r", folder.root, result)

    def selected(self, args: tuple[Any, ...]) -> list[Folder]:
        """The folders a command's ``{"folder": URI}`` argument names, else every folder."""
        for arg in args:
            spec = as_dict(arg) if not isinstance(arg, str) else {}
            uri = spec.get("folder")
            if isinstance(uri, str):
                path = to_fs_path(uri) if ":" in uri else uri
                chosen = [f for f in self.folders if path and f.root == Path(path).resolve()]
                if not chosen:
                    raise ValueError(f"no workspace folder {uri}")
                return chosen
        return list(self.folders)


def as_dict(params: Any) -> dict[str, Any]:
    """Params of a custom request as a dict (pygls hands them over as a plain object)."""
    if isinstance(params, dict):
        return params
    if hasattr(params, "_asdict"):
        return dict(params._asdict())
    if params is None or isinstance(params, (str, int, float, list, tuple)):
        raise ValueError(f"expected an object, got {params!r}")
    return {k: getattr(params, k) for k in dir(params) if not k.startswith("_")}


def _settings_table(raw: Any) -> dict[str, Any] | None:
    """The isgraph keys of a settings object: ``{"isgraph": {...}}`` or the keys themselves."""
    if raw is None:
        return None
    table = as_dict(raw) if not isinstance(raw, dict) else raw
    if not isinstance(table, dict):
        return None
    nested = table.get(SETTINGS_SECTION)
    if nested is not None:
        inner = as_dict(nested) if not isinstance(nested, dict) else nested
        table = inner if isinstance(inner, dict) else None
        if table is None:
            return None
    return {k: v for k, v in table.items() if k not in SERVER_OPTIONS}


server = IsgraphServer()


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


PROGRESS_EVERY_S = 0.5  # a report at least this often while files complete
PROGRESS_HEARTBEAT_S = 0.8  # with nothing new for this long, the last report again, timed


async def _progress(ls: IsgraphServer, folder: Folder) -> tuple[Any, Any, Any]:
    """Callbacks reporting `$/progress` (files done of found, then files whose edges are
    resolved, then the end once the run, resolution included, is over), if the client
    supports it; else (None, None, None).

    Reports come on steps that mean something (a thousand files found, 5 % done, "checking N
    files" once on a warm start), and at least every PROGRESS_EVERY_S while files complete. A
    step that reports nothing for longer (loading the symbol table, indexing stubs, a slow
    write) gets a heartbeat: the last message with the seconds it has lasted, so an editor
    never shows a frozen bar for more than a second."""
    window = ls.client_capabilities.window
    if window is None or not window.work_done_progress:
        return None, None, None
    token = f"isgraph-index-{uuid.uuid4().hex[:8]}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception:  # the client refused the token: index without progress
        return None, None, None
    ls.work_done_progress.begin(
        token, types.WorkDoneProgressBegin(title=f"isgraph: indexing {folder.root.name}")
    )
    state = {"ended": False, "total": -1, "pct": -1, "found": 0, "done": 0}
    now = time.monotonic
    last: dict[str, Any] = {"at": now(), "since": now(), "message": "finding files", "pct": None}

    def report(message: str, pct: int | None = None) -> None:
        if message.split(":")[0] != last["message"].split(":")[0]:
            last["since"] = now()  # a new step: its heartbeat counts from here
        last.update(at=now(), message=message, pct=pct)
        ls.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=message, percentage=pct)
        )

    async def heartbeat() -> None:
        while not state["ended"] and not ls.closing:
            await asyncio.sleep(PROGRESS_HEARTBEAT_S / 4)
            if not state["ended"] and now() - last["at"] >= PROGRESS_HEARTBEAT_S:
                lasted = now() - last["since"]
                last["at"] = now()
                ls.work_done_progress.report(
                    token,
                    types.WorkDoneProgressReport(
                        message=f"{last['message']} ({lasted:.0f} s)", percentage=last["pct"]
                    ),
                )

    beating = asyncio.create_task(heartbeat())

    def progress(done: int, seen: int, discovered_all: bool) -> None:
        """Reports that mean something: while files are still being found, one per thousand
        found (the total is not known yet); once it is, "checking N files" once, then one
        per 5 % done; and at least every PROGRESS_EVERY_S. A warm start that parses nothing
        says "checking N files" once."""
        # The pipeline's last call comes before stubs and resolution: not the end yet (an
        # editor that waits for the end must see callers and impact resolved).
        if state["ended"]:
            return
        state["done"] = done
        due = now() - last["at"] >= PROGRESS_EVERY_S
        if not discovered_all:
            if seen // 1000 > state["found"] or due:
                state["found"] = seen // 1000
                report(f"checking: {seen} files found, {done} done")
            return
        pct = int(100 * done / seen) if seen else 100
        if state["total"] != seen:
            state["total"], state["pct"] = seen, pct
            report(f"checking {seen} files", pct)
        elif pct >= state["pct"] + 5 or (done == seen and pct != state["pct"]) or due:
            state["pct"] = pct
            report(f"{done}/{seen} files", pct)

    def phase(name: str, done: int, total: int) -> None:
        if state["ended"]:
            return
        pct = int(100 * done / total) if total else 0
        report(f"{PHASE_WORDS.get(name, name)}: {done}/{total} files", pct)

    def end() -> None:
        if not state["ended"]:
            state["ended"] = True
            beating.cancel()
            total = state["total"] if state["total"] >= 0 else state["done"]
            ls.work_done_progress.end(
                token, types.WorkDoneProgressEnd(message=f"indexed {total} files")
            )

    return progress, end, phase


@server.feature(types.EXIT)
def exit_(ls: IsgraphServer, params: None) -> None:
    ls.exit_code = 0 if ls.shut_down else 1


@server.feature(types.SHUTDOWN)
async def shutdown(ls: IsgraphServer, params: None) -> None:
    ls.shut_down = True
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
    if table is not None and (SETTINGS_SECTION in as_dict(params.settings) or _known(table)):
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


# The handlers of these modules register on `server` when imported.
from isgraph.lsp import commands, features  # noqa: E402, F401
