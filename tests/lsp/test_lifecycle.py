"""How the server ends: a client that goes away (stdin closed) or sends `exit` without
`shutdown` mid-index. The process exits by itself, no pool worker outlives it, and the store
it leaves opens and completes with the CLI."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pipeline.conftest import cli_items, cli_json, write_tree

from .rawclient import RawClient
from .test_progress_heartbeat import HEARTBEAT
from .test_server import until

FILES = 120


@pytest.fixture
def many(tmp_path: Path) -> Path:
    files = {
        f"pkg{i // 50}/mod{i}.py": f"def f{i}(x):\n    return g{i}(x)\n\n\n"
        f"def g{i}(x):\n    return x\n"
        for i in range(FILES)
    }
    return write_tree(tmp_path / "many", files)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient, many: Path) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            workspace_folders=[types.WorkspaceFolder(uri=many.as_uri(), name="many")],
        )
    )
    yield lsp_client


async def indexing(client: LanguageClient) -> bool:
    """The first index is under way (a progress report of some files done has come, not
    only a heartbeat of the start)."""
    reports = [r for rs in client.progress_reports.values() for r in rs]
    return any(
        isinstance(r, types.WorkDoneProgressReport) and not HEARTBEAT.match(r.message or "")
        for r in reports
    )


def server_process(client: LanguageClient) -> asyncio.subprocess.Process:
    proc = client._server  # pytest-lsp's handle on the server subprocess
    assert proc is not None
    return proc


async def ends_cleanly(client: LanguageClient, many: Path, hang_up: bool) -> int:
    proc = server_process(client)
    assert await until(lambda: indexing(client))
    family = psutil.Process(proc.pid).children(recursive=True)
    assert family, "the server should have its parser pool running by now"
    if hang_up:
        assert proc.stdin is not None
        proc.stdin.close()  # the editor went away: no shutdown, no exit
    else:
        client.exit(None)  # `exit` without `shutdown`
    code = await asyncio.wait_for(proc.wait(), 30)
    deadline = time.monotonic() + 10
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family):
        assert time.monotonic() < deadline, f"left running: {[p.pid for p in family]}"
        await asyncio.sleep(0.05)
    # What was queued got written, atomically per file: the CLI reads the store and a new
    # run completes it (files it finds unchanged were written before the server ended).
    written = cli_json("stats", "--root", str(many))["files"]
    summary = cli_json("index", str(many))
    assert summary["files"] == FILES and summary["errors"] == []
    assert summary["unchanged"] > 0 and summary["unchanged"] + summary["parsed"] == FILES
    assert written >= summary["unchanged"]
    callers = cli_items("callers", "g7", "--root", str(many))
    assert [r["qualname"] for r in callers] == ["f7"]  # resolved, though cut short before
    return code


async def test_closed_stdin_ends_the_server_and_its_workers(
    client: LanguageClient, many: Path
) -> None:
    assert await ends_cleanly(client, many, hang_up=True) == 0


async def test_exit_without_shutdown_flushes_and_ends(client: LanguageClient, many: Path) -> None:
    assert await ends_cleanly(client, many, hang_up=False) == 1  # LSP: exit 1 without shutdown


async def test_tcp_client_disconnect_ends_the_server_cleanly(many: Path) -> None:
    """`serve --tcp`: one client over a socket; when it hangs up mid-index the server flushes,
    stops its pools and exits, leaving a store the CLI completes."""
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "isgraph", "serve", "--tcp", f"127.0.0.1:{port}",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert b"listening on" in line
        client = RawClient(proc, await asyncio.open_connection("127.0.0.1", port))
        await client.initialize(many)

        async def found() -> list[Any]:
            answer = await client.request("isgraph/query", {"query": "search", "target": "f1"})
            return list(answer["result"]["results"])

        assert await until(found)  # files are being indexed
        family = psutil.Process(proc.pid).children(recursive=True)
        assert family, "the server should have its parser pool running by now"
        client.inp.close()  # hang up without shutdown/exit
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        deadline = time.monotonic() + 10
        while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family):
            assert time.monotonic() < deadline, f"left running: {[p.pid for p in family]}"
            await asyncio.sleep(0.05)
        client.reader.cancel()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    summary = cli_json("index", str(many))
    assert summary["files"] == FILES and summary["errors"] == []
    assert [r["qualname"] for r in cli_items("callers", "g7", "--root", str(many))] == ["f7"]


def test_tcp_address_errors_are_clear() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "isgraph", "serve", "--tcp", "localhost"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "HOST:PORT" in done.stderr
