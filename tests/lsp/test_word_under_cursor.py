"""The editor acts on the word under the cursor (issue 17, point 1), through a real LSP client
against the real `isgraph serve`: hover, definition, references and the hierarchies' prepare
answer for a call's callee, an imported name, a base class or a definition's own name — not
for the function the cursor is in — and say so when a name is not resolved; ranges cover the
name, not whole lines or a body's column 0."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pipeline.conftest import write_tree

from .rawclient import RawClient
from .test_server import as_dict, fresh

PROJECT = {
    "lib.py": """
        class Base:
            pass


        def helper(value):
            return value


        class A:
            def ambig(self):
                pass


        class B:
            def ambig(self):
                pass
        """,
    "app.py": """
        from lib import Base, helper


        class Thing(Base):
            pass


        def render(value, obj):
            helper(value)
            obj.ambig()
            return helper(value)
        """,
}
# 0-based lines of app.py
IMPORT, THING, RENDER, CALL1, AMBIG, CALL2 = 0, 3, 7, 8, 9, 10


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        )
    )
    assert await fresh(lsp_client)
    app = project / "app.py"
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=app.as_uri(), language_id="python", version=1, text=app.read_text()
            )
        )
    )
    yield lsp_client
    await lsp_client.shutdown_session()


def _doc(project: Path, rel: str = "app.py") -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=(project / rel).as_uri())


async def _hover(client: LanguageClient, project: Path, line: int, char: int) -> str | None:
    got = await client.text_document_hover_async(
        types.HoverParams(
            text_document=_doc(project), position=types.Position(line=line, character=char)
        )
    )
    if got is None:
        return None
    assert isinstance(got.contents, types.MarkupContent)
    return got.contents.value


def _span(rng: types.Range) -> tuple[int, int, int]:
    assert rng.start.line == rng.end.line
    return rng.start.line, rng.start.character, rng.end.character


async def test_hover_answers_for_the_word(client: LanguageClient, project: Path) -> None:
    on_call = await _hover(client, project, CALL1, 6)  # helper(value) inside render()
    assert on_call is not None and "**function** `helper(value)`" in on_call
    assert "render" not in on_call
    on_import = await _hover(client, project, IMPORT, 24)  # `helper` in the import
    assert on_import is not None and "`helper(value)`" in on_import
    on_base = await _hover(client, project, THING, 13)  # `Base` in Thing's bases
    assert on_base is not None and "**class** `Base`" in on_base
    on_name = await _hover(client, project, RENDER, 6)  # the definition's own name
    assert on_name is not None and "**function** `render(value, obj)`" in on_name
    unresolved = await _hover(client, project, AMBIG, 9)  # obj.ambig(): two methods so named
    assert unresolved is not None
    assert "unresolved call to `ambig`, 2 candidates" in unresolved
    assert await _hover(client, project, CALL1, 2) is None  # indentation: nothing


async def test_definition_targets_the_name(client: LanguageClient, project: Path) -> None:
    got = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=_doc(project), position=types.Position(line=CALL2, character=14)
        )
    )
    assert isinstance(got, list) and len(got) == 1
    assert got[0].uri == (project / "lib.py").as_uri()
    assert _span(got[0].range) == (4, 4, 10)  # `helper` in `def helper(value):`


async def test_references_of_a_call_site_word(client: LanguageClient, project: Path) -> None:
    async def refs(rel: str, line: int, char: int) -> set[tuple[str, tuple[int, int, int]]]:
        got = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=_doc(project, rel),
                position=types.Position(line=line, character=char),
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        return {(Path(loc.uri).name, _span(loc.range)) for loc in got or []}

    from_call = await refs("app.py", CALL1, 5)
    calls = {("app.py", (CALL1, 4, 10)), ("app.py", (CALL2, 11, 17))}
    assert calls <= from_call  # each call's name, not the line, not render's references
    assert all(end - start == len("helper") for _, (_, start, end) in from_call)
    assert await refs("lib.py", 4, 6) == from_call  # from the definition's name: the same


async def test_hierarchies_prepare_on_the_word(client: LanguageClient, project: Path) -> None:
    items = await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=_doc(project), position=types.Position(line=CALL1, character=6)
        )
    )
    assert [i.name for i in items or []] == ["helper"]
    assert items is not None
    incoming = await client.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=items[0])
    )
    assert [(c.from_.name, sorted(_span(r) for r in c.from_ranges)) for c in incoming or []] == [
        ("render", [(CALL1, 4, 10), (CALL2, 11, 17)])
    ]
    types_ = await client.text_document_prepare_type_hierarchy_async(
        types.TypeHierarchyPrepareParams(
            text_document=_doc(project), position=types.Position(line=THING, character=13)
        )
    )
    assert [t.name for t in types_ or []] == ["Base"]  # the base under the cursor, not Thing


async def test_items_select_the_name(client: LanguageClient, project: Path) -> None:
    """Hierarchy items and document symbols carry the definition's name as their selection
    range (what the editor highlights when it reveals an item), inside the whole range."""
    items = await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=_doc(project), position=types.Position(line=CALL1, character=6)
        )
    )
    assert items is not None and len(items) == 1
    assert _span(items[0].selection_range) == (4, 4, 10)  # `helper` in `def helper(value):`
    incoming = await client.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=items[0])
    )
    assert [_span(c.from_.selection_range) for c in incoming or []] == [(RENDER, 4, 10)]
    bases = await client.text_document_prepare_type_hierarchy_async(
        types.TypeHierarchyPrepareParams(
            text_document=_doc(project), position=types.Position(line=THING, character=13)
        )
    )
    assert bases is not None and _span(bases[0].selection_range) == (0, 6, 10)  # class Base
    subs = await client.type_hierarchy_subtypes_async(
        types.TypeHierarchySubtypesParams(item=bases[0])
    )
    assert [(t.name, _span(t.selection_range)) for t in subs or []] == [("Thing", (THING, 6, 11))]
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=_doc(project))
    )
    got = {
        s.name: _span(s.selection_range)
        for s in symbols or []
        if isinstance(s, types.DocumentSymbol)
    }
    assert got == {"Thing": (THING, 6, 11), "render": (RENDER, 4, 10)}
    for s in symbols or []:
        assert isinstance(s, types.DocumentSymbol)
        assert s.range.start.line <= s.selection_range.start.line <= s.range.end.line


async def _actions(
    client: LanguageClient, project: Path, line: int, char: int, only: list[str] | None = None
) -> list[types.Command]:
    """The actions offered at a position. This client declares no code action literal
    support, so (as the protocol says) the server answers with bare commands."""
    pos = types.Position(line=line, character=char)
    got = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=_doc(project),
            range=types.Range(start=pos, end=pos),
            context=types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    cmds = [a for a in got or [] if isinstance(a, types.Command)]
    assert len(cmds) == len(got or [])
    return cmds


async def _run(client: LanguageClient, action: types.Command) -> list[dict[str, object]]:
    got = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=action.command, arguments=action.arguments)
    )
    return [as_dict(r) for r in got]


async def test_code_actions_act_on_the_word(client: LanguageClient, project: Path) -> None:
    on_call = await _actions(client, project, CALL1, 6)  # helper(value) inside render()
    assert [a.title for a in on_call] == [
        "isgraph: show callers of `helper`",
        "isgraph: show impact of `helper`",
    ]
    callers = await _run(client, on_call[0])
    assert {r["qualname"] for r in callers} == {"render"}  # helper's callers, not render's
    assert {r["target"] for r in callers} == {"python:function:lib.py:helper"}
    impact = await _run(client, on_call[1])
    assert {r["qualname"] for r in impact} >= {"render"}
    on_name = await _actions(client, project, RENDER, 6)  # render's own name: for render
    assert on_name[0].title == "isgraph: show callers of `render`"
    assert await _run(client, on_name[0]) == []  # nothing calls render
    on_base = await _actions(client, project, THING, 13)  # `Base` in Thing's bases
    assert "isgraph: show impact of `Base`" in [a.title for a in on_base]


async def test_code_actions_on_unresolved_and_whitespace(
    client: LanguageClient, project: Path
) -> None:
    unresolved = await _actions(client, project, AMBIG, 9)  # obj.ambig(): two methods
    assert [a.title for a in unresolved] == ["isgraph: show the 2 definitions named `ambig`"]
    cands = await _run(client, unresolved[0])
    assert sorted(str(r["qualname"]) for r in cands) == ["A.ambig", "B.ambig"]
    assert await _actions(client, project, CALL1, 2) == []  # leading whitespace
    assert await _actions(client, project, THING + 2, 0) == []  # an empty line
    assert await _actions(client, project, CALL1, 11) == []  # `value`, a local
    # A client asking only for fixes (or organize imports on save) gets none of these.
    assert await _actions(client, project, CALL1, 6, only=["quickfix"]) == []


async def test_code_actions_for_a_client_with_literal_support(project: Path) -> None:
    """A client that declares code action literal support (VS Code does) gets `CodeAction`
    objects carrying the command, checked on the wire."""
    literal = {"codeActionKind": {"valueSet": ["", "quickfix", "refactor"]}}
    caps = {"textDocument": {"codeAction": {"codeActionLiteralSupport": literal}}}
    client = await RawClient.start(project, None, capabilities=caps)
    try:
        await client.fresh()
        pos = {"line": CALL1, "character": 6}
        answer = await client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": (project / "app.py").as_uri()},
                "range": {"start": pos, "end": pos},
                "context": {"diagnostics": []},
            },
        )
        acts = answer["result"]
        assert [a["title"] for a in acts] == [
            "isgraph: show callers of `helper`",
            "isgraph: show impact of `helper`",
        ]
        assert [a["command"]["command"] for a in acts] == ["isgraph.callers", "isgraph.impact"]
        assert all(a["command"]["arguments"] == ["python:function:lib.py:helper"] for a in acts)
        assert "kind" not in acts[0]  # neither a fix nor a refactoring
    finally:
        await client.close()
