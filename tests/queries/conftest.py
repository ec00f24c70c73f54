"""The fixture repo of the query layer's tests (and the MCP server's): `PROJECT` plus a file
whose calls resolve only by a guess (inferred) or not at all, and two test files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isgraph.store.base import Store
from isgraph.store.connect import default_store_url, open_store
from tests.pipeline.conftest import PROJECT, run_cli, write_tree

FILES: dict[str, str] = {
    **PROJECT,
    # x and y have no known type: `x.helper()` is a guess (the only method named helper),
    # `y.make()` names no method at all (make is a function): unresolved.
    "pkg/loose.py": """
        def poke(x):
            x.helper()
            return x.helper()


        def far(y):
            return y.make()
        """,
    "tests/test_core.py": """
        from pkg.core import Engine


        def test_run():
            assert Engine().run() == 1
        """,
    "tests/test_loose.py": """
        from pkg.loose import poke


        def test_poke():
            poke(None)
        """,
}


def make_repo(root: Path) -> Path:
    """The fixture repo written under ``root`` and indexed by the real CLI (embedded store)."""
    write_tree(root, FILES)
    run_cli("index", str(root), "--quiet")
    return root


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("queries") / "repo")


@pytest.fixture(scope="module")
def store(repo: Path) -> Iterator[Store]:
    opened = open_store(default_store_url(repo), repo)
    try:
        yield opened
    finally:
        opened.close()
