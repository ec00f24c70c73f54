"""What the command line writes: one-line errors and warnings on stderr, JSON on stdout, and
rich consoles created on first use (a ``--json`` answer never imports rich). Shared by the
typer front (`isgraph.cli`) and the query commands that answer without it
(`isgraph.query_commands`), so both say things the same way."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rich.console import Console


class LazyConsole:
    """A rich ``Console`` created on first use."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


out = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, verbatim (not through rich, whose markup would eat a
    ``[tool.isgraph]`` in a configuration error), then exit with ``code``. A `SystemExit`,
    so that it ends a command the same way under typer and without it."""
    sys.stderr.write("isgraph: " + " ".join(message.split()) + "\n")
    raise SystemExit(code)


def warn(message: str) -> None:
    """A warning on stderr, verbatim (see `fail`)."""
    sys.stderr.write(f"isgraph: warning: {message}\n")


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def configure_logging(verbose: bool) -> None:
    """``-v`` logs details (store opened, answer time…) to stderr."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
