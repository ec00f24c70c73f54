"""docs/agents.md's host configuration, run as written: the JSON block's command and args
(its two placeholder paths replaced) start the server through the MCP SDK's stdio client."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.agents.test_mcp import call
from tests.queries.conftest import make_repo

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def host_config() -> dict[str, object]:
    (block,) = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    server = json.loads(block)["mcpServers"]["isgraph"]
    assert isinstance(server, dict)
    return server


async def test_the_documented_host_config_starts_the_server(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "project")
    server = host_config()
    exe = shutil.which("isgraph", path=str(Path(sys.executable).parent))
    assert exe is not None, "the isgraph console script of this environment"
    assert server["command"] == "/path/to/venv/bin/isgraph"
    args = [str(root) if a == "/abs/path/to/project" else a for a in server["args"]]  # type: ignore[attr-defined]
    params = StdioServerParameters(command=exe, args=args)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        found = await call(s, "find_symbols", query="make")
        assert [x["qualname"] for x in found["symbols"]["items"]] == ["make"]
