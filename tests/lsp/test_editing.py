"""Unsaved edits, workspace folder changes and settings, through a real LSP client against the
real `isgraph serve` subprocess."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.pipeline.conftest import write_tree

from .test_server import PROJECT, as_dict, fresh, symbols, until

SERVE = ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


@pytest_lsp.fixture(config=SERVE)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
        )
    )
    assert await fresh(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


async def names(client: LanguageClient, query: str) -> list[str]:
    return [s.name for s in await symbols(client, query)]


async def absent(client: LanguageClient, query: str) -> bool:
    return query not in await names(client, query)


def open_doc(client: LanguageClient, path: Path, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id="python", version=1, text=text
            )
        )
    )


def edit(client: LanguageClient, path: Path, version: int, line: int, text: str) -> None:
    """Insert ``text`` at the start of ``line`` (an incremental change, as editors send)."""
    at = types.Position(line=line, character=0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text
                )
            ],
        )
    )


def close_doc(client: LanguageClient, path: Path) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )


async def test_unsaved_edits_are_indexed_and_close_reverts(
    client: LanguageClient, project: Path
) -> None:
    app = project / "app.py"
    on_disk = app.read_text()
    open_doc(client, app, on_disk)
    edit(client, app, 2, 0, "def typed_not_saved():\n    return helper()\n\n\n")
    assert await until(lambda: names(client, "typed_not_saved")) == ["typed_not_saved"]
    assert app.read_text() == on_disk  # from the editor's buffer, not the disk
    # Its call resolves like any other: the edit went through the same pipeline and resolver
    # (resolution runs once edits pause: `fresh` says when it is done).
    assert await fresh(client)
    callers = as_dict(
        await client.protocol.send_request_async(
            "isgraph/query",
            {"query": "callers", "target": "python:function:pkg/core.py:helper"},
        )
    )
    assert "typed_not_saved" in {r["qualname"] for r in callers["results"]}

    # A second edit renames it: the old name goes, the new one comes.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=app.as_uri(), version=3),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(
                    text="def renamed_unsaved():\n    pass\n\n\n" + on_disk
                )
            ],
        )
    )
    assert await until(lambda: names(client, "renamed_unsaved")) == ["renamed_unsaved"]
    assert await until(lambda: absent(client, "typed_not_saved"))

    close_doc(client, app)  # closed without saving: the disk's version is back
    assert await until(lambda: absent(client, "renamed_unsaved"))
    assert await names(client, "main") == ["main"]

    # A new file that exists only in the editor.
    new = project / "scratch.py"
    open_doc(client, new, "")
    edit(client, new, 2, 0, "def only_in_editor():\n    pass\n")
    assert await until(lambda: names(client, "only_in_editor")) == ["only_in_editor"]
    assert not new.exists()
    close_doc(client, new)
    assert await until(lambda: absent(client, "only_in_editor"))

    # Saved: the disk holds the edit now, and stays indexed after close.
    open_doc(client, app, on_disk)
    edit(client, app, 2, 0, "def saved_edit():\n    pass\n\n\n")
    app.write_text("def saved_edit():\n    pass\n\n\n" + on_disk)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=app.as_uri())
        )
    )
    close_doc(client, app)
    assert await until(lambda: names(client, "saved_edit")) == ["saved_edit"]
    assert await fresh(client)
    assert await names(client, "saved_edit") == ["saved_edit"]


async def test_an_opened_buffer_that_differs_from_the_disk_is_indexed(
    client: LanguageClient, project: Path
) -> None:
    """A document opened with text the disk doesn't have (a restored unsaved buffer) is
    indexed without any edit; one opened as on disk changes nothing."""
    app = project / "app.py"
    on_disk = app.read_text()
    open_doc(client, project / "pkg" / "core.py", (project / "pkg" / "core.py").read_text())
    open_doc(client, app, "def restored_unsaved():\n    pass\n\n\n" + on_disk)
    assert await until(lambda: names(client, "restored_unsaved")) == ["restored_unsaved"]
    assert app.read_text() == on_disk
    assert await fresh(client)  # nothing owed for the unchanged core.py
    close_doc(client, app)
    assert await until(lambda: absent(client, "restored_unsaved"))
    assert await names(client, "main") == ["main"]


async def test_workspace_folders_come_and_go(
    client: LanguageClient, project: Path, tmp_path: Path
) -> None:
    other = write_tree(tmp_path / "other", {"lib.py": "def from_other_folder():\n    pass\n"})
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=other.as_uri(), name="other")], removed=[]
            )
        )
    )
    assert await until(lambda: names(client, "from_other_folder")) == ["from_other_folder"]
    assert await names(client, "helper") == ["helper"]
    # With two folders, `isgraph/query` records say which folder their path is relative to.
    answer = as_dict(
        await client.protocol.send_request_async(
            "isgraph/query", {"query": "search", "target": "from_other_folder"}
        )
    )
    assert [(r["path"], r["folder"]) for r in answer["results"]] == [("lib.py", other.as_uri())]
    assert (other / ".isgraph").is_dir()  # its own embedded store

    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[], removed=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")]
            )
        )
    )
    assert await until(lambda: absent(client, "helper"))
    assert await names(client, "from_other_folder") == ["from_other_folder"]
    # Its documents are outside every folder now: nothing is read for them.
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(
            text_document=types.TextDocumentIdentifier(uri=(project / "app.py").as_uri())
        )
    )
    assert outline == []
    # The removed folder is no longer watched: a change there is not indexed.
    (project / "late.py").write_text("def written_after_removal():\n    pass\n")
    (other / "lib2.py").write_text("def second_in_other():\n    pass\n")
    assert await until(lambda: names(client, "second_in_other")) == ["second_in_other"]
    assert await absent(client, "written_after_removal")


CONFIG_PROJECT = {
    **PROJECT,
    "gen/generated.py": "def generated_function():\n    pass\n",
    "big.py": "def in_a_big_file():\n    pass\n" + "# padding\n" * 300,
}


@pytest_lsp.fixture(config=SERVE)
async def configured(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[LanguageClient]:
    root = write_tree(tmp_path / "proj", CONFIG_PROJECT)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(configuration=True)
            ),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="proj")],
            initialization_options={"excludes": ["gen/"], "max-file-size": 1000},
        )
    )
    assert await fresh(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_settings_from_initialization_options_and_changes(
    configured: LanguageClient, tmp_path: Path
) -> None:
    client = configured
    assert await names(client, "helper") == ["helper"]
    assert await absent(client, "generated_function")  # excluded
    assert await absent(client, "in_a_big_file")  # over the size limit

    # A bad value is reported and keeps the previous one; the good ones apply.
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"isgraph": {"excludes": [], "max_file_size": "big"}}
        )
    )
    assert await until(lambda: names(client, "generated_function")) == ["generated_function"]
    assert await absent(client, "in_a_big_file")  # the limit stayed 1000
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and "'max_file_size' must be int" in errors[0].message
    assert "keeping the previous value" in errors[0].message

    # Pull model (as VS Code): settings null, the server asks workspace/configuration.
    client.set_configuration({"excludes": [], "max_file_size": 100_000}, section="isgraph")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert await until(lambda: names(client, "in_a_big_file")) == ["in_a_big_file"]

    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"isgraph": {"jobs": 0, "nonsense": 1}})
    )
    await until(lambda: _messages(client, 3))
    texts = " ".join(m.message for m in client.messages)
    assert "'jobs' must be >= 1" in texts and "unknown key 'nonsense'" in texts

    # Another store: opened and indexed, the old one left as it was.
    other = tmp_path / "elsewhere" / "index.db"
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={
                "isgraph": {"excludes": [], "max_file_size": 100_000, "db": f"sqlite:{other}"}
            }
        )
    )
    assert await until(lambda: _exists(other))
    assert await fresh(client)
    assert await until(lambda: names(client, "in_a_big_file")) == ["in_a_big_file"]
    assert await names(client, "helper") == ["helper"]


async def _messages(client: LanguageClient, n: int) -> bool:
    return len(client.messages) >= n


async def _exists(path: Path) -> bool:
    return path.exists()
