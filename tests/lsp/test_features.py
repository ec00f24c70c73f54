"""Type hierarchy, code lens, commands and `isgraph/query cycles` through a real LSP client
against the real `isgraph serve` subprocess; the CLI answers on the same store meanwhile."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pipeline.conftest import cli_items, cli_json, write_tree

from .test_server import as_dict, fresh

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": """
        class Shape:
            def area(self):
                return 0


        class Square(Shape):
            def area(self):
                return side()


        class Cube(Square):
            pass


        def side():
            return ping(1)


        def ping(n):
            return pong(n)


        def pong(n):
            return ping(n - 1)
        """,
    "app.py": """
        from pkg.shapes import Square, side


        def main():
            side()
            return Square().area()
        """,
}
SHAPES = "pkg/shapes.py"
INIT: dict[int, types.InitializeResult] = {}  # client -> what its server answered to initialize


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[LanguageClient]:
    INIT[id(lsp_client)] = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        )
    )
    assert await fresh(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


def doc(project: Path, rel: str = SHAPES) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=(project / rel).as_uri())


async def command(client: LanguageClient, name: str, *args: Any) -> Any:
    got = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=list(args))
    )
    return as_dict(got)


async def test_type_hierarchy_from_inherits_edges(client: LanguageClient, project: Path) -> None:
    items = await client.text_document_prepare_type_hierarchy_async(
        types.TypeHierarchyPrepareParams(
            text_document=doc(project), position=types.Position(line=6, character=4)
        )
    )  # inside `class Square(Shape)`, in its method: the class is still the type
    assert items is not None and [i.name for i in items] == ["Square"]
    assert items[0].kind == types.SymbolKind.Class
    sup = await client.type_hierarchy_supertypes_async(
        types.TypeHierarchySupertypesParams(item=items[0])
    )
    sub = await client.type_hierarchy_subtypes_async(
        types.TypeHierarchySubtypesParams(item=items[0])
    )
    assert [i.name for i in sup or []] == ["Shape"]
    assert [i.name for i in sub or []] == ["Cube"]
    assert (sup or [])[0].range.start.line == 0
    # Outside every class: nothing to prepare.
    none = await client.text_document_prepare_type_hierarchy_async(
        types.TypeHierarchyPrepareParams(
            text_document=doc(project), position=types.Position(line=15, character=4)
        )
    )
    assert not none


async def test_commands_match_the_cli(client: LanguageClient, project: Path) -> None:
    provider = INIT[id(client)].capabilities.execute_command_provider
    assert provider is not None
    assert set(provider.commands) == {
        "isgraph.reindex",
        "isgraph.impact",
        "isgraph.callers",
        "isgraph.candidates",
        "isgraph.stats",
        "isgraph.verify",
    }
    # The CLI reads the store the server holds open (embedded SQLite), as a user would.
    stats = await command(client, "isgraph.stats")
    folders = stats.pop("folders")
    assert stats == cli_json("stats", "--root", str(project))
    assert [f["root"] for f in folders] == [str(project.resolve())]
    assert stats["entities_by_kind"]["class"] >= 3  # typeshed stubs are counted too

    impact = await command(client, "isgraph.impact", "side")
    assert impact == cli_items("impact", "side", "--root", str(project))
    assert {r["qualname"] for r in impact} >= {"Square.area", "main"}
    deep = await command(client, "isgraph.impact", {"target": "ping", "depth": 1})
    assert {r["qualname"] for r in deep} == {"pong", "side"}
    callers = cli_items("callers", "pong", "--root", str(project))
    assert [r["qualname"] for r in callers] == ["ping"]
    assert await command(client, "isgraph.callers", "pong") == callers
    found = cli_items("search", "squ", "--root", str(project))
    assert found[0]["qualname"] == "Square"

    (project / "extra.py").write_text("def added_later():\n    return pong(1)\n")
    # ... while the server re-indexes it (its watcher saw the write), the CLI still answers.
    callers = cli_items("callers", "pong", "--root", str(project))
    assert "ping" in [r["qualname"] for r in callers]
    summary = await command(client, "isgraph.reindex")
    assert summary["files"] == 4 and summary["folders"][0]["files"] == 4
    assert summary["unchanged"] >= 3 and summary["errors"] == []  # incremental: only extra.py

    with pytest.raises(Exception, match=r"isgraph\.impact needs"):
        await command(client, "isgraph.impact")
    with pytest.raises(Exception, match="depth must be"):
        await command(client, "isgraph.impact", {"target": "side", "depth": "deep"})
    with pytest.raises(Exception, match="no workspace folder"):
        await command(client, "isgraph.stats", {"folder": "file:///nowhere"})
    assert (await command(client, "isgraph.stats"))["files"] == stats["files"] + 1  # serving


async def test_cycles_query_and_code_lens(client: LanguageClient, project: Path) -> None:
    answer = as_dict(await client.protocol.send_request_async("isgraph/query", {"query": "cycles"}))
    assert answer["results"] == [
        ["python:function:pkg/shapes.py:ping", "python:function:pkg/shapes.py:pong"]
    ]
    assert answer["results"] == cli_items("cycles", "--root", str(project))
    assert answer["fresh"] is True
    with pytest.raises(Exception, match="kind must be"):
        await client.protocol.send_request_async("isgraph/query", {"query": "cycles", "kind": "x"})

    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=doc(project))
    )
    assert lenses is not None
    assert [ln.range.start.line for ln in lenses] == [0, 1, 5, 6, 10, 14, 18, 22]
    side = next(ln for ln in lenses if ln.range.start.line == 14)
    resolved = await client.code_lens_resolve_async(side)
    assert resolved.command is not None
    impact = await command(client, "isgraph.impact", "python:function:pkg/shapes.py:side")
    assert resolved.command.title == f"2 callers (2 calls) · impact {len(impact)}"
    assert resolved.command.command == "isgraph.impact"
