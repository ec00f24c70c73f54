"""Search finds what people type (issue 17, point 4): ``Class.method``, ``module.function``
and ``package.module.function``; stubs and vendored/minified files only when asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isgraph.queries import lookup
from isgraph.store.connect import default_store_url, open_store
from tests.pipeline.conftest import PROJECT, run_cli, write_tree

FILES = {
    **PROJECT,
    "vendor/lib.py": "def make_vendored():\n    pass\n",
    "static/app.min.js": "function make_min(){return 1}\n",
    "third_party/x/y.py": "class Engine:\n    def run(self):\n        pass\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("search") / "proj", FILES)
    run_cli("index", str(root), "--quiet")
    return root


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("Engine.run", "python:method:pkg/core.py:Engine.run"),
        ("core.make", "python:function:pkg/core.py:make"),
        ("pkg.core.make", "python:function:pkg/core.py:make"),
        ("pkg.core.Engine", "python:class:pkg/core.py:Engine"),
        ("util.go", "python:function:pkg/util.py:go"),
        ("engine.run", "python:method:pkg/core.py:Engine.run"),  # the qualifier's case
    ],
)
def test_a_dotted_name_finds_what_it_qualifies(root: Path, query: str, key: str) -> None:
    store = open_store(default_store_url(root.resolve()))
    try:
        found = lookup.search(store, query, 5, stubs=False, vendored=False)
    finally:
        store.close()
    assert found.items and found.items[0].key == key, [e.key for e in found.items]
    rows = json.loads(run_cli("search", query, "--json", "--root", str(root)).stdout)["items"]
    assert rows[0]["key"] == key


def test_a_dotted_suffix_matches_whole_parts_only(root: Path) -> None:
    store = open_store(default_store_url(root.resolve()))
    try:
        assert lookup.qualified(store, "ore.make") == []  # not a part of pkg.core
        assert [e.key for e in lookup.qualified(store, "core.make")] == [
            "python:function:pkg/core.py:make"
        ]
    finally:
        store.close()


def test_stubs_and_vendored_files_only_on_request(root: Path) -> None:
    def paths(*args: str) -> set[str]:
        answer = json.loads(run_cli("search", *args, "--json", "--root", str(root)).stdout)
        return {r["path"] for r in answer["items"]}

    assert paths("make") == {"pkg/core.py"}
    assert {"vendor/lib.py", "static/app.min.js"} <= paths("make", "--vendored")
    assert paths("Engine.run") == {"pkg/core.py"}
    assert "third_party/x/y.py" in paths("Engine.run", "--vendored")
    assert not any(p.startswith("@") for p in paths("len"))
    assert "@typeshed/stdlib/builtins.pyi" in paths("len", "--stubs")
