"""The language server against a shared PostgreSQL store (initializationOptions `db`)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pg import pg_url
from tests.pipeline.conftest import write_tree

from .test_server import PROJECT, as_dict, fresh, symbols, until


@pytest.fixture
def pg_db(schema: str) -> str:
    return pg_url(schema=schema, repo="lsp")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(
    lsp_client: LanguageClient, tmp_path: Path, pg_db: str
) -> AsyncIterator[LanguageClient]:
    project = write_tree(tmp_path / "proj", PROJECT)
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        initialization_options={"db": pg_db},
    )
    await lsp_client.initialize_session(params)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_serves_from_postgresql(client: LanguageClient, tmp_path: Path) -> None:
    assert await fresh(client)
    found = await until(lambda: symbols(client, "helper"))
    assert found and found[0].location.uri.endswith("pkg/core.py")
    answer = as_dict(
        await client.protocol.send_request_async(
            "isgraph/query", {"query": "callers", "target": "python:function:pkg/core.py:helper"}
        )
    )
    assert sorted(r["qualname"] for r in answer["results"]) == ["Engine.run", "main"]
    assert not (tmp_path / "proj" / ".isgraph").exists()  # nothing embedded was created
