"""`isgraph/confirmEdges`: jedi-language-server's `definition` confirms a right inferred call
and corrects a wrong one (into typeshed's `list.sort`); both become exact."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from isgraph.proxy.confirm import call_position, index_path
from tests.lsp.test_server import as_dict, fresh
from tests.pipeline.conftest import run_cli, write_tree

from .conftest import jedi

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/a.py": """
        class Loader:
            def load_all(self) -> list[int]:
                return [1]


        class Seq:
            def rotate(self, n: int) -> None:
                pass
        """,
    "app.py": """
        import collections

        from pkg.a import Loader


        def flip() -> None:
            s = [collections.deque([1, 2])][0]  # (no rule of isgraph's types a subscript:
            s.rotate(1)  # the workspace's one `rotate` is guessed)


        def make() -> Loader:
            return Loader()


        def run() -> list[int]:
            y = [make()][0]
            return y.load_all()
        """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[LanguageClient]:
    spec = {"name": "jedi", "command": [jedi()], "languages": ["python"], "timeout_ms": 20000}
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="proj")],
            initialization_options={"downstream": [spec]},
        )
    )
    yield lsp_client
    await lsp_client.shutdown_session()


def calls(project: Path) -> dict[str, tuple[Any, Any]]:
    import json

    out = json.loads(run_cli("edges", "--kind", "calls", "--json", "--root", str(project)).stdout)
    return {e["target_name"]: (e["to"], e["resolution"]) for e in out["items"]}


async def test_confirm_and_correct(client: LanguageClient, project: Path) -> None:
    assert await fresh(client)
    before = calls(project)
    assert before.pop("Loader") == ("python:class:pkg/a.py:Loader", "exact")
    assert before.pop("make") == ("python:function:app.py:make", "exact")
    before.pop("collections.deque")
    assert before == {
        "s.rotate": ("python:method:pkg/a.py:Seq.rotate", "inferred"),  # wrong
        "y.load_all": ("python:method:pkg/a.py:Loader.load_all", "inferred"),  # right
    }
    answer = await client.protocol.send_request_async(
        "isgraph/confirmEdges", {"uri": (project / "app.py").as_uri()}
    )
    assert as_dict(answer) == {
        "checked": 2,
        "confirmed": 1,
        "corrected": 1,
        "elsewhere": 0,
        "unanswered": 0,
    }
    after = calls(project)
    assert after["s.rotate"] == (
        "python:method:@typeshed/stdlib/collections/__init__.pyi:deque.rotate",
        "exact",
    )
    assert after["y.load_all"] == ("python:method:pkg/a.py:Loader.load_all", "exact")
    assert after["make"] == ("python:function:app.py:make", "exact")  # exact ones untouched


def test_call_position_and_index_path(tmp_path: Path) -> None:
    assert call_position("    return s.splitlines()", "s.splitlines") == 13
    assert call_position("x = 'é'; f (1)", "f") == 9
    assert call_position("    value = obj.attr", "obj.attr") is None
    root = tmp_path.resolve()
    assert index_path(root, (root / "a/b.py").as_uri()) == "a/b.py"
    stub = "file:///venv/jedi/third_party/typeshed/stdlib/os/path.pyi"
    assert index_path(root, stub) == "@typeshed/stdlib/os/path.pyi"
    bp = "file:///venv/basedpyright/dist/typeshed-fallback/stdlib/builtins.pyi"
    assert index_path(root, bp) == "@typeshed/stdlib/builtins.pyi"
    assert index_path(root, "file:///elsewhere/x.py") is None
