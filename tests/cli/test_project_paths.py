"""Relative paths mean the project (issue 17, point 7), and a rerun still reports what is
wrong with files it did not need to parse again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.conftest import run_cli, write_tree


@pytest.mark.parametrize("config", ["pyproject.toml", ".isgraph.toml"])
def test_a_relative_db_is_relative_to_the_file_that_says_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    monkeypatch.setenv("ISGRAPH_TRUST_WORKSPACE", "1")  # `db` is a trusted-only key
    table = "[tool.isgraph]\n" if config == "pyproject.toml" else ""
    root = write_tree(
        tmp_path / "proj",
        {
            config: table + 'db = "sqlite:store/graph.db"\n',
            "a.py": "def f():\n    g()\n\n\ndef g():\n    pass\n",
        },
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    summary = json.loads(run_cli("index", str(root), "--json", cwd=elsewhere).stdout)
    assert summary["files"] == 1
    assert (root / "store" / "graph.db").exists()
    assert not (elsewhere / "store").exists()
    callers = json.loads(
        run_cli("callers", "g", "--root", str(root), "--json", cwd=elsewhere).stdout
    )
    rows = callers["items"]
    assert [r["name"] for r in rows] == ["f"]


def test_a_rerun_still_reports_syntax_errors_of_unchanged_files(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "proj",
        {"good.py": "def f():\n    pass\n", "bad.py": "def g(:\n    pass\n", "latin.py": ""},
    )
    (root / "latin.py").write_bytes(b"x = '\xe9'\n")
    runs = [json.loads(run_cli("index", str(root), "--json").stdout) for _ in range(2)]
    assert runs[1]["parsed"] == 0 and runs[1]["unchanged"] == 3
    for summary in runs:
        assert [e["path"] for e in summary["errors"]] == ["bad.py"]
        assert "syntax error" in summary["errors"][0]["error"]
        assert [s["path"] for s in summary["skipped"]] == ["latin.py"]
    assert runs[0]["errors"] == runs[1]["errors"] and runs[0]["skipped"] == runs[1]["skipped"]
