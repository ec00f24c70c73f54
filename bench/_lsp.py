"""Shared by the bench scripts that talk to `isgraph serve` through a real LSP client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from _common import isgraph_cmd


async def start_server(root: Path, options: dict[str, Any] | None = None) -> LanguageClient:
    """`isgraph serve` as a subprocess, initialized on ``root`` (one workspace folder)."""
    client = LanguageClient("isgraph-bench", "0")
    cmd = isgraph_cmd("serve")
    await client.start_io(cmd[0], *cmd[1:])
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            initialization_options=options,
        )
    )
    client.initialized(types.InitializedParams())
    return client


async def fresh(client: LanguageClient) -> None:
    """Wait until the server says its index is fresh (first index and resolution done)."""
    while True:
        answer = await client.protocol.send_request_async(
            "isgraph/query", {"query": "search", "target": "x", "limit": 1}
        )
        if getattr(answer, "fresh", None) or (isinstance(answer, dict) and answer["fresh"]):
            return
        await asyncio.sleep(0.2)
