"""Honest answers (issue 17, points 3 and 6): no list is cut without saying so, every list
command's --json has one shape, an ambiguous name's callers are told apart, and an index
that an interrupted run left incomplete says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isgraph.store.base import RESOLVE_PENDING
from isgraph.store.connect import default_store_url, open_store
from tests.pipeline.conftest import LIST_KEYS, run_cli, write_tree

TREE = {
    "a.py": (
        "def helper():\n    return 1\n\n\ndef loop1():\n    loop2()\n\n\n"
        "def loop2():\n    loop1()\n"
    ),
    "b.py": "def helper():\n    return 2\n\n\ndef spin():\n    spin()\n",
    "c.py": (
        "import a\nimport b\n\n\ndef use_a():\n    a.helper()\n    x = a.helper()\n    return x\n"
        "\n\ndef use_b():\n    return b.helper()\n"
    ),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("lists") / "proj", TREE)
    run_cli("index", str(root), "--quiet")
    return root


def _answer(root: Path, *args: str) -> tuple[dict[str, object], str]:
    proc = run_cli(*args, "--json", "--root", str(root))
    answer = json.loads(proc.stdout)
    assert isinstance(answer, dict) and set(answer) >= LIST_KEYS, answer
    return answer, proc.stderr


@pytest.mark.parametrize(
    ("args", "noun"),
    [
        (("symbols", "--limit", "2"), "symbols"),
        (("edges", "--limit", "2"), "edges"),
        (("cycles", "--limit", "1"), "cycles"),
    ],
)
def test_a_cut_list_says_so(root: Path, args: tuple[str, ...], noun: str) -> None:
    answer, stderr = _answer(root, *args)
    items = answer["items"]
    assert isinstance(items, list) and isinstance(answer["total"], int)
    assert len(items) == int(args[-1]) < answer["total"] and answer["truncated"] is True
    assert f"{len(items)} of {answer['total']} {noun} shown" in stderr
    table = run_cli(*args, "--root", str(root))
    assert f"{len(items)} of {answer['total']} {noun} shown" in table.stderr
    whole, stderr = _answer(root, *args[:-2])
    assert whole["truncated"] is False and whole["total"] == answer["total"] and stderr == ""


def test_show_has_one_shape(root: Path) -> None:
    one, _ = _answer(root, "show", "use_a")
    two, _ = _answer(root, "show", "helper")
    assert [r["qualname"] for r in one["items"]] == ["use_a"]  # type: ignore[union-attr]
    assert sorted(r["path"] for r in two["items"]) == ["a.py", "b.py"]  # type: ignore[union-attr]
    assert one["total"] == 1 and two["total"] == 2


def test_callers_of_an_ambiguous_name_are_told_apart(root: Path) -> None:
    answer, _ = _answer(root, "callers", "helper")
    by_target = {
        (r["target"], r["qualname"]): [(s["line"], s["col"]) for s in r["sites"]]
        for r in answer["items"]  # type: ignore[union-attr]
    }
    assert by_target == {
        ("python:function:a.py:helper", "use_a"): [(6, 6), (7, 10)],
        ("python:function:b.py:helper", "use_b"): [(12, 13)],
    }
    table = run_cli("callers", "helper", "--root", str(root)).stdout
    a_at, b_at = (
        table.index("callers of function helper (a.py:1)"),
        table.index("callers of function helper (b.py:1)"),
    )
    assert a_at < table.index("use_a") < b_at < table.index("use_b")
    assert "6:7, 7:11" in table  # every call site of the row, 1-based columns


def test_an_incomplete_index_says_so_until_index_completes_it(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", TREE)
    run_cli("index", str(root), "--quiet")
    store = open_store(default_store_url(root.resolve()))
    try:  # what a run cut short before its resolution leaves (tests/pipeline test the cut)
        store.set_meta(RESOLVE_PENDING, "1")
    finally:
        store.close()
    answer, stderr = _answer(root, "callers", "helper")
    assert answer["fresh"] is False and "index is incomplete" in stderr
    assert "index is incomplete" in run_cli("stats", "--root", str(root)).stderr
    run_cli("index", str(root), "--quiet")
    answer, stderr = _answer(root, "callers", "helper")
    assert answer["fresh"] is True and stderr == ""
