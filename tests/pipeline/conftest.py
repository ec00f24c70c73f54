"""Fixture trees and helpers for end-to-end index runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from isgraph.store.base import Store
from isgraph.store.connect import open_store

PROJECT: dict[str, str] = {
    ".gitignore": "build/\n*.tmp.py\n",
    "build/gen.py": "def generated():\n    pass\n",
    "scratch.tmp.py": "def scratch():\n    pass\n",
    "pkg/__init__.py": "from .core import Engine\n",
    "pkg/core.py": """
        class Base:
            def start(self):
                return self.helper()

            def helper(self):
                return 1


        class Engine(Base):
            \"\"\"Runs things.\"\"\"

            def run(self) -> int:
                self.start()
                return make()


        def make():
            return Engine()
        """,
    "pkg/util.py": """
        import pkg.core
        from pkg import Engine
        from .core import make as mk


        def go():
            e = Engine()
            mk()
            pkg.core.make()
            len([])
            e.run()
            pkg.extra.later()
        """,
    "app.py": """
        from pkg.util import go


        def main():
            go()
        """,
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", PROJECT)


def run_cli(
    *args: str, cwd: Path | None = None, check: bool = True, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (as a user would); ``env`` adds variables."""
    env = {**os.environ, "COLUMNS": "200", **kw.pop("env", {})}
    env.pop("ISGRAPH_DB", None)
    proc = subprocess.run(
        [sys.executable, "-m", "isgraph", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        **kw,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"isgraph {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def cli_json(*args: str, cwd: Path | None = None) -> Any:
    return json.loads(run_cli(*args, "--json", cwd=cwd).stdout)


LIST_KEYS = {"items", "total", "truncated", "fresh"}


def cli_items(*args: str, cwd: Path | None = None) -> list[Any]:
    """The items of a list command's ``--json`` answer (one shape for every list command)."""
    answer = cli_json(*args, cwd=cwd)
    assert isinstance(answer, dict) and set(answer) >= LIST_KEYS, answer
    assert len(answer["items"]) <= answer["total"]
    items: list[Any] = answer["items"]
    return items


def copy_stdlib(root: Path, packages: Iterable[str]) -> Path:
    """Real source: these packages of CPython's standard library, copied under ``root``."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for pkg in packages:
        shutil.copytree(stdlib / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@contextmanager
def clean_index(corpus: Path, where: Path) -> Iterator[Store]:
    """A clean `isgraph index` of ``corpus`` (the CLI, into SQLite under ``where``), open."""
    db = where / "ref.db"
    run_cli("index", str(corpus), "--db", f"sqlite:{db}", "--quiet")
    store = open_store(f"sqlite:{db}")
    try:
        yield store
    finally:
        store.close()
