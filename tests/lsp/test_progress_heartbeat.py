"""Progress never freezes (issue 19, point 4), through a real LSP client: while a step reports
nothing — here the store's writer waits on a PostgreSQL lock the test holds, a real stall
injected from outside — the server repeats its last report with the seconds the step has
lasted, and the run completes once the lock is released."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from psycopg import sql
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pg import admin, pg_url
from tests.pipeline.conftest import run_cli, write_tree

from .test_server import until

FILES = 30
HEARTBEAT = re.compile(r".* \((\d+) s\)$")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {f"m{i}.py": f"def f{i}():\n    return f{(i + 1) % FILES}()\n" for i in range(FILES)}
    return write_tree(tmp_path / "proj", files)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    yield lsp_client
    await lsp_client.shutdown_session()


def _messages(client: LanguageClient) -> list[str]:
    reports = [r for rs in client.progress_reports.values() for r in rs]
    return [r.message or "" for r in reports if isinstance(r, types.WorkDoneProgressReport)]


async def test_a_stalled_step_keeps_reporting(
    client: LanguageClient, project: Path, schema: str, tmp_path: Path
) -> None:
    # The schema's tables exist (another repo indexed into it), then the test locks one
    # against writes: the server's first index can read, parse and extract, not write.
    other = write_tree(tmp_path / "other", {"x.py": "def x():\n    pass\n"})
    run_cli("index", str(other), "--quiet", "--db", pg_url(schema=schema, repo="other"))
    lock = admin()
    lock.autocommit = False
    lock.execute(sql.SQL("LOCK TABLE {}.entity IN EXCLUSIVE MODE").format(sql.Identifier(schema)))
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    window=types.WindowClientCapabilities(work_done_progress=True)
                ),
                workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
                initialization_options={"db": pg_url(schema=schema, repo="proj")},
            )
        )

        async def beats() -> list[int]:
            return [int(m.group(1)) for x in _messages(client) if (m := HEARTBEAT.match(x))]

        seen = await until(beats, timeout=60)
        assert seen, _messages(client)
        more = await until(lambda: _more(beats, len(seen)), timeout=30)
        assert more, _messages(client)  # it goes on while the stall lasts, counting up
        assert (await beats())[-1] >= seen[0]
    finally:
        lock.rollback()
        lock.close()

    async def ended() -> list[Any]:
        reports = [r for rs in client.progress_reports.values() for r in rs]
        return reports if reports and isinstance(reports[-1], types.WorkDoneProgressEnd) else []

    reports = await until(ended, timeout=120)
    assert reports[-1].message == f"indexed {FILES} files"
    answer = await client.protocol.send_request_async(
        "isgraph/query", {"query": "search", "target": "f1", "limit": 50}
    )
    names = {r.name for r in answer.results}
    assert {"f1", "f10", "f19"} <= names  # the stalled writes landed


async def _more(beats: Any, count: int) -> bool:
    return len(await beats()) > count
