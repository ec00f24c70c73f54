"""A query process imports only what answering needs (issue 17, point 9): the indexing
pipeline, asyncio and rich's progress machinery cost ~0.3 s at every start, and the answer
itself takes milliseconds. Checked by the modules a real run imports (`python -X importtime`),
not by wall-clock time; `bench/cli_bench.py` prints the times."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.conftest import PROJECT, run_cli, write_tree

HEAVY = ("isgraph.index.pipeline", "isgraph.index.service", "asyncio", "rich.progress")
# A plain query is answered without the command-line parser (`query_commands.run_plain`), and
# opening an existing store starts no helper process and loads no C library by hand.
PARSER = ("typer", "pydantic", "isgraph.cli", "tree_sitter", "multiprocessing", "ctypes")


def _imported(*args: str, cwd: Path | None = None) -> set[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("ISGRAPH_DB", None)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "isgraph", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("startup") / "proj", PROJECT)
    run_cli("index", str(root), "--quiet")
    return root


def test_version_imports_no_parser() -> None:
    mods = _imported("--version")
    assert "typer" not in mods and "isgraph.cli" not in mods


@pytest.mark.parametrize(
    "args",
    [
        ("callers", "make", "--json"),
        ("search", "engine", "--json"),
        ("show", "Engine", "--json"),
        ("symbols", "--kind", "class"),  # a table: rich's console and table, not its progress
    ],
)
def test_a_query_imports_no_indexing_machinery(indexed: Path, args: tuple[str, ...]) -> None:
    mods = _imported(*args, "--root", str(indexed))
    assert "isgraph.store.cozo" in mods  # it did answer from the store
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))
    assert not mods & set(PARSER), sorted(mods & set(PARSER))
    if "--json" in args:
        assert "rich.console" not in mods


def test_a_no_change_rerun_imports_no_parser_nor_extractor(tmp_path: Path) -> None:
    """`isgraph index` with nothing changed (issue 19: <= 0.35 s on the stdlib) is mostly
    start-up: no typer (a plain invocation), no extractor or grammar in the parent, and no
    pool (whose forkserver would import them all in a process of its own)."""
    root = write_tree(tmp_path / "proj", PROJECT)
    first = _imported("index", str(root), "--json", "-q")
    assert "isgraph.index.service" in first and "multiprocessing.forkserver" in first
    mods = _imported("index", str(root), "--json", "-q")
    assert "isgraph.index.service" in mods  # it did run the index
    unwanted = {"typer", "pydantic", "tree_sitter", "isgraph.index.extract.registry"}
    unwanted |= {"isgraph.index.extract.python", "multiprocessing.forkserver", "rich.progress"}
    assert not mods & unwanted, sorted(mods & unwanted)
