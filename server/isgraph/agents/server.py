"""`isgraph mcp`: the MCP server over stdio. The only module that imports the MCP SDK.

The SDK's 2.x line (``mcp`` 2.3.0, pinned in pyproject): it speaks the handshake revisions
hosts use today (2024-11-05 … 2025-11-25) and the 2026-07-28 one, so one pin serves old
and new hosts; 1.x only receives fixes and lacks the newest revision.

The workspace is kept fresh as the language server keeps it (`isgraph.workspace.Folder`:
an incremental index at start, then watchfiles, one run at a time); every answer says
whether it is ``fresh`` and how many files are pending. Tool bodies live in `tools` and run
in threads (store reads block); a bad argument is a tool error with a clear text and the
server goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from isgraph import __version__
from isgraph.agents.tools import DEFAULT_TOKENS, MAX_TOKENS, Tools
from isgraph.queries.lookup import QueryError
from isgraph.store.base import StoreError
from isgraph.workspace import Folder

log = logging.getLogger(__name__)

INSTRUCTIONS = """\
isgraph answers from a code graph of this workspace (definitions; calls, imports and
inherits edges, each labelled exact, inferred or unresolved), kept fresh as files change.
Prefer it to grep for: where a symbol is defined (find_symbols), what it is and who uses it
(symbol), who calls it (callers), what a change to it breaks (impact), what code matters for
a task (context), what a diff touches and which tests reach it (changes). Answers carry
`total` and `truncated` for every list, and `fresh` / `pending_files`: when fresh is false,
recently edited files may not be reflected yet."""

Name = Annotated[
    str,
    Field(
        description="A key from an earlier answer, a name (`run`), a qualified name "
        "(`Engine.run`) or a fully qualified one (`pkg.core.Engine.run`)."
    ),
]
Tokens = Annotated[
    int,
    Field(ge=200, le=MAX_TOKENS, description="Budget for the answer, in estimated tokens."),
]
Limit = Annotated[int, Field(ge=1, le=500, description="Items per list.")]
Cursor = Annotated[int, Field(ge=0, description="Offset from a previous answer's `cursor`.")]
Depth = Annotated[int, Field(ge=1, le=10, description="Edges to follow.")]


def build(tools: Tools) -> MCPServer:
    """The MCP server with isgraph's tools over ``tools``."""
    app: MCPServer = MCPServer(name="isgraph", version=__version__, instructions=INSTRUCTIONS)

    async def call(fn: Callable[..., dict[str, Any]], *args: Any) -> CallToolResult:
        """The answer as compact JSON text (what the budget measured) and as structured
        content; a bad argument or a store failure as a tool error."""
        try:
            record = await asyncio.to_thread(fn, *args)
        except (QueryError, StoreError, ValueError) as exc:
            raise ToolError(str(exc)) from exc
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=record
        )

    @app.tool()
    async def find_symbols(
        query: Annotated[str, Field(description="Name or fuzzy fragment (`jsdec`).")] = "",
        kind: Annotated[
            str | None, Field(description="function, method, class, module, struct…")
        ] = None,
        path: Annotated[str | None, Field(description="Repo-relative file or directory.")] = None,
        limit: Limit = 20,
        cursor: Cursor = 0,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> CallToolResult:
        """Find definitions by name (ranked: exact, prefix, substring, camel humps), kind and
        path, with signature, location and first doc line. Use it instead of grep to locate
        where something is defined."""
        return await call(tools.find_symbols, query, kind, path, limit, cursor, max_tokens)

    @app.tool()
    async def symbol(
        name_or_key: Name,
        limit: Annotated[int, Field(ge=1, le=200, description="Callers/callees shown.")] = 10,
        max_lines: Annotated[int, Field(ge=0, le=2000, description="Source lines shown.")] = 60,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> CallToolResult:
        """One symbol in depth: signature, doc, source, direct callers and callees (with
        totals), bases, subclasses and members of a class. Use it before editing or calling
        something."""
        return await call(tools.symbol, name_or_key, limit, max_lines, max_tokens)

    @app.tool()
    async def callers(
        name_or_key: Name,
        depth: Depth = 1,
        limit: Limit = 50,
        cursor: Cursor = 0,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> CallToolResult:
        """Who calls a symbol. Depth 1: every call into it with its call sites (line,
        column) and how it was resolved (exact / inferred); deeper: the callers of callers."""
        return await call(tools.callers, name_or_key, depth, limit, cursor, max_tokens)

    @app.tool()
    async def impact(
        name_or_key: Name,
        depth: Depth = 3,
        limit: Annotated[int, Field(ge=1, le=1000, description="Items per list.")] = 50,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> CallToolResult:
        """What a change to a symbol can break, by certainty: `certain` (reached over exact
        edges only), `possible` (only through a guessed, inferred edge) and the
        `unresolved_frontier` (calls by that name nothing resolved: check those by hand)."""
        return await call(tools.impact, name_or_key, depth, limit, max_tokens)

    @app.tool()
    async def context(
        symbols: Annotated[
            list[str] | None, Field(description="Symbols the task is about.")
        ] = None,
        files: Annotated[list[str] | None, Field(description="Repo-relative files.")] = None,
        text: Annotated[str, Field(description="The task in words (names in it count).")] = "",
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> CallToolResult:
        """The code most relevant to a task, ranked (personalised PageRank over calls,
        imports and inheritance from the given symbols, files or text): signatures first,
        then bodies of the top entries, within the token budget. Use it to start a task."""
        return await call(tools.context, symbols, files, text, max_tokens)

    @app.tool()
    async def changes(
        rev: Annotated[
            str | None,
            Field(
                description="A revision or range (`main`, `HEAD~3..HEAD`); default: the "
                "working tree against HEAD, untracked files included."
            ),
        ] = None,
        depth: Annotated[int, Field(ge=1, le=10, description="Impact depth.")] = 2,
        limit: Annotated[int, Field(ge=1, le=1000, description="Items per list.")] = 50,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> CallToolResult:
        """What a diff touches: the changed symbols, what they impact (certain / possible)
        and the tests that reach them. Use it to review a change or pick tests to run."""
        return await call(tools.changes, rev, depth, limit, max_tokens)

    return app


def run(root: Path) -> None:
    """Serve ``root`` on stdio until the client closes the stream (or SIGTERM/SIGINT)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(root))


async def _serve(root: Path) -> None:
    folder = Folder(root, {}, lambda message: log.warning("%s", message))
    await folder.open()
    folder.start()
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    async def stop_and_exit() -> None:
        # Not a cancel of the stdio loop: the SDK reads stdin in a worker thread that only
        # EOF ends and waits for it. Close what holds data (writer, pool, store), then leave.
        try:
            await folder.close()
        finally:
            logging.shutdown()
            os._exit(0)

    def on_signal() -> None:
        if not stopping:
            stopping.append(loop.create_task(stop_and_exit()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    try:
        await build(Tools(folder)).run_stdio_async()  # until the client closes stdin
    finally:
        await folder.close()  # flushes the writer, stops the pool, closes the store
