"""The command-line front: ``isgraph index`` and the graph queries, with ``--json`` output.

Exit codes: 0 success; 1 the index ran but some writes failed; 2 usage, configuration or
store errors (one line on stderr); 130 interrupted (the store is left consistent).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from isgraph import __version__
from isgraph.index_command import run_index
from isgraph.plain_args import VERBOSE_FLAGS
from isgraph.query_commands import COMMANDS, Command, Param, config, find_root, query_store
from isgraph.terminal import configure_logging, fail, out, print_json

# A query must feel instant (docs/cli.md): the query commands answer without this module
# (`query_commands.run_plain`); this module, with typer, serves help, usage errors and the
# other commands. The pipeline, asyncio and rich are imported by the commands that use them.

app = typer.Typer(
    name="isgraph",
    help=(
        "A code-graph indexer: index a workspace into an embedded graph store, then ask it "
        "who calls what, what a change impacts, and where things are defined.\n\n"
        "Start with `isgraph index` in your project, then `isgraph search NAME`, "
        "`isgraph callers NAME`, `isgraph impact KEY`. Every query takes --json."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: mem | sqlite:PATH | rocksdb:PATH | postgresql://... "
        "(default: env ISGRAPH_DB, then config, then sqlite under <root>/.isgraph/).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _one_of(allowed: Iterable[str]) -> Callable[[str | None], str | None]:
    """An option callback: a value outside ``allowed`` is a usage error naming the valid
    ones (exit 2), not an empty answer."""
    valid = sorted(allowed)

    def check(value: str | None) -> str | None:
        if value is not None and value not in valid:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(valid)}")
        return value

    return check


def _typer_param(p: Param) -> inspect.Parameter:
    """A `query_commands.Param` as the annotated parameter typer builds its option from."""
    kw: dict[str, Any] = {"help": p.help} if p.help else {}
    if p.metavar is not None:
        kw["metavar"] = p.metavar
    if p.minimum is not None:
        kw["min"] = p.minimum
    if p.maximum is not None:
        kw["max"] = p.maximum
    if p.choices:
        kw["callback"] = _one_of(p.choices)
    if not p.show_default:
        kw["show_default"] = False
    info = typer.Argument(**kw) if p.positional else typer.Option(*p.decls, **kw)
    hint: Any = p.type if p.type is bool or p.default is not None or p.required else p.type | None
    return inspect.Parameter(
        p.dest,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=inspect.Parameter.empty if p.required else p.default,
        annotation=Annotated[hint, info],
    )


def _add_query_command(command: Command) -> None:
    """Register a query command with typer, built from its one declaration."""

    def run(**values: Any) -> None:
        command.run(**values)

    params = [_typer_param(p) for p in command.params]
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__name__ = run.__qualname__ = command.name
    run.__doc__ = command.help
    app.command(name=command.name)(run)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details to stderr.")
    ] = False,
) -> None:
    configure_logging(verbose)
    if version:
        out.print(f"isgraph {__version__}")
        raise typer.Exit(0)


@app.command()
def index(
    root: Annotated[Path, typer.Argument(help="Directory to index.")] = Path("."),
    db: DbOpt = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Parser processes (default: CPUs).")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-e", help="Gitignore-style pattern to skip (repeatable)."),
    ] = None,
    max_file_size: Annotated[
        int | None, typer.Option("--max-file-size", min=1, help="Skip files larger (bytes).")
    ] = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="I/N",
            help="Index only shard I of N (files split by a hash of their path): run N "
            "processes, one per shard, into one shared store (e.g. PostgreSQL).",
        ),
    ] = None,
    enrich: Annotated[
        bool,
        typer.Option(
            "--enrich",
            help="Ask the configured downstream language servers ([[tool.isgraph.downstream]]) "
            "for hover at each entity and store it as the entity's metadata "
            "(`isgraph show KEY --json`).",
        ),
    ] = False,
    shard_run: Annotated[
        str | None,
        typer.Option(
            "--shard-run",
            help="An id shared by the N shard processes of one run (e.g. the CI job id): "
            "they wait for each other before resolving (default: peers started within "
            "10 minutes count).",
        ),
    ] = None,
) -> None:
    """Index ROOT (incrementally: only changed files are parsed again)."""
    run_index(
        root,
        db,
        jobs,
        max_file_size,
        as_json,
        quiet,
        exclude=exclude,
        shard=shard,
        enrich=enrich,
        shard_run=shard_run,
    )


# The query commands, in this place of the help's list: declared in `query_commands.COMMANDS`.
for _command in COMMANDS:
    _add_query_command(_command)


@app.command()
def verify(
    root: Annotated[Path, typer.Argument(help="The indexed directory.")] = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
    repair: Annotated[
        bool, typer.Option("--repair", help="Rewrite each drifted file with its clean rows.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Differences shown.")] = 50,
    thorough: Annotated[
        bool,
        typer.Option("--thorough", help="Compare with a fully resolved clean index at once."),
    ] = False,
) -> None:
    """Compare the stored index with a clean index of ROOT (built in a temporary in-memory
    store; the stored index is not touched unless --repair): exit 0 when they agree, 1 on
    drift (entities, edges with their targets, labels and sites, aliases, file rows)."""
    root = root.resolve()
    if not root.is_dir():
        fail(f"not a directory: {root}")
    import asyncio

    from isgraph.index.service import IndexService
    from isgraph.index.verify import VerifyReport
    from isgraph.index.verify import verify as run_verify

    cfg = config(root, db=db)
    with query_store(db, root, as_json) as store:

        async def go() -> VerifyReport:
            async with IndexService(root, store, cfg) as service:
                return await run_verify(service, repair=repair, thorough=thorough)

        report = asyncio.run(go())
    if as_json:
        print_json(report.record(limit))
    else:
        for d in report.differences[:limit]:
            out.print(d.describe(), markup=False, highlight=False)
        if len(report.differences) > limit:
            out.print(f"… and {len(report.differences) - limit} more (--limit, --json)")
        counts = ", ".join(f"{n} {c}" for c, n in report.by_category().items() if n)
        if not report.differences:
            out.print(f"[green]no drift[/]: the index equals a clean index of {root}")
        else:
            out.print(f"[yellow]drift[/]: {len(report.differences)} rows differ ({counts})")
        if report.repaired:
            left = len(report.remaining)
            out.print(f"repaired {report.repaired} files; {left} differences remain")
    raise typer.Exit(1 if report.drift else 0)


@app.command()
def serve(
    tcp: Annotated[
        str | None,
        typer.Option(
            "--tcp",
            help="Serve one client on HOST:PORT instead of stdio (debugging); the server ends "
            "when that client disconnects.",
        ),
    ] = None,
) -> None:
    """Run the language server (LSP over stdio): index each workspace folder in the
    background, re-index on save and on changes on disk, answer symbol, hover and graph
    queries (`isgraph/query`)."""
    from isgraph.lsp.run import serve as run_server

    address: tuple[str, int] | None = None
    if tcp is not None:
        host, _, port = tcp.rpartition(":")
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            fail(f"--tcp takes HOST:PORT (e.g. 127.0.0.1:2087), got {tcp!r}")
        address = (host.strip("[]") or "127.0.0.1", int(port))
    run_server(address)


@app.command()
def mcp(
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="Workspace to serve (default: the nearest directory upwards holding "
            ".isgraph/, else the current directory).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the MCP server (stdio) for coding agents: index ROOT incrementally, keep it fresh
    on changes, answer find_symbols, symbol, callers, impact, context and changes
    (docs/agents.md)."""
    from isgraph.agents.server import run as run_mcp

    base = (root or find_root(Path.cwd())).resolve()
    if not base.is_dir():
        fail(f"not a directory: {base}")
    run_mcp(base)


def _hoist_verbose(args: list[str]) -> list[str]:
    """``-v`` is a global option that users also type after the command (``isgraph callers X
    -v``): move it before the command, where the parser takes it (not past ``--``)."""
    end = args.index("--") if "--" in args else len(args)
    head, tail = args[:end], args[end:]
    if not any(a in VERBOSE_FLAGS for a in head[1:]):
        return args
    return ["-v", *(a for a in head if a not in VERBOSE_FLAGS), *tail]


def _register_only(name: str | None) -> None:
    """Keep only the command the arguments name (when they name one): typer builds a pydantic
    adapter for every parameter of every registered command, a cost paid on each run for
    commands that will not run (``--help`` without a command still lists them all)."""
    chosen = [
        c
        for c in app.registered_commands
        if c.callback is not None
        and (c.name or typer.main.get_command_name(c.callback.__name__)) == name
    ]
    if chosen:
        app.registered_commands = chosen


def main() -> None:
    """Run the CLI. Usage errors are one line on stderr with exit code 2, like every other
    exit-2 error (typer would draw a box of several lines)."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    args = _hoist_verbose(sys.argv[1:])
    _register_only(next((a for a in args if not a.startswith("-")), None))
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="isgraph", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        code = exc.exit_code
    except ClickException as exc:
        where = getattr(getattr(exc, "ctx", None), "command_path", None) or "isgraph"
        message = " ".join(exc.format_message().split())
        sys.stderr.write(f"isgraph: {message} (see `{where} --help`)\n")
        code = exc.exit_code
    except typer.Abort:
        sys.stderr.write("isgraph: aborted\n")
        code = 1
    sys.exit(code or 0)
