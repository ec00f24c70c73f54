"""The language server end to end: the real `isgraph serve` subprocess, a real LSP client."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pipeline.conftest import write_tree

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        class Engine:
            \"\"\"Runs things.\"\"\"

            def run(self):
                return helper()


        def helper():
            return 1
        """,
    "app.py": """
        from pkg.core import Engine, helper


        def main():
            helper()
            return Engine().run()
        """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[LanguageClient]:
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True)
        ),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        root_uri=project.as_uri(),
    )
    await lsp_client.initialize_session(params)
    yield lsp_client
    await lsp_client.shutdown_session()


def as_dict(obj: Any) -> Any:
    """A JSON answer as plain dicts and lists (the client hands objects over as namedtuples)."""
    if hasattr(obj, "_asdict"):
        return {k: as_dict(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [as_dict(v) for v in obj]
    return obj


async def symbols(client: LanguageClient, query: str) -> list[types.SymbolInformation]:
    got = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return [s for s in got or [] if isinstance(s, types.SymbolInformation)]


async def until(check: Any, timeout: float = 20.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.05)


async def test_indexes_on_startup_with_progress(client: LanguageClient) -> None:
    found = await until(lambda: symbols(client, "helper"))
    assert [(s.name, s.container_name) for s in found][:1] == [("helper", None)]
    assert found[0].location.uri.endswith("pkg/core.py")

    def ended() -> list[Any]:
        reports = [r for rs in client.progress_reports.values() for r in rs]
        return reports if reports and isinstance(reports[-1], types.WorkDoneProgressEnd) else []

    reports = await until(lambda: asyncio.sleep(0, ended()))
    kinds = [type(r).__name__ for r in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    # Files parsed, then edges resolved: no phase of the run goes without a report.
    messages = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert f"{len(PROJECT)}/{len(PROJECT)} files" in messages
    last = messages[-1]  # resolution covers the typeshed stubs indexed after the files too
    assert last.startswith("resolving edges: "), messages
    done, total = last.removeprefix("resolving edges: ").removesuffix(" files").split("/")
    assert done == total and int(total) >= len(PROJECT)
    # The end comes once resolution is over: the index is fresh by then.
    answer = await client.protocol.send_request_async(
        "isgraph/query", {"query": "search", "target": "x"}
    )
    assert as_dict(answer)["fresh"] is True


async def fresh(client: LanguageClient) -> bool:
    """Wait until the index says it is fresh (first index and its resolution done)."""

    async def check() -> bool:
        answer = await client.protocol.send_request_async(
            "isgraph/query", {"query": "search", "target": "x"}
        )
        return bool(as_dict(answer)["fresh"])

    return bool(await until(check))


async def test_document_symbols_hover_and_query(client: LanguageClient, project: Path) -> None:
    assert await fresh(client)
    uri = (project / "pkg/core.py").as_uri()
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert outline is not None
    tree = {s.name: [c.name for c in s.children or []] for s in outline}  # type: ignore[union-attr]
    assert tree == {"Engine": ["run"], "helper": []}

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=8, character=5),  # inside `def helper`
        )
    )
    assert hover is not None
    text = hover.contents.value  # type: ignore[union-attr]
    assert "function" in text and "helper" in text and "callers 2" in text

    answer = await client.protocol.send_request_async(
        "isgraph/query",
        {"query": "callers", "target": "python:function:pkg/core.py:helper", "depth": 1},
    )
    answer = as_dict(answer)
    names = sorted(r["qualname"] for r in answer["results"])
    assert names == ["Engine.run", "main"]
    assert answer["fresh"] is True and answer["pending_files"] == 0


async def test_a_file_written_on_disk_shows_up_and_a_deleted_one_goes(
    client: LanguageClient, project: Path
) -> None:
    await until(lambda: symbols(client, "helper"))
    (project / "extra.py").write_text("def brand_new_function():\n    pass\n")
    found = await until(lambda: symbols(client, "brand_new_function"))
    assert [s.name for s in found] == ["brand_new_function"]
    (project / "extra.py").unlink()

    async def gone() -> bool:
        return not await symbols(client, "brand_new_function")

    assert await until(gone)


async def test_bad_requests_get_errors_and_the_server_goes_on(client: LanguageClient) -> None:
    await until(lambda: symbols(client, "helper"))
    with pytest.raises(Exception, match="isgraph/query needs"):
        await client.protocol.send_request_async("isgraph/query", {"query": "nonsense"})
    outside = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri="file:///etc/passwd"),
            position=types.Position(line=0, character=0),
        )
    )
    assert outside is None  # a file outside every folder is never read
    assert await symbols(client, "helper")


async def test_references_and_call_hierarchy(client: LanguageClient, project: Path) -> None:
    assert await fresh(client)
    core = types.TextDocumentIdentifier(uri=(project / "pkg/core.py").as_uri())
    at_helper = types.Position(line=8, character=5)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=core,
            position=at_helper,
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert refs is not None
    where = sorted((r.uri.rsplit("/", 1)[1], r.range.start.line + 1) for r in refs)
    # Engine.run calls it (core.py:5); app.py imports it (line 1) and main calls it (line 5)
    assert where == [("app.py", 1), ("app.py", 5), ("core.py", 5)]

    items = await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(text_document=core, position=at_helper)
    )
    assert items is not None and [i.name for i in items] == ["helper"]
    incoming = await client.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=items[0])
    )
    assert sorted(c.from_.detail or "" for c in incoming or []) == ["Engine.run", "main"]

    app = types.TextDocumentIdentifier(uri=(project / "app.py").as_uri())
    main = await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=app, position=types.Position(line=5, character=4)
        )
    )
    assert main is not None and [i.name for i in main] == ["main"]
    outgoing = await client.call_hierarchy_outgoing_calls_async(
        types.CallHierarchyOutgoingCallsParams(item=main[0])
    )
    assert sorted(c.to.detail or "" for c in outgoing or []) == ["Engine", "Engine.run", "helper"]
