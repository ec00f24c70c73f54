"""The console-script entry point (``isgraph``, ``python -m isgraph``).

``isgraph --version`` answers from here, and a plain query (``isgraph callers NAME --json``)
is answered by `query_commands.run_plain`, both before the command-line parser is imported:
typer (and the pydantic it builds its parameters with) costs more than the whole answer.
So does a plain ``isgraph index`` (`index_command.INDEX`): most of a no-change rerun.
Everything else (help, usage errors, ``index --exclude``, ``serve``…) goes to `isgraph.cli.main`.
"""

from __future__ import annotations

import sys

from isgraph import __version__


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        sys.stdout.write(f"isgraph {__version__}\n")
        return
    from isgraph.index_command import INDEX
    from isgraph.query_commands import COMMANDS, run_plain

    if run_plain(args, (*COMMANDS, INDEX)):
        return
    from isgraph.cli import main as cli_main

    cli_main()
