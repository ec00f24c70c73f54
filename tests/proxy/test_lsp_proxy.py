"""`isgraph serve` with downstream servers: merged hover (real jedi-language-server and
clangd), time bounds with a silent server, mirrored edits, stored enrichment, no process
left after shutdown."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.lsp.client import LanguageClient as PlainClient
from pytest_lsp import ClientServerConfig, LanguageClient

from isgraph.store.connect import default_store_url, open_store
from tests.lsp.test_server import fresh
from tests.pipeline.conftest import write_tree

from .conftest import alive, clangd, descendants, fake, jedi

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": '''
        def helper(n: int) -> int:
            """Double it."""
            return 2 * n


        def main() -> int:
            return helper(1)
        ''',
    "calc.c": """
        /** Adds two numbers. */
        int add(int a, int b) { return a + b; }

        int main(void) { return add(1, 2); }
        """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


def downstream(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    marker = request.node.get_closest_marker("downstream")
    return list(marker.args[0]) if marker else []


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(
    lsp_client: LanguageClient, project: Path, request: pytest.FixtureRequest
) -> AsyncIterator[LanguageClient]:
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        root_uri=project.as_uri(),
        initialization_options={"downstream": downstream(request)},
    )
    await lsp_client.initialize_session(params)
    yield lsp_client
    await lsp_client.shutdown_session()


async def hover(client: LanguageClient, uri: str, line: int, character: int) -> str:
    got = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    return "" if got is None else str(got.contents.value)  # type: ignore[union-attr]


def open_doc(client: Any, path: Path, language_id: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=path.read_text()
            )
        )
    )
    return uri


def servers() -> list[dict[str, Any]]:
    return [
        {"name": "jedi", "command": [jedi()], "languages": ["python"], "timeout_ms": 20000},
        {"name": "clangd", "command": [clangd()], "languages": ["c"], "timeout_ms": 20000},
    ]


@pytest.mark.downstream(servers())
async def test_merged_hover_python_and_c(client: LanguageClient, project: Path) -> None:
    assert await fresh(client)
    uri = open_doc(client, project / "pkg/core.py", "python")
    text = await hover(client, uri, 0, 5)  # on `helper` at its definition
    jedi_part, _, graph_part = text.partition("\n\n---\n\n")
    assert "def helper(n: int) -> int" in jedi_part and "Double it." in jedi_part
    assert "**function** `helper(n: int) -> int`" in graph_part and "callers 1" in graph_part

    c_uri = open_doc(client, project / "calc.c", "c")
    text = await hover(client, c_uri, 1, 5)  # on `add` at its definition
    assert "Adds two numbers." in text and "int" in text  # clangd
    assert "**function** `add" in text and "calc.c:2" in text  # the graph

    # An edit in the buffer (not saved) reaches the downstream server.
    edited = (project / "pkg/core.py").read_text() + '\n\ndef later() -> str:\n    """New."""\n'
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    text = await hover(client, uri, 9, 5)
    assert "def later() -> str" in text and "New." in text


@pytest.mark.downstream(
    [
        {
            "name": "silent",
            "command": list(fake("silent")),
            "languages": ["python"],
            "timeout_ms": 300,
        },
        {
            "name": "ok",
            "command": list(fake("ok", "100")),
            "languages": ["python"],
            "timeout_ms": 300,
        },
    ]
)
async def test_hover_in_time_with_a_silent_server(client: LanguageClient, project: Path) -> None:
    assert await fresh(client)
    uri = open_doc(client, project / "pkg/core.py", "python")
    await hover(client, uri, 0, 5)  # the first hover may wait for the servers to start
    for _ in range(3):
        t0 = time.perf_counter()
        text = await hover(client, uri, 0, 5)
        elapsed = time.perf_counter() - t0
        assert text.startswith("fake hover #") and "callers 1" in text
        assert elapsed <= 0.3 + 0.05, elapsed


async def test_no_downstream_server_left_after_shutdown(project: Path) -> None:
    """Start the server, make it start its downstream servers, shut it down: none is left."""
    client = PlainClient("test", "0")
    await client.start_io(sys.executable, "-m", "isgraph", "serve")
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
                initialization_options={
                    "downstream": [
                        {
                            "name": "stubborn",
                            "command": list(fake("stubborn")),
                            "languages": ["python"],
                        },
                        {
                            "name": "clangd",
                            "command": [clangd()],
                            "languages": ["c"],
                            "timeout_ms": 20000,
                        },
                    ]
                },
            )
        )
        client.initialized(types.InitializedParams())
        open_doc(client, project / "pkg/core.py", "python")
        open_doc(client, project / "calc.c", "c")
        deadline = time.monotonic() + 30
        server_pid = client._server.pid  # type: ignore[union-attr]
        while time.monotonic() < deadline:
            kids = [p for p in descendants() if p.pid != server_pid]
            names = " ".join(" ".join(p.cmdline()) for p in kids)
            if "stubborn" in names and "clangd" in names:
                break
            await asyncio.sleep(0.1)
        pids = [p.pid for p in kids]  # downstream servers, and the index's process pool
        assert sum("stubborn" in " ".join(p.cmdline()) for p in kids) == 1
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
        await asyncio.wait_for(client._server.wait(), 10)  # type: ignore[union-attr]
        # The pool's forkserver and workers notice their parent is gone: seconds under load.
        deadline = time.monotonic() + 15
        while alive(pids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = [" ".join(p.cmdline())[:120] for p in kids if p.pid in alive(pids)]
        assert alive(pids) == [], left
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await asyncio.wait_for(client.stop(), 5)


ENRICH_TOML = """
enrich = true

[[downstream]]
name = "counting"
command = {command}
languages = ["python"]
timeout_ms = 2000
"""


@pytest.fixture
def enriching(project: Path) -> Path:
    (project / ".isgraph.toml").write_text(ENRICH_TOML.format(command=json.dumps(list(fake("ok")))))
    return project


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def enriched_client(lsp_client: LanguageClient, enriching: Path) -> AsyncIterator[Any]:
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=enriching.as_uri(), name="proj")],
        # the servers come from the workspace's .isgraph.toml: only in a trusted workspace
        initialization_options={"trustWorkspace": True},
    )
    await lsp_client.initialize_session(params)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_background_enrichment_is_served_from_the_store(
    enriched_client: LanguageClient, enriching: Path
) -> None:
    client = enriched_client
    assert await fresh(client)
    store = open_store(default_store_url(enriching))
    try:
        key = "python:function:pkg/core.py:helper"
        deadline = time.monotonic() + 30
        while (e := store.get_entity(key)) is None or e.metadata is None:
            assert time.monotonic() < deadline, "enrichment did not arrive"
            await asyncio.sleep(0.1)
    finally:
        store.close()
    stored = json.loads(e.metadata)["hover"]
    assert stored.startswith("fake hover #")
    uri = open_doc(client, enriching / "pkg/core.py", "python")
    for _ in range(2):  # on the name: the stored answer, the server is not asked again
        text = await hover(client, uri, 0, 6)
        assert text.split("\n\n---\n\n")[0] == stored
    live = await hover(client, uri, 2, 12)  # in the body: asked live, a new number
    assert live.startswith("fake hover #") and live.split("\n\n")[0] != stored
