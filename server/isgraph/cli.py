"""The command-line front: ``isgraph index`` and the graph queries, with ``--json`` output.

Exit codes: 0 success; 1 the index ran but some writes failed; 2 usage, configuration or
store errors (one line on stderr); 130 interrupted (the store is left consistent).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from isgraph import __version__
from isgraph.config import Config, ConfigError, load_config
from isgraph.model import ENTITY_KINDS, Edge, EdgeKind, Entity, Resolution
from isgraph.queries import detail, graph, lookup
from isgraph.queries.page import Page, paginate
from isgraph.store.base import ROOT_META, Store, StoreError
from isgraph.store.connect import INDEX_DIR_NAME, default_store_url, open_store

log = logging.getLogger("isgraph.cli")

if TYPE_CHECKING:
    from rich.console import Console

    from isgraph.index.service import IndexSummary

# A query must feel instant (docs/cli.md): this module imports only what every command needs.
# The pipeline, asyncio and rich (~0.3 s of imports on the stdlib's machine) are imported by
# the commands that use them.

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


class _LazyConsole:
    """A rich ``Console`` created on first use: a ``--json`` answer never imports rich."""

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


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: mem | sqlite:PATH | rocksdb:PATH | postgresql://... "
        "(default: env ISGRAPH_DB, then config, then sqlite under <root>/.isgraph/).",
        show_default=False,
    ),
]
RootOpt = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Workspace root (default: the nearest directory upwards holding .isgraph/, "
        "else the current directory).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
StubsOpt = Annotated[
    bool,
    typer.Option(
        "--stubs", help="Include typeshed stubs (@typeshed/…), indexed so stdlib calls resolve."
    ),
]


def _one_of(allowed: Iterable[str]) -> Callable[[str | None], str | None]:
    """An option callback: a value outside ``allowed`` is a usage error naming the valid
    ones (exit 2), not an empty answer."""
    valid = sorted(allowed)

    def check(value: str | None) -> str | None:
        if value is not None and value not in valid:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(valid)}")
        return value

    return check


DepthOpt = Annotated[int, typer.Option("--depth", "-d", min=1, max=50, help="Levels to follow.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, verbatim: not through rich, whose markup would eat a
    ``[tool.isgraph]`` in a configuration error."""
    sys.stderr.write("isgraph: " + " ".join(message.split()) + "\n")
    raise typer.Exit(code)


def _warn(message: str) -> None:
    """A warning on stderr, verbatim (see `_fail`)."""
    sys.stderr.write(f"isgraph: warning: {message}\n")


def _find_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / INDEX_DIR_NAME).is_dir():
            return directory
    return start


def _config(root: Path, **overrides: Any) -> Config:
    try:
        cfg = load_config(root).with_overrides(**overrides)
    except ConfigError as exc:
        _fail(str(exc))
    for warning in cfg.ignored:  # untrusted workspace: see docs/security.md
        _warn(warning)
    return cfg


@contextmanager
def _query_store(db: str | None, root: Path | None, as_json: bool = False) -> Iterator[Store]:
    """Open an existing store for queries; never create an empty default one. A store that
    does not hold the asked workspace is an error (exit 2), never an empty answer."""
    base = (root or _find_root(Path.cwd())).resolve()
    url = db or _config(base).db
    if url is None:
        url = default_store_url(base)
        if not Path(url.split(":", 1)[1]).exists():
            _fail(f"no index at {base / INDEX_DIR_NAME}; run `isgraph index {base}` first")
    t0 = time.perf_counter()
    try:
        store = open_store(url, base)
    except StoreError as exc:
        _fail(str(exc))
    t1 = time.perf_counter()
    log.info("store %s (root %s) opened in %.1f ms", store.url, base, 1000 * (t1 - t0))
    try:
        # The embedded default under BASE is BASE's, even if the tree was moved since.
        own = url == default_store_url(base)
        _check_workspace(store, base, root is not None and not own, as_json)
        yield store
    except StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()
        log.info("answered in %.1f ms", 1000 * (time.perf_counter() - t1))


def _check_workspace(store: Store, base: Path, root_given: bool, as_json: bool) -> None:
    """Fail (exit 2) when ``store`` holds no index of the asked workspace: a shared store
    without that repository (naming the ones it has), or an embedded store of another root
    (``root_given``: asked explicitly, of a store not under it). Queries would otherwise
    answer nothing, as if the code had nothing."""
    if getattr(store, "spans_all", False):  # PostgreSQL `?repo=*`: every repository
        return
    indexed = store.get_meta(ROOT_META)
    if indexed is not None and root_given and Path(indexed) != base:
        _refuse(
            f"{store.url} indexes {indexed}, not {base} (index it, or drop --root)",
            {"root": str(base), "store_root": indexed},
            as_json,
        )
    if indexed is not None or store.counts()[0]:
        return
    repos = store.known_repos()
    if repos is None:
        _refuse(
            f"{store.url} holds no index; run `isgraph index {base}` first",
            {"root": str(base)},
            as_json,
        )
    repo = str(getattr(store, "repo", ""))
    _refuse(
        f"{store.url} holds no repository {repo!r} (it holds: {', '.join(repos) or 'none'});"
        " name one with ?repo=NAME, or run from that repository's directory",
        {"repo": repo, "known_repos": repos},
        as_json,
    )


def _refuse(message: str, details: dict[str, object], as_json: bool) -> NoReturn:
    if as_json:
        _print_json({"error": message, **details})
    _fail(message)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _fresh(store: Store) -> bool:
    """Whether the index is complete; when not, say so on stderr (answers may miss edges)."""
    if graph.complete(store):
        return True
    _warn(
        "the index is incomplete (an index run was interrupted or is running): answers may "
        "miss edges; `isgraph index` completes it"
    )
    return False


def _emit(
    page: Page[Any],
    record: Callable[[Any], Any],
    *,
    as_json: bool,
    fresh: bool,
    table: Callable[[list[Any]], None],
    noun: str = "results",
) -> None:
    """A list answer: ``--json`` as ``{"items", "total", "truncated", "fresh"}`` (one shape
    for every list command), else a table; a cut list says "N of M" on stderr either way."""
    if as_json:
        _print_json({**page.record(record), "fresh": fresh})
    else:
        table([record(x) for x in page.items])
    if page.truncated:
        more = "+" if not page.total_exact else ""
        _warn(f"{len(page.items)} of {page.total}{more} {noun} shown (--limit N shows more)")


def _entity_table(
    rows: list[dict[str, Any]], extra: tuple[str, ...] = (), after: tuple[str, ...] = ()
) -> None:
    from rich.table import Table

    if not rows:
        out.print("[dim]no results[/]")
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for col in (*extra, "kind", "qualname", "location", *after, "signature"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            *(str(r.get(c, "")) for c in extra),
            str(r["kind"]),
            str(r["qualname"]),
            f"{r['path']}:{r['start_line']}",
            *(str(r.get(c, "")) for c in after),
            str(r.get("signature") or ""),
        )
    out.print(table)


def _resolve_targets(store: Store, name_or_key: str) -> list[Entity]:
    try:
        return lookup.require_targets(store, name_or_key)
    except lookup.QueryError as exc:
        _fail(str(exc))


def _reach_command(
    name_or_key: str,
    depth: int,
    as_json: bool,
    db: str | None,
    root: Path | None,
    walk: str,
) -> None:
    with _query_store(db, root, as_json) as store:
        targets = _resolve_targets(store, name_or_key)
        found = graph.reach(store, targets, walk, depth)
        fresh = _fresh(store)
    names = {t.key: f"{t.kind} {t.qualname} ({t.path}:{t.start_line})" for t in targets}

    def table(records: list[dict[str, Any]]) -> None:
        # An ambiguous name: the rows of each definition under its own heading.
        for key, label in names.items():
            rows = [r for r in records if r["target"] == key]
            if len(names) > 1:
                out.print(f"[bold]{walk} of {label}[/]", markup=True)
            if walk in graph.DIRECTIONS:
                for r in rows:  # every call site, not only the definition's line
                    sites: list[dict[str, int]] = r["sites"]
                    r["calls at"] = ", ".join(f"{s['line']}:{s['col'] + 1}" for s in sites)
                _entity_table(rows, extra=("depth",), after=("calls at",))
            else:
                _entity_table(rows, extra=("depth",))

    _emit(found, graph.Reached.record, as_json=as_json, fresh=fresh, table=table)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details to stderr.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
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
    import asyncio

    from isgraph.index.partition import ShardError, parse_shard
    from isgraph.lifeline import EndedBySignal

    root = root.resolve()
    if not root.exists():
        _fail(f"no such directory: {root}")
    if not root.is_dir():
        _fail(
            f"{root} is a file: `isgraph index` takes the directory to index (e.g. {root.parent})"
        )
    try:
        shard_spec = parse_shard(shard) if shard is not None else None
    except ShardError as exc:
        _fail(str(exc))
    if shard_run is not None and (
        shard_spec is None or not shard_run or shard_run.split() != [shard_run]
    ):
        _fail("--shard-run needs --shard and a non-empty id without spaces")
    cfg = _config(root, db=db, jobs=jobs, max_file_size=max_file_size, shard=shard_spec)
    if exclude:
        cfg = cfg.with_overrides(excludes=(*cfg.excludes, *exclude))
    if enrich and not cfg.downstream:
        _fail(
            "--enrich needs downstream language servers: add [[tool.isgraph.downstream]] "
            "(name, command, languages) to pyproject.toml or .isgraph.toml (docs/downstream.md)"
        )
    try:
        store = open_store(cfg.db, root, rebuild=True)
    except StoreError as exc:
        _fail(str(exc))
    if getattr(store, "spans_all", False):  # PostgreSQL `?repo=*`: for queries only
        store.close()
        _fail(f"{store.url} reads every repository and cannot be indexed into: name one (?repo=)")
    show_progress = not quiet and err.is_terminal
    try:
        summary = asyncio.run(
            _run_index(root, store, cfg, show_progress, shard_run or "", enrich=enrich)
        )
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: files written so far are complete; rerun to finish.")
        raise typer.Exit(130) from None
    except EndedBySignal as exc:
        err.print(f"[yellow]ended by {exc}[/]: files written so far are complete; rerun to finish.")
        raise typer.Exit(exc.exit_code) from None
    except StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()
    if as_json:
        _print_json(summary.record())
    else:
        _print_summary(summary, store.url)
    write_failures = [e for e in summary.errors if e["error"].startswith("write failed")]
    raise typer.Exit(1 if write_failures else 0)


async def _run_index(
    root: Path,
    store: Store,
    cfg: Config,
    show_progress: bool,
    shard_run: str = "",
    *,
    enrich: bool = False,
) -> IndexSummary:
    import asyncio

    from isgraph.lifeline import Ending

    # SIGTERM / SIGHUP end the run as Ctrl-C does (asyncio's runner handles SIGINT): the
    # service's `finally` flushes the writer and stops the pool.
    task = asyncio.current_task()
    assert task is not None
    ending = Ending(task, (signal.SIGTERM, signal.SIGHUP))
    try:
        return await _index_service_run(root, store, cfg, show_progress, shard_run, enrich)
    except asyncio.CancelledError:
        ending.check()
        raise
    finally:
        ending.remove()


async def _index_service_run(
    root: Path, store: Store, cfg: Config, show_progress: bool, shard_run: str, enrich: bool
) -> IndexSummary:
    from isgraph.index.service import IndexService
    from isgraph.index.shard import ShardedIndexService

    service = (
        IndexService(root, store, cfg)
        if cfg.shard is None
        else ShardedIndexService(root, store, cfg, shard_run)
    )
    manager = None
    if enrich:
        from isgraph.proxy.enrich import Enricher
        from isgraph.proxy.manager import DownstreamManager

        manager = DownstreamManager(cfg.downstream, [root], _warn)
        service.enricher = Enricher(manager, service.store, service.writer, root)
    try:
        if not show_progress:
            return await service.index()
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err.get(), transient=True) as bar:
            files = bar.add_task("indexing", total=None)
            resolve = bar.add_task("resolving", total=None, visible=False)

            def on_progress(done: int, seen: int, finished: bool) -> None:
                bar.update(files, completed=done, total=seen if finished else None)

            from isgraph.index.service import PHASE_WORDS

            def on_phase(name: str, done: int, total: int) -> None:
                words = PHASE_WORDS.get(name, name)
                bar.update(resolve, description=words, completed=done, total=total, visible=True)

            return await service.index(progress=on_progress, phase=on_phase)
    finally:
        await service.close()
        if manager is not None:
            await manager.shutdown()


def _print_summary(s: IndexSummary, url: str) -> None:
    out.print(
        f"[bold]{s.files}[/] files · [bold]{s.entities}[/] entities · [bold]{s.edges}[/] edges "
        f"in {s.seconds:.2f}s"
    )
    r = s.resolution
    if r.edges:
        share = 100 * (r.exact + r.inferred) / r.edges
        out.print(
            f"resolved {r.edges} edges: {share:.0f}% resolved ({r.exact} exact, "
            f"{r.inferred} inferred, {r.unresolved} unresolved)"
        )
    out.print(
        f"parsed {s.parsed}, unchanged {s.unchanged}, removed {s.removed}, "
        f"skipped {len(s.skipped)}, errors {len(s.errors)}"
        + (f", stdlib stubs {s.stubs}" if s.stubs else "")
        + f" → {url}"
    )
    if s.enrichment is not None:
        en = s.enrichment
        out.print(
            f"enriched {en.enriched} of {en.entities} entities in {en.files} files "
            f"({en.empty} empty, {en.timed_out} timed out or failed) in {en.seconds:.1f}s"
        )
    for item in s.skipped[:10]:
        out.print(f"  [dim]skipped[/] {item['path']}: {item['reason']}")
    for item in s.errors[:10]:
        out.print(f"  [red]error[/] {item['path']}: {item['error']}")
    more = len(s.skipped) + len(s.errors) - min(10, len(s.skipped)) - min(10, len(s.errors))
    if more > 0:
        out.print(f"  [dim]… and {more} more (see --json)[/]")


@app.command()
def symbols(
    name: Annotated[str | None, typer.Option("--name", help="Name contains SUBSTR.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="class, function, method…", callback=_one_of(ENTITY_KINDS)),
    ] = None,
    file: Annotated[str | None, typer.Option("--file", help="Repo-relative path.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    stubs: StubsOpt = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """List entities (definitions), filtered by name substring, kind and file."""
    with _query_store(db, root, as_json) as store:
        page = lookup.symbols(
            store, name_contains=name, kind=kind, path=file, limit=limit, stubs=stubs
        )
        fresh = _fresh(store)
    _emit(page, Entity.record, as_json=as_json, fresh=fresh, table=_entity_table, noun="symbols")


@app.command()
def edges(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="calls | imports | inherits", callback=_one_of(EdgeKind)),
    ] = None,
    file: Annotated[str | None, typer.Option("--file", help="Repo-relative path.")] = None,
    resolution: Annotated[
        str | None,
        typer.Option(
            "--resolution", help="exact | inferred | unresolved", callback=_one_of(Resolution)
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    stubs: StubsOpt = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """List edges, with how each target was decided (exact, inferred, unresolved)."""
    with _query_store(db, root, as_json) as store:
        found = graph.edges(
            store, kind=kind, path=file, resolution=resolution, stubs=stubs, limit=limit
        )
        fresh = _fresh(store)
    _emit(found, Edge.record, as_json=as_json, fresh=fresh, table=_edge_table, noun="edges")


def _edge_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for col in ("kind", "from", "target_name", "to", "resolution", "line"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["kind"]),
            str(r["from"]),
            str(r["target_name"]),
            str(r["to"] or "—"),
            str(r["resolution"]),
            f"{r['path']}:{r['line']}",
        )
    out.print(table)


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="Entity key (or a name).")],
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Show one entity with its outgoing and incoming edges."""
    with _query_store(db, root, as_json) as store:
        records = []
        for ent in _resolve_targets(store, key):
            rec: dict[str, Any] = {
                **ent.record(),
                "fqn": ent.fqn,
                "metadata": detail.metadata(ent.metadata),
            }
            rec["edges_out"] = [r.edge.record() for r in graph.outgoing(store, ent.key).items]
            rec["edges_in"] = [r.edge.record() for r in graph.references(store, ent.key).items]
            records.append(rec)
        fresh = _fresh(store)
    _emit(paginate(records), dict, as_json=as_json, fresh=fresh, table=_show_records)


def _show_records(records: list[dict[str, Any]]) -> None:
    for rec in records:
        out.print(f"[bold]{rec['kind']} {rec['qualname']}[/]{rec['signature']}")
        out.print(
            f"  key   {rec['key']}\n  at    {rec['path']}:{rec['start_line']}-{rec['end_line']}"
        )
        if rec["doc"]:
            out.print(f"  doc   {rec['doc']}")
        meta = rec["metadata"]
        if isinstance(meta, dict) and (meta.get("signature") or meta.get("type")):
            via = meta.get("server", "downstream")
            out.print(f"  {via:<5} {meta.get('signature') or meta.get('type')}")
        for label, items, end in (("→", rec["edges_out"], "to"), ("←", rec["edges_in"], "from")):
            for e in items:
                target = e[end] or e["target_name"]
                out.print(f"  {label} {e['kind']:<8} {target}  [dim]{e['resolution']}[/]")


@app.command()
def callers(
    name_or_key: Annotated[str, typer.Argument(metavar="NAME|KEY")],
    depth: DepthOpt = 1,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Who calls NAME|KEY (resolved call edges), up to --depth levels."""
    _reach_command(name_or_key, depth, as_json, db, root, "callers")


@app.command()
def callees(
    name_or_key: Annotated[str, typer.Argument(metavar="NAME|KEY")],
    depth: DepthOpt = 1,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """What NAME|KEY calls (resolved call edges), up to --depth levels."""
    _reach_command(name_or_key, depth, as_json, db, root, "callees")


@app.command()
def impact(
    name_or_key: Annotated[str, typer.Argument(metavar="KEY|NAME")],
    depth: DepthOpt = 3,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """The blast radius: everything that transitively calls, imports or inherits from KEY."""
    _reach_command(name_or_key, depth, as_json, db, root, "impact")


@app.command()
def cycles(
    kind: Annotated[
        str, typer.Option("--kind", help="Edge kind to follow.", callback=_one_of(EdgeKind))
    ] = "calls",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Cycles (strongly connected components) among resolved edges of one kind."""
    with _query_store(db, root, as_json) as store:
        try:
            found = graph.cycles(store, kind, limit)
        except ValueError as exc:
            _fail(str(exc))
        fresh = _fresh(store)

    def table(comps: list[list[str]]) -> None:
        if not comps:
            out.print("[dim]no cycles[/]")
        for i, comp in enumerate(comps, 1):
            out.print(f"[bold]{i}.[/] ({len(comp)}) " + " → ".join(comp))

    _emit(found, list, as_json=as_json, fresh=fresh, table=table, noun="cycles")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Name or fuzzy fragment (e.g. 'jsdec').")],
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    stubs: StubsOpt = False,
    vendored: Annotated[
        bool,
        typer.Option(
            "--vendored", help="Include vendored and minified files (vendor/, *.min.js…)."
        ),
    ] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Ranked fuzzy search over entity names; a dotted name (Class.method, module.function,
    package.module.function) finds what it qualifies first."""
    with _query_store(db, root, as_json) as store:
        found = lookup.search(store, query, limit, stubs=stubs, vendored=vendored)
        fresh = _fresh(store)
    _emit(found, Entity.record, as_json=as_json, fresh=fresh, table=_entity_table)


@app.command()
def stats(
    as_json: JsonOpt = False, db: DbOpt = None, root: RootOpt = None, stubs: StubsOpt = False
) -> None:
    """Counts of files, entities and edges (by kind, language and resolution) of the workspace
    (with --stubs, also of the typeshed stubs indexed for stdlib calls)."""
    with _query_store(db, root, as_json) as store:
        rec = graph.stats(store, stubs).record()
        _fresh(store)
    if as_json:
        _print_json(rec)
        return
    out.print(f"files {rec['files']} · entities {rec['entities']} · edges {rec['edges']}")
    for label in (
        "entities_by_kind",
        "entities_by_language",
        "edges_by_kind",
        "edges_by_resolution",
    ):
        items = rec[label]
        assert isinstance(items, dict)
        out.print(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(items.items())))


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
        _fail(f"not a directory: {root}")
    import asyncio

    from isgraph.index.service import IndexService
    from isgraph.index.verify import VerifyReport
    from isgraph.index.verify import verify as run_verify

    cfg = _config(root, db=db)
    with _query_store(db, root, as_json) as store:

        async def go() -> VerifyReport:
            async with IndexService(root, store, cfg) as service:
                return await run_verify(service, repair=repair, thorough=thorough)

        report = asyncio.run(go())
    if as_json:
        _print_json(report.record(limit))
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
            _fail(f"--tcp takes HOST:PORT (e.g. 127.0.0.1:2087), got {tcp!r}")
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

    base = (root or _find_root(Path.cwd())).resolve()
    if not base.is_dir():
        _fail(f"not a directory: {base}")
    run_mcp(base)


VERBOSE_FLAGS = ("-v", "--verbose")


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
