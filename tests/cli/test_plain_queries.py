"""Plain query invocations are answered without typer (`query_commands.run_plain`, issue 17
point 9) and answer exactly what typer's front answers: same stdout, stderr and exit code,
for every query command and every way of writing its options; anything else (help, usage
errors) is typer's. Run as real processes on a real indexed project."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from isgraph.plain_args import parse
from isgraph.query_commands import COMMANDS
from tests.cli.fronts import TYPER, run_front
from tests.pipeline.conftest import PROJECT, run_cli, write_tree

# Through typer whatever the arguments: the front as it was before the plain path.


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("plain") / "proj", PROJECT)
    run_cli("index", str(root), "--quiet")
    return root


def _run(prefix: list[str], args: tuple[str, ...], cwd: Path) -> tuple[int, str, str, bool]:
    code, stdout, stderr, used_typer = run_front(prefix, args, cwd, timeout=120)
    return code, stdout, re.sub(r"[0-9.]+ ms", "N ms", stderr), used_typer  # -v logs times


PLAIN = [
    ("callers", "make", "--json"),
    ("callers", "make"),  # a table
    ("callers", "make", "-d", "2", "--json"),
    ("callers", "--depth=2", "make", "--json", "-v"),  # options first, -v after the command
    ("-v", "callees", "Engine.run", "--json"),
    ("impact", "make", "--json"),
    ("show", "Engine", "--json"),
    ("show", "Engine"),
    ("show", "Nope"),  # no such symbol: exit 2, one line naming the nearest
    ("search", "eng", "--limit", "1", "--json"),  # cut: "1 of N" on stderr
    ("search", "Engine.run", "--stubs", "--vendored", "--json"),
    ("symbols", "--kind", "class", "--json"),
    ("symbols", "--name", "e", "--file", "pkg/core.py"),
    ("edges", "--kind", "calls", "--resolution", "exact", "--limit", "2", "--json"),
    ("cycles", "--json"),
    ("stats", "--json"),
    ("stats", "--stubs"),
]
TYPER_ONLY = [
    ("callers", "--help"),
    ("callers", "make", "-d", "0"),  # out of range: typer's usage error
    ("callers", "make", "-d2"),  # attached short value: left to typer
    ("symbols", "--kind", "bogus"),
    ("search",),  # missing argument
    ("search", "x", "y"),
    ("search", "x", "--limit", "-1"),
    ("search", "x", "--json", "--json"),
    ("search", "--", "-x"),
    ("stats", "--nope"),
]


@pytest.mark.parametrize("args", PLAIN + TYPER_ONLY, ids=" ".join)
def test_plain_path_answers_as_typer_does(indexed: Path, args: tuple[str, ...]) -> None:
    code, stdout, stderr, used_typer = _run(["-m", "isgraph"], args, indexed)
    assert used_typer == (args in TYPER_ONLY)
    assert (code, stdout, stderr) == _run(["-c", TYPER], args, indexed)[:3]


def test_every_query_command_has_a_plain_case() -> None:
    assert {c.name for c in COMMANDS} <= {next(a for a in args if a != "-v") for args in PLAIN}


def test_parse_reads_what_typer_would() -> None:
    found = parse(["search", "--limit=3", "q", "-v", "--json"], COMMANDS)
    assert found is not None
    command, values, verbose = found
    assert command.name == "search" and verbose
    assert values == {
        "query": "q",
        "limit": 3,
        "stubs": False,
        "vendored": False,
        "as_json": True,
        "db": None,
        "root": None,
    }
    assert parse(["index", "."], COMMANDS) is None  # not a query command
    assert parse(["callers", "x", "--depth", "51"], COMMANDS) is None  # max 50
    assert parse(["callers", "x", "--root"], COMMANDS) is None  # a value is missing


def test_a_workspace_module_does_not_shadow_isgraphs(indexed: Path, tmp_path: Path) -> None:
    """`python -m isgraph` started in a directory holding a `json.py` (the VS Code extension
    starts the server in the workspace) imports the standard library's, not that one."""
    (tmp_path / "json.py").write_text("raise ImportError('the workspace json.py was imported')\n")
    proc = run_cli("callers", "make", "--json", "--root", str(indexed), cwd=tmp_path)
    assert '"items"' in proc.stdout


def test_an_answer_is_whole_and_a_closed_pipe_ends_it_quietly(indexed: Path) -> None:
    """A plain query's process ends without the interpreter's teardown (`entry._quick_exit`):
    its answer still arrives whole (through a pipe: block-buffered), with exit 0; a reader
    that closes stdout before the answer is written gets exit 1 and no traceback, as typer's
    front does."""
    # Buffered as a user's shell has it (the test environment may set PYTHONUNBUFFERED).
    env = {k: v for k, v in os.environ.items() if k not in ("ISGRAPH_DB", "PYTHONUNBUFFERED")}
    cmd = [sys.executable, "-m", "isgraph", "symbols", "--json", "--root", str(indexed)]
    whole = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    typer = subprocess.run(
        [sys.executable, "-c", TYPER, *cmd[3:]], capture_output=True, text=True, env=env
    )
    assert whole.returncode == 0 and whole.stdout == typer.stdout
    assert whole.stdout.rstrip().endswith("}")
    table = [*cmd[:3], "callers", "make", "--root", str(indexed)]  # rich writes it
    env_cols = {**env, "COLUMNS": "200"}
    plain = subprocess.run(table, capture_output=True, text=True, env=env_cols, timeout=120)
    typer = subprocess.run(
        [sys.executable, "-c", TYPER, *table[3:]], capture_output=True, text=True, env=env_cols
    )
    assert plain.returncode == 0 and plain.stdout == typer.stdout and "pkg/" in plain.stdout
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the answer is written: writing it fails with EPIPE
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "Exception ignored" not in err, err
