"""The console-script entry point (``isgraph``, ``python -m isgraph``).

``isgraph --version`` answers from here, and a plain query (``isgraph callers NAME --json``)
is answered by `query_commands.run_plain`, both before the command-line parser is imported:
typer (and the pydantic it builds its parameters with) costs more than the whole answer.
So does a plain ``isgraph index`` (`index_command.INDEX`): most of a no-change rerun.
Everything else (help, usage errors, ``index --exclude``, ``serve``…) goes to `isgraph.cli.main`.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from isgraph import __version__


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        sys.stdout.write(f"isgraph {__version__}\n")
        return
    from isgraph.index_command import INDEX
    from isgraph.query_commands import COMMANDS, run_plain

    if run_plain(args, COMMANDS):
        _quick_exit()
    # An index run ends normally: its pool's exit handlers must stop the parser processes.
    if run_plain(args, (INDEX,)):
        return
    from isgraph.cli import main as cli_main

    cli_main()


def _quick_exit() -> NoReturn:
    """End an answered query's process without the interpreter's teardown: freeing every
    module and object costs ~15 ms of CPU, ~15 % of a query on the stdlib, for nothing. By
    then the answer is written and flushed (`run_plain`) and the store closed; the only exit
    handler is logging's, which flushes what is flushed here."""
    sys.stderr.flush()
    os._exit(0)
