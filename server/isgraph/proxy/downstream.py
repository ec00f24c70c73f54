"""One downstream language server: a process we talk to as an LSP client (pygls).

Lifecycle: started lazily (`ensure`), initialized with the workspace folders, told about the
documents it must know (`open`/`change`/`close`, reference-counted so that the editor and an
enrichment can share a document). A process that exits on its own, or whose output stops
making sense, is a *crash*: it is restarted after a backoff (0.5 s, 1 s, 2 s…) with its open
documents re-sent, and after ``max_restarts`` crashes within `CRASH_WINDOW_S` it is given up
(one clear message through ``notify``). `stop` is bounded at every step: `shutdown` and `exit`
get `STOP_STEP_S` each, then the process group is killed (jedi-language-server has been seen
to never exit after `exit`).

No orphans: each server runs in its own session (so `stop` kills its children too, e.g.
typescript-language-server's tsserver), under ``setpriv --pdeathsig KILL`` where available (so
the kernel kills it when we die, even by SIGKILL), and servers exit when their stdin closes.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, PyglsError
from pygls.lsp.client import LanguageClient

from isgraph import __version__
from isgraph.config import DownstreamSpec

log = logging.getLogger(__name__)

INIT_TIMEOUT_S = 30.0  # spawn + initialize (basedpyright on a cold cache takes seconds)
STOP_STEP_S = 1.0  # each of shutdown, exit, wait-for-exit
CRASH_WINDOW_S = 180.0  # crashes older than this are forgiven
STDERR_LINES = 20  # kept for the crash message
LATE_EXPIRY_S = 10.0  # a request not answered this long after we gave up on it is forgotten


@dataclass(slots=True)
class Doc:
    """A document as the editor has it (text mirrored for servers started later)."""

    uri: str
    language: str  # isgraph language name
    language_id: str  # LSP languageId as the editor sent it
    version: int
    text: str


def _pdeathsig_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` on Linux when util-linux has it, else nothing."""
    path = shutil.which("setpriv")
    return [path, "--pdeathsig", "KILL", "--"] if path and os.name == "posix" else []


_PREFIX = _pdeathsig_prefix()


class _Client(LanguageClient):
    """The pygls client for one process; answers what servers ask their client."""

    def __init__(self, owner: Downstream) -> None:
        super().__init__("isgraph", __version__)
        self.owner = owner
        self.errors = 0
        self.reported = False  # this process's crash was counted

        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [owner.setting(item.section) for item in params.items]

        def folders(params: Any) -> list[types.WorkspaceFolder]:
            return owner.folders()

        def apply_edit(params: Any) -> types.ApplyWorkspaceEditResult:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="read-only")

        on: Any = self.feature  # pygls's client decorator is untyped
        on(types.WORKSPACE_CONFIGURATION)(configuration)
        on(types.WORKSPACE_WORKSPACE_FOLDERS)(folders)
        on(types.WORKSPACE_APPLY_EDIT)(apply_edit)
        for method in (  # requests answered with null, notifications ignored
            types.WINDOW_WORK_DONE_PROGRESS_CREATE,
            types.CLIENT_REGISTER_CAPABILITY,
            types.CLIENT_UNREGISTER_CAPABILITY,
            types.WINDOW_SHOW_MESSAGE_REQUEST,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
            types.WINDOW_LOG_MESSAGE,
            types.WINDOW_SHOW_MESSAGE,
            types.PROGRESS,
            types.TELEMETRY_EVENT,
            types.LOG_TRACE,
            "$/typescriptVersion",  # typescript-language-server's own
            "pyright/beginProgress",  # basedpyright's own
            "pyright/reportProgress",
            "pyright/endProgress",
            "language/status",  # Eclipse jdtls's own
            "language/eventNotification",
        ):
            on(method)(_ignore)

    async def server_exit(self, server: asyncio.subprocess.Process) -> None:
        self.owner._exited(self, server.returncode)

    def report_server_error(
        self, error: Exception, source: type[PyglsError] | type[JsonRpcException]
    ) -> None:
        # Garbage on the wire: each one is logged; the request it should have answered
        # times out, and a reader that gave up counts as a crash (see `_watch_reader`).
        self.errors += 1
        log.debug("downstream %s: bad message: %s", self.owner.spec.name, error)


def _ignore(params: Any) -> None:
    return None


class Downstream:
    """One configured downstream server. All methods run on the event loop."""

    def __init__(
        self,
        spec: DownstreamSpec,
        roots: list[Path],
        docs: Callable[[], list[Doc]],
        notify: Callable[[str], None],
    ) -> None:
        self.spec = spec
        self.roots = roots
        self._docs = docs  # the editor's open documents (replayed to a fresh process)
        self._notify = notify
        self.settings: dict[str, Any] = dict(spec.settings or {})
        self.client: _Client | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.capabilities: types.ServerCapabilities | None = None
        self.failed = False  # gave up after repeated crashes
        self.starts = 0
        self.crashes: list[float] = []
        self._starting: asyncio.Task[_Client | None] | None = None
        self._restart: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refs: dict[str, int] = {}  # uri -> holders (editor, enrichment runs)
        self._stopping = False
        self.stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self.semaphore = asyncio.Semaphore(spec.concurrency)  # enrichment requests in flight
        self.late: dict[str, float] = {}  # requests given up on, not answered yet
        self._ready = False  # the current process answered `initialize`

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Initialized and alive: requests and notifications may be sent (none before the
        `initialize` answer, as LSP requires)."""
        return (
            self._ready
            and self.client is not None
            and not self.client.stopped
            and self.process is not None
        )

    async def ensure(self, timeout: float | None = None) -> _Client | None:
        """The initialized client, starting the process if needed; None if it is down, gave
        up, or is not ready within ``timeout`` (the start carries on in the background)."""
        if self.failed or self._stopping:
            return None
        if self.running and self._starting is None:
            return self.client
        if self._starting is None:
            if self._restart is not None and not self._restart.done():
                return None  # backing off after a crash
            self._starting = asyncio.create_task(self._start(), name=f"start-{self.spec.name}")
        try:
            return await asyncio.wait_for(asyncio.shield(self._starting), timeout)
        except TimeoutError:
            return None

    async def _start(self) -> _Client | None:
        try:
            return await asyncio.wait_for(self._spawn_and_initialize(), INIT_TIMEOUT_S)
        except FileNotFoundError as exc:
            self.failed = True
            await self._kill()
            self._notify(f"isgraph: downstream server {self.spec.name!r} not started: {exc}")
            return None
        except Exception as exc:  # refused to initialize, died, too slow: a crash
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            client = self.client
            await self._kill()
            if client is not None:
                self._fail(client, f"start failed: {reason}")
            return None
        finally:
            self._starting = None

    async def _spawn_and_initialize(self) -> _Client:
        exe = self.spec.command[0]
        if not (os.access(exe, os.X_OK) if os.sep in exe else shutil.which(exe)):
            raise FileNotFoundError(f"command not found: {exe}")
        client = _Client(self)
        self.client = client
        self._ready = False
        self.late = {}
        self.starts += 1
        cwd = str(self.roots[0]) if self.roots else None
        argv = [*_PREFIX, *self.spec.command]
        await client.start_io(argv[0], *argv[1:], cwd=cwd, start_new_session=True)
        proc = client._server
        assert proc is not None
        self.process = proc
        if proc.stderr is not None:
            self._spawn(self._drain_stderr(proc.stderr))
        self._spawn(self._watch_reader(client))
        result = await client.initialize_async(
            types.InitializeParams(
                process_id=os.getpid(),
                client_info=types.ClientInfo(name="isgraph", version=__version__),
                root_uri=self.roots[0].as_uri() if self.roots else None,
                workspace_folders=self.folders(),
                initialization_options=self.spec.initialization_options,
                capabilities=_CAPABILITIES,
            )
        )
        self.capabilities = result.capabilities
        client.initialized(types.InitializedParams())
        if self.settings:
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=self.settings)
            )
        self._refs = {}
        for doc in self._docs():
            if doc.language in self.spec.languages:
                self._send_open(client, doc.uri, doc.language_id, doc.version, doc.text)
                self._refs[doc.uri] = 1
        self._ready = True
        log.info("downstream %s started (pid %s)", self.spec.name, proc.pid)
        return client

    def folders(self) -> list[types.WorkspaceFolder]:
        return [types.WorkspaceFolder(uri=r.as_uri(), name=r.name) for r in self.roots]

    def setting(self, section: str | None) -> Any:
        """A `workspace/configuration` answer: the dotted ``section`` of our settings."""
        node: Any = self.settings
        for part in (section or "").split("."):
            if not part:
                continue
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        # An unread pipe fills (64 KiB) and blocks a chatty server such as clangd.
        with contextlib.suppress(Exception):
            while line := await stream.readline():
                self.stderr.append(line.decode(errors="replace").rstrip())

    async def _watch_reader(self, client: _Client) -> None:
        """A reader that stopped while the process lives (garbage it could not frame) leaves
        a server nobody can hear: treat it as a crash."""
        await asyncio.sleep(0)
        readers = [t for t in client._async_tasks if not t.done()][:1]
        if not readers:
            return
        with contextlib.suppress(BaseException):
            await readers[0]
        proc = client._server
        if proc is None or client is not self.client:
            return
        with contextlib.suppress(Exception):  # end of output at exit: `_exited` reports it
            await asyncio.wait_for(proc.wait(), 0.2)
        if proc.returncode is None and client is self.client:
            await self._kill()
            self._fail(client, "its output could not be read")

    def _exited(self, client: _Client, returncode: int | None) -> None:
        tail = " | ".join(list(self.stderr)[-3:])
        self._fail(client, f"exited with code {returncode}" + (f": {tail}" if tail else ""))

    def _fail(self, client: _Client, reason: str) -> None:
        """Count one crash per process, whichever way it is noticed first."""
        if client.reported or self._stopping:
            return
        client.reported = True
        if client is self.client:
            self.client = None
            self.process = None
            self._ready = False
        self._crashed(reason)

    def _crashed(self, reason: str) -> None:
        if self._stopping or self.failed:
            return
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < CRASH_WINDOW_S] + [now]
        if len(self.crashes) > self.spec.max_restarts:
            self.failed = True
            self._notify(
                f"isgraph: downstream server {self.spec.name!r} crashed {len(self.crashes)} "
                f"times ({reason}); not restarting it: hover and enrichment go on without it."
            )
            return
        delay = self.spec.backoff_ms / 1000 * 2 ** (len(self.crashes) - 1)
        log.warning(
            "downstream %s %s; restart %d/%d in %.1fs",
            self.spec.name,
            reason,
            len(self.crashes),
            self.spec.max_restarts,
            delay,
        )
        self._restart = asyncio.create_task(self._restart_after(delay))

    async def _restart_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._restart = None
        if not self._stopping and not self.failed and not self.running:
            await self.ensure()

    async def stop(self) -> None:
        """Shut the server down: `shutdown`, `exit`, wait — each bounded — then kill."""
        self._stopping = True
        pending = [t for t in (self._restart, self._starting) if t is not None and not t.done()]
        for task in pending:
            task.cancel()
        if pending:  # a start cut short has its process in self.process by now: killed below
            await asyncio.wait(pending, timeout=STOP_STEP_S)
        client, proc = self.client, self.process
        if client is not None and proc is not None and proc.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_async(None), STOP_STEP_S)
                client.exit(None)
                if proc.stdin is not None:
                    proc.stdin.close()  # EOF: a server that ignores `exit` still sees this
                await asyncio.wait_for(proc.wait(), STOP_STEP_S)
        await self._kill()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _kill(self) -> None:
        """Kill the process and its group (its own children), never waiting unbounded."""
        client, proc = self.client, self.process
        self.client = None
        self.process = None
        self._ready = False
        if client is not None:
            client._stop_event.set()  # the reader loop ends at its next message
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: pgid == pid
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.wait(), STOP_STEP_S)
        if client is not None:
            for task in client._async_tasks:
                task.cancel()

    # -- documents ----------------------------------------------------------------------
    def _send_open(
        self, client: _Client, uri: str, language_id: str, version: int, text: str
    ) -> None:
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=version, text=text
                )
            )
        )

    def open(self, uri: str, language_id: str, version: int, text: str) -> None:
        """One more holder of ``uri``; the server hears `didOpen` for the first one."""
        held = self._refs.get(uri, 0)
        self._refs[uri] = held + 1
        if held == 0 and self.running and self.client is not None:
            self._send_open(self.client, uri, language_id, version, text)

    def change(self, uri: str, version: int, text: str) -> None:
        """Send the whole new text (valid whatever sync kind the server asked for)."""
        if self._refs.get(uri) and self.running and self.client is not None:
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )

    def close(self, uri: str) -> None:
        held = self._refs.get(uri, 0)
        if held <= 1:
            self._refs.pop(uri, None)
            if held == 1 and self.running and self.client is not None:
                self.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(
                        text_document=types.TextDocumentIdentifier(uri=uri)
                    )
                )
        else:
            self._refs[uri] = held - 1

    def is_open(self, uri: str) -> bool:
        return bool(self._refs.get(uri))

    def configure(self, settings: Any) -> None:
        """The editor changed its settings: merge them over ours and tell the server."""
        if isinstance(settings, dict):
            self.settings = _deep_merge(dict(self.spec.settings or {}), settings)
        if self.running and self.client is not None:
            self.client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=self.settings)
            )

    # -- requests -----------------------------------------------------------------------
    async def request(self, method: str, params: Any, timeout: float) -> Any:
        """Send a request; on timeout cancel it (`$/cancelRequest`) and raise TimeoutError."""
        client = self.client
        if client is None or not self.running:
            raise ConnectionError(f"{self.spec.name} is not running")
        msg_id = uuid.uuid4().hex
        fut = client.protocol.send_request_async(method, params, msg_id=msg_id)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._give_up_on(client, msg_id)
            raise TimeoutError(f"{self.spec.name}: {method} took over {timeout:.2f}s") from None
        except asyncio.CancelledError:  # the hover was answered without us
            self._give_up_on(client, msg_id)
            raise

    @property
    def busy(self) -> bool:
        """Still working on a request we stopped waiting for: a new one would queue behind
        it (servers such as jedi-language-server answer one at a time), so an interactive
        request leaves this server out at once instead of waiting its timeout for nothing."""
        now = time.monotonic()
        expiry = max(LATE_EXPIRY_S, 10 * self.spec.timeout_ms / 1000)
        return any(now - t < expiry for t in self.late.values())

    def _give_up_on(self, client: _Client, msg_id: str) -> None:
        """Send `$/cancelRequest`, and remember the request until its late answer arrives
        (a fresh future takes it: the awaited one is cancelled and cannot be resolved)."""
        futures = client.protocol._request_futures
        if msg_id in futures:
            placeholder: concurrent.futures.Future[Any] = concurrent.futures.Future()
            futures[msg_id] = placeholder
            self.late[msg_id] = time.monotonic()
            placeholder.add_done_callback(lambda _: self.late.pop(msg_id, None))
        with contextlib.suppress(Exception):
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


_CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True,
        workspace_folders=True,
        did_change_configuration=types.DidChangeConfigurationClientCapabilities(
            dynamic_registration=False
        ),
    ),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(dynamic_registration=False),
        hover=types.HoverClientCapabilities(
            content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
        ),
        definition=types.DefinitionClientCapabilities(link_support=False),
        # jedi-language-server picks its hover markup from the completion documentation
        # formats: without this it answers in plain text.
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(
                documentation_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
            )
        ),
    ),
    window=types.WindowClientCapabilities(work_done_progress=False),
    general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
)
