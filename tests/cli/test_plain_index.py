"""A plain `isgraph index` runs without typer (`index_command.INDEX`, issue 19: typer and
pydantic were ~40 % of a no-change rerun) and does what typer's front does: same exit code,
same stdout and stderr (timings aside), the same store; anything else (other options, help,
usage errors) is typer's. Real processes on a real project, each run on its own copy."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from isgraph.index_command import INDEX
from isgraph.plain_args import parse
from tests.cli.fronts import TYPER, run_front
from tests.pipeline.conftest import PROJECT, write_tree


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("plain-index") / "proj", PROJECT)


def _run(prefix: list[str], args: tuple[str, ...], cwd: Path) -> tuple[int, str, str, bool]:
    code, stdout, stderr, used_typer = run_front(prefix, args, cwd, timeout=300)
    return code, _same(stdout, cwd), _same(stderr, cwd), used_typer


def _same(text: str, root: Path) -> str:
    """``text`` without what differs between two equal runs: the copy's path and times."""
    text = text.replace(str(root.resolve()), "ROOT")
    try:
        record = json.loads(text)
    except ValueError:
        return re.sub(r"[0-9.]+ ?m?s\b", "N s", text)
    return json.dumps({k: v for k, v in record.items() if not k.endswith("seconds")})


PLAIN = [
    ("index", ".", "--json", "-q"),
    ("index", "--json"),
    ("index", "-q"),  # the table
    ("index", "-j", "1", "--max-file-size=100000", "--json", "--quiet"),
    ("index", "--db", "sqlite:other.db", "--json", "-q"),
    ("index", "missing", "-q"),  # no such directory: exit 2, one line
    ("index", "pkg/core.py", "-q"),  # a file: exit 2, one line
]
TYPER_ONLY = [
    ("index", "--exclude", "build", "--json", "-q"),
    ("index", "-j", "0"),  # out of range: typer's usage error
    ("index", "--help"),
    ("index", "a", "b"),
]


@pytest.mark.parametrize("args", PLAIN + TYPER_ONLY, ids=" ".join)
def test_plain_index_runs_as_typer_does(
    project: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    plain_root, typer_root = tmp_path / "plain", tmp_path / "typer"
    shutil.copytree(project, plain_root)
    shutil.copytree(project, typer_root)
    code, stdout, stderr, used_typer = _run(["-m", "isgraph"], args, plain_root)
    assert used_typer == (args in TYPER_ONLY)
    assert (code, stdout, stderr) == _run(["-c", TYPER], args, typer_root)[:3]
    if code == 0 and "--help" not in args:  # it indexed; a plain rerun parses nothing
        rerun = (*(a for a in args if a != "--json"), "--json")
        record = json.loads(_run(["-m", "isgraph"], rerun, plain_root)[1])
        assert record["parsed"] == 0 and record["unchanged"] > 0


def test_parse_reads_what_typer_would() -> None:
    found = parse(["index", "-j", "2", "src", "--json"], (INDEX,))
    assert found is not None
    command, values, verbose = found
    assert command is INDEX and not verbose
    assert values == {
        "root": Path("src"),
        "db": None,
        "jobs": 2,
        "max_file_size": None,
        "as_json": True,
        "quiet": False,
    }
    assert parse(["index", "--exclude", "x"], (INDEX,)) is None  # typer's
    assert parse(["index", "--shard", "1/2"], (INDEX,)) is None
    assert parse(["index", "--jobs", "0"], (INDEX,)) is None  # min 1
