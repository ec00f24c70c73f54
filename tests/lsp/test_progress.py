"""Progress that means something (issue 17, point 2), through a real LSP client: the total is
stated once it is known and never grows; a warm start that parses nothing says "checking N
files" once instead of 1/1 … N/N; each phase counts up."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pipeline.conftest import run_cli, write_tree

from .test_progress_heartbeat import HEARTBEAT
from .test_server import until

FILES = 60


@pytest.fixture(params=["cold", "warm"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    files = {f"m{i}.py": f"def f{i}():\n    return f{(i + 1) % FILES}()\n" for i in range(FILES)}
    root = write_tree(tmp_path / "proj", files)
    if request.param == "warm":
        run_cli("index", str(root), "--quiet")  # the server then parses nothing
    return root, str(request.param)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(
    lsp_client: LanguageClient, project: tuple[Path, str]
) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            workspace_folders=[types.WorkspaceFolder(uri=project[0].as_uri(), name="proj")],
        )
    )
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_progress_reports(client: LanguageClient, project: tuple[Path, str]) -> None:
    async def ended() -> list[Any]:
        reports = [r for rs in client.progress_reports.values() for r in rs]
        return reports if reports and isinstance(reports[-1], types.WorkDoneProgressEnd) else []

    reports = await until(ended, timeout=120)
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert reports[-1].message == f"indexed {FILES} files"
    # heartbeats (the last report again, timed, when a step lasts) may come anywhere
    steps = [r for r in reports[1:-1] if not HEARTBEAT.match(r.message or "")]
    # while files are still being found there is no total: counts only, no percentage
    finding = [r for r in steps if re.fullmatch(r"checking: \d+ files found, \d+ done", r.message)]
    assert all(r.percentage is None for r in finding) and steps[: len(finding)] == finding
    steps = steps[len(finding) :]
    messages = [r.message for r in steps]
    assert messages[0] == f"checking {FILES} files", messages
    assert all(
        m == f"checking {FILES} files"
        or re.fullmatch(rf"\d+/{FILES} files", m or "")
        or re.fullmatch(r"resolving edges: \d+/\d+ files", m or "")
        for m in messages
    ), messages
    # each phase (files checked and parsed, then edges resolved) counts up on its own
    resolving = [(r.message or "").startswith("resolving edges") for r in steps]
    for phase in (True, False):
        mine = [r for r, res in zip(steps, resolving, strict=True) if res == phase]
        pcts = [r.percentage for r in mine]
        assert pcts == sorted(pcts), messages
    if project[1] == "warm":
        assert messages == [f"checking {FILES} files"]
