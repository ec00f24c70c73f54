"""Parsing a plain invocation of a query command without the command-line library.

"Plain" is a strict subset of what typer accepts, on which both read the same values: the
command's name, then its positional argument and options from `query_commands.COMMANDS` as
``--opt VALUE``, ``--opt=VALUE``, ``-d VALUE`` or a flag, each at most once, values within
their bounds and choices, and ``-v``/``--verbose`` anywhere (as `cli._hoist_verbose` moves
it). Anything else — ``--help``, ``--``, an unknown or repeated option, a value typer would
refuse or might read differently (``-d3``, ``--limit 0x1``, a value starting with ``-``) —
returns None and goes to typer, so usage errors and help are typer's, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from isgraph.query_commands import Command, Param

VERBOSE_FLAGS = ("-v", "--verbose")  # the global option, also accepted after the command


def parse(
    args: Sequence[str], commands: Sequence[Command]
) -> tuple[Command, dict[str, Any], bool] | None:
    """(command, every parameter's value by dest, verbose), or None when not plain."""
    verbose = any(a in VERBOSE_FLAGS for a in args)
    words = [a for a in args if a not in VERBOSE_FLAGS]
    if not words or "--" in words:
        return None
    command = next((c for c in commands if c.name == words[0]), None)
    if command is None:
        return None
    options = {decl: p for p in command.params for decl in p.decls}
    positional = [p for p in command.params if p.positional]
    values: dict[str, Any] = {}
    rest = iter(words[1:])
    for word in rest:
        if word.startswith("-") and word != "-":
            name, eq, attached = word.partition("=")
            param = options.get(name)
            if param is None or param.dest in values:
                return None
            if param.type is bool:
                if eq:
                    return None
                values[param.dest] = True
                continue
            if eq and not name.startswith("--"):
                return None  # -d=3: click reads "=3" as the value
            raw = attached if eq else next(rest, None)
        else:
            if not positional:
                return None
            param, raw = positional.pop(0), word
        value = _convert(param, raw)
        if value is None:
            return None
        values[param.dest] = value
    if any(p.required for p in positional):
        return None
    for p in command.params:
        values.setdefault(p.dest, p.default)
    return command, values, verbose


def _convert(param: Param, raw: str | None) -> Any:
    """The value typer would give ``raw``, or None when typer might refuse or read it
    otherwise."""
    if not raw or raw.startswith("-"):
        return None
    value: Any
    if param.type is int:
        if not (raw.isascii() and raw.isdigit()):
            return None
        value = int(raw)
    elif param.type is Path:
        value = Path(raw)
    elif param.type is str:
        value = raw
    else:
        return None
    return value if param.accepts(value) else None
