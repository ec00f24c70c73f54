"""Running one CLI invocation through a front (the plain path, ``-m isgraph``, or typer's,
``-c TYPER``) and telling whether typer was imported: what the plain-front tests compare."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TYPER = "import sys; from isgraph.cli import main; sys.argv[0] = 'isgraph'; main()"


def run_front(
    prefix: list[str], args: tuple[str, ...], cwd: Path, timeout: float
) -> tuple[int, str, str, bool]:
    """(exit code, stdout, stderr without ``-X importtime``'s lines, typer imported)."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("ISGRAPH_DB", None)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *prefix, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    timing = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    stderr = "\n".join(line for line in proc.stderr.splitlines() if line not in timing)
    used_typer = any(line.rsplit("|", 1)[1].strip() == "typer" for line in timing)
    return proc.returncode, proc.stdout, stderr, used_typer
