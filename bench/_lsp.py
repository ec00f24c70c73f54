"""Shared by the bench scripts that talk to `isgraph serve` through a real LSP client."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from _common import isgraph_cmd


async def start_server(root: Path, options: dict[str, Any] | None = None) -> LanguageClient:
    """`isgraph serve` as a subprocess, initialized on ``root`` (one workspace folder)."""
    client = LanguageClient("isgraph-bench", "0")
    await launch(client, root, options)
    return client


async def launch(
    client: LanguageClient, root: Path, options: dict[str, Any] | None = None
) -> float:
    """Start `isgraph serve` under ``client`` and initialize it on ``root``, with work-done
    progress (a client without a `window/workDoneProgress/create` handler answers it with an
    error, and the server then indexes without progress). Returns the `time.perf_counter()`
    at which `initialized` was sent."""
    cmd = isgraph_cmd("serve")
    await client.start_io(cmd[0], *cmd[1:])
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            initialization_options=options,
        )
    )
    t0 = time.perf_counter()
    client.initialized(types.InitializedParams())
    return t0


async def fresh(client: LanguageClient) -> None:
    """Wait until the server says its index is fresh (first index and resolution done)."""
    while True:
        answer = await client.protocol.send_request_async(
            "isgraph/query", {"query": "search", "target": "x", "limit": 1}
        )
        if getattr(answer, "fresh", None) or (isinstance(answer, dict) and answer["fresh"]):
            return
        await asyncio.sleep(0.2)
