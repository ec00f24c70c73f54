"""The shell examples of README.md and docs/ stay true (issue 17, point 8): every line of every
fenced ``sh`` block runs against a fixture repository, or is named here as set-up with the
reason it is not run. A new example that is neither fails this test, naming it.

The fixture holds what the examples name: a copy of this repository's ``server/`` (the README
indexes the isgraph checkout itself), ``app/config.py`` and ``app/server.py`` (quickstart.md),
``helper`` (downstream.md) and ``checkout`` (postgresql.md). Paths the examples use for "your
project" (``~/src/myproject``, ``~/src/shop``) mean the fixture; ``isgraph`` means this
checkout's (``python -m isgraph``); the PostgreSQL examples' server means the test database.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg import drop_schema, pg_url, require_postgres, unique_schema
from tests.pipeline.conftest import write_tree

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)

# Lines not run, by how they start: each is set-up of this machine or of CI, run elsewhere.
NOT_RUN = {
    "python3 -m venv": "creates the virtualenv these tests run in",
    ".venv/bin/pip install": "installs what these tests run with",
    ". .venv/bin/activate": "puts this virtualenv on PATH (done here by running it)",
    "scripts/test": "the test command that runs this test",
    ".venv/bin/python -m pytest": "the test command that runs this test",
    ".venv/bin/ruff": "lint, run before every commit and in CI",
    ".venv/bin/mypy": "type check, run before every commit and in CI",
    "bash .ci/run": "CI on a clean checkout",
    "client-vscode/scripts/": "the VS Code extension's build and end-to-end run (npm, Chromium)",
    "PYTHON=.venv/bin/python . client-vscode/": "Node for the VS Code extension's build",
    "cd client-vscode": "the VS Code extension's build",
    "npm ": "Node packages: the extension's build or a downstream server's install",
    "npx ": "the extension's packaging",
    "code --install-extension": "installs the extension into a desktop VS Code",
    "apt-get install": "system packages (root)",
    "for i in 1 2 3 4; do": "N shard processes of one CI job: tests/pipeline/"
    "test_postgres_shards.py runs the same",
    'isgraph index . --db "$DB" --shard': "inside the shard loop above",
    "done; wait": "the end of the shard loop above",
    "isgraph index --enrich": "needs a downstream language server: tests/proxy/test_enrich.py",
}

FIXTURE = {
    "app/__init__.py": "",
    "app/config.py": """
        def parse_config(text):
            return dict(line.split("=", 1) for line in text.splitlines() if line)
        """,
    "app/server.py": """
        from app.config import parse_config


        def helper(n: int) -> int:
            return n + 1


        def checkout(total):
            return helper(total)


        class Server:
            def start(self, text):
                self.config = parse_config(text)
                return undefined_elsewhere(self.config)
        """,
}


def examples() -> list[tuple[str, str]]:
    """(where, line) of every logical line of every ``sh`` block, comments stripped."""
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        for block in FENCE.finditer(doc.read_text()):
            text = block.group(1).replace("\\\n", " ")
            for n, raw in enumerate(text.splitlines(), 1):
                line = re.sub(r"(^|\s)#.*$", "", raw).strip()
                if line:
                    found.append((f"{doc.relative_to(REPO)} block line {n}", line))
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs") / "myproject"
    shutil.copytree(REPO / "server", root / "server", ignore=shutil.ignore_patterns("__pycache__"))
    return write_tree(root, FIXTURE)


def _argv(line: str, project: Path, env: dict[str, str]) -> list[str]:
    for mine in ("~/src/myproject", "~/src/shop"):
        line = line.replace(mine, str(project))
    argv = shlex.split(line)
    if argv[0] in ("isgraph", ".venv/bin/isgraph"):
        argv = [sys.executable, "-m", "isgraph", *argv[1:]]
    return [_pg(a, env) for a in argv]


def _pg(arg: str, env: dict[str, str]) -> str:
    """The examples' PostgreSQL server is the test database (a schema of this test's own)."""
    if not arg.startswith("postgresql://"):
        return arg
    require_postgres()
    repo = re.search(r"repo=(\w+)", arg)
    return pg_url(schema=env["DOCS_SCHEMA"], repo=repo.group(1) if repo else "default")


def test_every_shell_example_runs_or_is_named_as_setup(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ISGRAPH_DB"}
    env["DOCS_SCHEMA"] = unique_schema()
    cwd = project
    ran: list[str] = []
    try:
        subprocess.run(
            [sys.executable, "-m", "isgraph", "index", str(project), "--quiet"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        for where, line in examples():
            if any(line.startswith(prefix) for prefix in NOT_RUN):
                continue
            if line.startswith("cd "):
                target = _argv(line, project, env)[1]
                cwd = project if target in (str(project), ".") else Path(target)
                continue
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                env[name] = _pg(shlex.split(value)[0], env)
                continue
            argv = _argv(line, project, env)
            assert argv[:3] == [sys.executable, "-m", "isgraph"], (
                f"{where}: {line!r} is neither an isgraph command nor named in NOT_RUN"
            )
            proc = subprocess.run(
                argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600
            )
            assert proc.returncode == 0, (
                f"{where}: {line!r} exited {proc.returncode}: {proc.stderr}"
            )
            assert proc.stdout.strip() or "index" in argv, f"{where}: {line!r} printed nothing"
            ran.append(line)
    finally:
        drop_schema(env["DOCS_SCHEMA"])
    assert len(ran) >= 15, ran  # the README's, quickstart's, downstream's, postgresql's
