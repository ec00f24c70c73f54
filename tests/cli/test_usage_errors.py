"""Validated input (issue 17, point 5): a value the command cannot mean is a usage error that
names the valid values, exit 2, one line on stderr (docs/cli.md) — never an empty answer with
exit 0, never a box drawn over several lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.conftest import PROJECT, run_cli, write_tree


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("usage") / "proj", PROJECT)
    run_cli("index", str(root), "--quiet")
    return root


def _usage_error(*args: str, cwd: Path | None = None) -> str:
    proc = run_cli(*args, cwd=cwd, check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("isgraph: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "valid"),
    [
        (("symbols", "--kind", "bogus"), ("class", "function", "method", "struct")),
        (("edges", "--kind", "call"), ("calls", "imports", "inherits")),
        (("edges", "--resolution", "bogus"), ("exact", "inferred", "unresolved")),
        (("cycles", "--kind", "call"), ("calls", "imports", "inherits")),
    ],
)
def test_a_bad_choice_names_the_valid_ones(
    indexed: Path, args: tuple[str, ...], valid: tuple[str, ...]
) -> None:
    line = _usage_error(*args, "--root", str(indexed))
    assert repr(args[-1]) in line and all(v in line for v in valid), line


def test_parser_errors_are_one_line(indexed: Path) -> None:
    assert "--bogus" in _usage_error("callers", "make", "--bogus", "--root", str(indexed))
    assert "--depth" in _usage_error("callers", "make", "--depth", "0", "--root", str(indexed))
    assert "frobnicate" in _usage_error("frobnicate")


def test_index_wants_a_directory(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"a.py": "def f():\n    pass\n"})
    line = _usage_error("index", str(root / "a.py"))
    assert "is a file" in line and "directory" in line
    line = _usage_error("index", str(tmp_path / "missing"))
    assert "no such directory" in line and str(tmp_path / "missing") in line
    assert not (root / "a.py" / ".isgraph").exists() and not (tmp_path / "missing").exists()


def test_an_error_naming_a_toml_table_keeps_it(tmp_path: Path) -> None:
    """Messages are printed verbatim: rich markup would have eaten ``[tool.isgraph]``."""
    root = write_tree(tmp_path / "p", {"pyproject.toml": "[tool.isgraph]\nbogus = 1\n"})
    line = _usage_error("index", str(root))
    assert "[tool.isgraph]" in line and "'bogus'" in line


def test_verbose_is_accepted_after_the_command(indexed: Path) -> None:
    proc = run_cli("callers", "make", "-v", "--root", str(indexed))
    assert "Engine.run" in proc.stdout
    assert "INFO" in proc.stderr  # -v logs (docs/cli.md)
