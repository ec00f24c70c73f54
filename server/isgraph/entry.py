"""The console-script entry point (``isgraph``, ``python -m isgraph``).

``isgraph --version`` answers from here, before the command-line parser is imported: typer (and
the pydantic it builds its parameters with) costs more than the whole answer. Everything else
goes to `isgraph.cli.main`.
"""

from __future__ import annotations

import sys

from isgraph import __version__


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"isgraph {__version__}\n")
        return
    from isgraph.cli import main as cli_main

    cli_main()
