"""Confirm or correct `inferred` call edges with a downstream server's `textDocument/definition`.

The resolver's heuristics (a method name unique in the repo, `~` guesses) are labelled
`inferred`. A precise server knows better: for each inferred call in a file, ask for the
definition at the call's name; if it lands on an entity of the index (a workspace file, or a
typeshed stub — any path ending in ``/typeshed/stdlib/<module>.pyi`` (basedpyright's
``/typeshed-fallback/stdlib/…`` too) is mapped to the index's
``@typeshed/stdlib/…``), the edge becomes `exact` with that target (confirmed when it is the
same target, corrected otherwise). An answer outside the index, none, or a timeout leaves the
edge as it was (counted). Runs on demand (`isgraph/confirmEdges`), never during indexing.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from isgraph.index.languages import language_for
from isgraph.index.stubs import STUB_PREFIX
from isgraph.index.writer import Writer
from isgraph.model import Edge, EdgeKind, Entity, Resolution
from isgraph.proxy.hover import utf16_len
from isgraph.proxy.manager import DownstreamManager
from isgraph.store.base import EdgeUpdate, Store

# jedi's `typeshed/stdlib/`, basedpyright's `typeshed-fallback/stdlib/`
TYPESHED_STDLIB = re.compile(r"[/\\]typeshed(?:-fallback)?[/\\]stdlib[/\\](.+\.pyi)$")


@dataclass(slots=True)
class ConfirmReport:
    checked: int = 0  # inferred call edges asked about
    confirmed: int = 0  # the server agrees: now exact
    corrected: int = 0  # the server names another indexed entity: now exact, to it
    elsewhere: int = 0  # the server answers with a place the index does not hold
    unanswered: int = 0  # no answer, an error, a timeout, or no call found on the line

    def record(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "confirmed": self.confirmed,
            "corrected": self.corrected,
            "elsewhere": self.elsewhere,
            "unanswered": self.unanswered,
        }


def call_position(line: str, target_name: str) -> int | None:
    """The UTF-16 column of the called name (the last dotted part) followed by ``(``."""
    name = target_name.rsplit(".", 1)[-1]
    found = re.search(rf"(?<![\w$]){re.escape(name)}\s*\(", line)
    return utf16_len(line[: found.start()]) if found else None


def index_path(root: Path, uri: str) -> str | None:
    """The index's path for a location: repo-relative, or the typeshed stub's virtual path."""
    path = to_fs_path(uri)
    if path is None:
        return None
    stub = TYPESHED_STDLIB.search(path)
    if stub:
        return STUB_PREFIX + stub.group(1).replace("\\", "/")
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def _entity_at(ents: list[Entity], name: str, line0: int) -> Entity | None:
    inside = [e for e in ents if e.start_line - 1 <= line0 <= e.end_line - 1 and e.name == name]
    return min(inside, key=lambda e: e.end_line - e.start_line, default=None)


def _stub_entity(ents: list[Entity], name: str, server_file: str, line0: int) -> Entity | None:
    """A stub entity by name: the server's own typeshed copy has other line numbers than the
    index's, so the enclosing classes are read from the server's file (``class X:`` lines
    above, less indented) and matched as a qualified name."""
    named = [e for e in ents if e.name == name]
    if len(named) <= 1:
        return named[0] if named else None
    try:
        lines = Path(server_file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if not 0 <= line0 < len(lines):
        return None
    indent = len(lines[line0]) - len(lines[line0].lstrip())
    scopes: list[str] = []
    for text in reversed(lines[:line0]):
        stripped = text.lstrip()
        level = len(text) - len(stripped)
        if stripped and level < indent:
            found = re.match(r"class\s+(\w+)", stripped)
            if found:
                scopes.append(found.group(1))
            indent = level
    qualname = ".".join([*reversed(scopes), name])
    return next((e for e in named if e.qualname == qualname), None)


async def confirm_file(
    manager: DownstreamManager, store: Store, writer: Writer, root: Path, path: str
) -> ConfirmReport:
    """Ask about every inferred call edge of ``path``; write the verdicts through ``writer``."""
    rep = ConfirmReport()
    root = root.resolve()
    edges = await asyncio.to_thread(
        store.edges, kind=EdgeKind.CALLS, path=path, resolution=Resolution.INFERRED
    )
    if not edges:
        return rep
    server = await manager.first_live(language_for(path))
    try:
        text = await asyncio.to_thread((root / path).read_text, "utf-8", "replace")
    except OSError:
        text = None
    if server is None or text is None:
        rep.checked = rep.unanswered = len(edges)
        return rep
    lines = text.splitlines()
    uri = (root / path).as_uri()

    async def ask(edge: Edge) -> list[types.Location] | None:
        line = lines[edge.line - 1] if 0 < edge.line <= len(lines) else ""
        col = call_position(line, edge.target_name)
        if col is None:
            return None
        params = types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=edge.line - 1, character=col),
        )
        async with server.semaphore:
            with contextlib.suppress(Exception):
                answer = await server.request(
                    types.TEXT_DOCUMENT_DEFINITION, params, server.spec.timeout_ms / 1000
                )
                items = answer if isinstance(answer, list) else [answer] if answer else []
                return [
                    types.Location(uri=i.target_uri, range=i.target_selection_range)
                    if isinstance(i, types.LocationLink)
                    else i
                    for i in items
                ]
        return None

    async with manager.holding(server, uri, text, language_for(path)):
        answers = await asyncio.gather(*(ask(e) for e in edges))
    updates: list[EdgeUpdate] = []
    cache: dict[str, list[Entity]] = {}
    for edge, locations in zip(edges, answers, strict=True):
        rep.checked += 1
        if not locations:
            rep.unanswered += 1
            continue
        target: Entity | None = None
        name = edge.target_name.rsplit(".", 1)[-1]
        for loc in locations:
            where = index_path(root, loc.uri)
            if where is None:
                continue
            if where not in cache:
                cache[where] = await asyncio.to_thread(store.find_entities, path=where)
            if where.startswith(STUB_PREFIX):
                target = await asyncio.to_thread(
                    _stub_entity,
                    cache[where],
                    name,
                    to_fs_path(loc.uri) or "",
                    loc.range.start.line,
                )
            else:
                target = _entity_at(cache[where], name, loc.range.start.line)
            if target is not None:
                break
        if target is None:
            rep.elsewhere += 1
            continue
        if target.key == edge.dst:
            rep.confirmed += 1
        else:
            rep.corrected += 1
        updates.append(
            EdgeUpdate(edge.path, edge.src, edge.kind, edge.target_name, target.key, "exact")
        )
    if updates:
        await (await writer.update_edges(updates))
    return rep
