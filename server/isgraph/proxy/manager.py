"""Every configured downstream server: routing by language, the editor's documents mirrored
to them, hover and definition fanned out with a per-server timeout, shutdown of them all.

A request fans out to every server of the document's language at once (`asyncio.gather`);
each server's part — waiting for its start, then the request — is bounded by its own
``timeout_ms``, so an answer costs the slowest server's time, never the sum, and a server that
is slow, broken or down is simply left out of that answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from isgraph.config import DownstreamSpec
from isgraph.index.languages import language_for
from isgraph.proxy.downstream import INIT_TIMEOUT_S, STOP_STEP_S, Doc, Downstream
from isgraph.proxy.hover import markdown_of

log = logging.getLogger(__name__)

# LSP languageIds that are not isgraph's language names.
_LANGUAGE_IDS = {
    "typescriptreact": "tsx",
    "javascriptreact": "javascript",
    "c++": "cpp",
    "objective-c": "c",
    "csharp": "csharp",
}

LANGUAGE_IDS = {  # isgraph language -> the LSP languageId to send for files we open ourselves
    "tsx": "typescriptreact",
    "c": "c",
    "cpp": "cpp",
}


def language_of(uri: str, language_id: str | None = None) -> str | None:
    """isgraph's language of a document: by extension, else by the editor's languageId."""
    path = to_fs_path(uri) or uri
    return language_for(path) or _LANGUAGE_IDS.get(language_id or "", language_id or None)


class DownstreamManager:
    """The downstream servers of one isgraph process (language server or CLI run)."""

    def __init__(
        self,
        specs: Sequence[DownstreamSpec],
        roots: Sequence[Path],
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.docs: dict[str, Doc] = {}
        self._notify = notify or (lambda message: log.warning("%s", message))
        self.servers = [
            Downstream(spec, list(roots), self._open_docs, self._notify) for spec in specs
        ]
        self._warming: set[asyncio.Task[Any]] = set()
        self.closed = False

    def _open_docs(self) -> list[Doc]:
        return list(self.docs.values())

    def for_language(self, language: str | None) -> list[Downstream]:
        """The servers configured for ``language`` (configuration order), running or not."""
        if language is None:
            return []
        return [s for s in self.servers if language in s.spec.languages and not s.failed]

    async def first_live(
        self, language: str | None, timeout: float = INIT_TIMEOUT_S
    ) -> Downstream | None:
        """The first server of the language (configuration order) that is up or starts."""
        for server in self.for_language(language):
            if await server.ensure(timeout) is not None:
                return server
        return None

    def _warm(self, server: Downstream) -> None:
        """Start a server in the background (a file of its language was opened)."""
        task = asyncio.create_task(server.ensure())
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    # -- document mirroring --------------------------------------------------------------
    def did_open(self, uri: str, language_id: str, version: int, text: str) -> None:
        language = language_of(uri, language_id)
        if language is None or self.closed:
            return
        self.docs[uri] = Doc(uri, language, language_id, version, text)
        for server in self.for_language(language):
            server.open(uri, language_id, version, text)
            if not server.running:
                self._warm(server)

    def did_change(self, uri: str, version: int, text: str) -> None:
        doc = self.docs.get(uri)
        if doc is None:
            return
        doc.version, doc.text = version, text
        for server in self.for_language(doc.language):
            server.change(uri, version, text)

    def did_close(self, uri: str) -> None:
        doc = self.docs.pop(uri, None)
        if doc is None:
            return
        for server in self.for_language(doc.language):
            server.close(uri)

    def did_change_configuration(self, settings: Any) -> None:
        for server in self.servers:
            server.configure(settings)

    # -- requests -------------------------------------------------------------------------
    async def hover(
        self, uri: str, line: int, character: int, language: str | None = None
    ) -> list[tuple[str, str]]:
        """(server name, markdown) from every server of the document's language that answers
        within its timeout, in configuration order."""
        params = types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
        answers = await self.fan_out(uri, types.TEXT_DOCUMENT_HOVER, params, language)
        out: list[tuple[str, str]] = []
        for server, answer in answers:
            text = markdown_of(answer)
            if text:
                out.append((server.spec.name, text))
        return out

    async def definition(
        self, uri: str, line: int, character: int, language: str | None = None
    ) -> list[tuple[str, list[types.Location]]]:
        """(server name, locations) from every server of the document's language."""
        params = types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
        answers = await self.fan_out(uri, types.TEXT_DOCUMENT_DEFINITION, params, language)
        return [(s.spec.name, _locations(a)) for s, a in answers if a]

    async def fan_out(
        self, uri: str, method: str, params: Any, language: str | None = None
    ) -> list[tuple[Downstream, Any]]:
        """Ask every server of the language at once; (server, answer) for those that answered
        in time. Never raises."""
        language = language or language_of(uri)
        servers = self.for_language(language)
        if not servers or self.closed:
            return []
        results = await asyncio.gather(
            *(self._ask(s, uri, method, params) for s in servers), return_exceptions=True
        )
        return [
            (s, r)
            for s, r in zip(servers, results, strict=True)
            if r is not None and not isinstance(r, BaseException)
        ]

    async def _ask(self, server: Downstream, uri: str, method: str, params: Any) -> Any:
        budget = server.spec.timeout_ms / 1000
        t0 = time.monotonic()
        if server.busy:
            log.info("downstream %s left out of %s: still busy", server.spec.name, method)
            return None
        try:
            client = await server.ensure(budget)
            if client is None:
                return None
            async with self.holding(server, uri):
                remaining = budget - (time.monotonic() - t0)
                if remaining <= 0:
                    return None
                return await server.request(method, params, remaining)
        except (TimeoutError, ConnectionError, RuntimeError, OSError) as exc:
            log.info("downstream %s left out of %s: %s", server.spec.name, method, exc)
        except Exception as exc:  # an error response (JsonRpcException…)
            log.info("downstream %s answered %s with an error: %s", server.spec.name, method, exc)
        return None

    @contextlib.asynccontextmanager
    async def holding(
        self, server: Downstream, uri: str, text: str | None = None, language: str | None = None
    ) -> Any:
        """Make sure ``server`` knows the document for the duration: a document the editor
        has not opened is opened from ``text`` (or the file on disk) and closed afterwards."""
        if server.is_open(uri) and uri in self.docs:
            yield
            return
        if text is None:
            path = to_fs_path(uri)
            if path is None:
                yield
                return
            try:
                text = await asyncio.to_thread(Path(path).read_text, "utf-8", "replace")
            except OSError:
                yield
                return
        lang = language or language_of(uri) or ""
        server.open(uri, LANGUAGE_IDS.get(lang, lang), 0, text)
        try:
            yield
        finally:
            server.close(uri)

    async def shutdown(self) -> None:
        """Stop every server (bounded: each step of each server, all servers at once)."""
        self.closed = True
        for task in list(self._warming):
            task.cancel()
        await asyncio.wait_for(
            asyncio.gather(*(s.stop() for s in self.servers), return_exceptions=True),
            4 * STOP_STEP_S + 2,
        )


def _locations(answer: Any) -> list[types.Location]:
    items = answer if isinstance(answer, list) else [answer]
    out: list[types.Location] = []
    for item in items:
        if isinstance(item, types.Location):
            out.append(item)
        elif isinstance(item, types.LocationLink):
            out.append(types.Location(uri=item.target_uri, range=item.target_selection_range))
    return out
