"""The command-line front: ``isgraph index`` and the graph queries, with ``--json`` output.

Exit codes: 0 success; 1 the index ran but some writes failed; 2 usage, configuration or
store errors (one line on stderr); 130 interrupted (the store is left consistent).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from isgraph import __version__
from isgraph.config import Config, ConfigError, load_config
from isgraph.index.partition import ShardError, parse_shard
from isgraph.index.pipeline import INDEX_DIR_NAME
from isgraph.index.service import PHASE_WORDS, IndexService, IndexSummary
from isgraph.index.shard import ShardedIndexService
from isgraph.index.stubs import is_external
from isgraph.model import Entity
from isgraph.queries import Direction, Walk, find_targets, reach_records
from isgraph.store.base import Store, StoreError
from isgraph.store.connect import default_store_url, open_store

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
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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
DepthOpt = Annotated[int, typer.Option("--depth", "-d", min=1, max=50, help="Levels to follow.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]isgraph:[/] {message}")
    raise typer.Exit(code)


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
        err.print(f"[yellow]warning[/]: {warning}")
    return cfg


@contextmanager
def _query_store(db: str | None, root: Path | None) -> Iterator[Store]:
    """Open an existing store for queries; never create an empty default one."""
    base = (root or _find_root(Path.cwd())).resolve()
    url = db or _config(base).db
    if url is None:
        url = default_store_url(base)
        if not Path(url.split(":", 1)[1]).exists():
            _fail(f"no index at {base / INDEX_DIR_NAME}; run `isgraph index {base}` first")
    try:
        store = open_store(url, base)
    except StoreError as exc:
        _fail(str(exc))
    try:
        yield store
    except StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _entity_table(
    rows: list[dict[str, Any]], extra: tuple[str, ...] = (), after: tuple[str, ...] = ()
) -> None:
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
    found = find_targets(store, name_or_key)
    if not found:
        _fail(f"no entity named or keyed {name_or_key!r} (try `isgraph search {name_or_key}`)")
    return found


def _reach_command(
    name_or_key: str,
    depth: int,
    as_json: bool,
    db: str | None,
    root: Path | None,
    walk: Walk,
    direction: Direction | None = None,
) -> None:
    with _query_store(db, root) as store:
        targets = _resolve_targets(store, name_or_key)
        records = reach_records(store, targets, walk, depth, direction)
        if as_json:
            _print_json(records)
            return
        if direction:
            for r in records:  # every call site, not only the definition's line
                r["calls at"] = ", ".join(f"{s['line']}:{s['col'] + 1}" for s in r["sites"])
            _entity_table(records, extra=("depth",), after=("calls at",))
        else:
            _entity_table(records, extra=("depth",))


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
    root = root.resolve()
    if not root.is_dir():
        _fail(f"not a directory: {root}")
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
    service = (
        IndexService(root, store, cfg)
        if cfg.shard is None
        else ShardedIndexService(root, store, cfg, shard_run)
    )
    manager = None
    if enrich:
        from isgraph.proxy.enrich import Enricher
        from isgraph.proxy.manager import DownstreamManager

        manager = DownstreamManager(cfg.downstream, [root], lambda m: err.print(f"[yellow]{m}[/]"))
        service.enricher = Enricher(manager, service.store, service.writer, root)
    try:
        if not show_progress:
            return await service.index()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            files = bar.add_task("indexing", total=None)
            resolve = bar.add_task("resolving", total=None, visible=False)

            def on_progress(done: int, seen: int, finished: bool) -> None:
                bar.update(files, completed=done, total=seen if finished else None)

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
    kind: Annotated[str | None, typer.Option("--kind", help="class, function, method…")] = None,
    file: Annotated[str | None, typer.Option("--file", help="Repo-relative path.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    stubs: StubsOpt = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """List entities (definitions), filtered by name substring, kind and file."""
    with _query_store(db, root) as store:
        if stubs or file is not None:
            ents = store.find_entities(name_contains=name, kind=kind, path=file, limit=limit)
        else:  # stub paths sort first: filter them out before the limit applies
            ents = store.find_entities(name_contains=name, kind=kind)
            ents = [e for e in ents if not is_external(e.path)][:limit]
        rows = [e.record() for e in ents]
    _print_json(rows) if as_json else _entity_table(rows)


@app.command()
def edges(
    kind: Annotated[str | None, typer.Option("--kind", help="calls | imports | inherits")] = None,
    file: Annotated[str | None, typer.Option("--file", help="Repo-relative path.")] = None,
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="exact | inferred | unresolved")
    ] = None,
    stubs: StubsOpt = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """List edges, with how each target was decided (exact, inferred, unresolved)."""
    with _query_store(db, root) as store:
        found = store.edges(kind=kind, path=file, resolution=resolution)
        keep = stubs or file is not None
        rows = [e.record() for e in found if keep or not is_external(e.path)]
    if as_json:
        _print_json(rows)
        return
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
    with _query_store(db, root) as store:
        records = []
        for ent in _resolve_targets(store, key):
            rec: dict[str, Any] = {
                **ent.record(),
                "fqn": ent.fqn,
                "metadata": _metadata(ent.metadata),
            }
            rec["edges_out"] = [e.record() for e in store.edges(src=ent.key)]
            rec["edges_in"] = [e.record() for e in store.edges(dst=ent.key)]
            records.append(rec)
    if as_json:
        _print_json(records[0] if len(records) == 1 else records)
        return
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


def _metadata(text: str | None) -> Any:
    """Stored metadata as JSON (enrichment stores a JSON object), else the raw text."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@app.command()
def callers(
    name_or_key: Annotated[str, typer.Argument(metavar="NAME|KEY")],
    depth: DepthOpt = 1,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Who calls NAME|KEY (resolved call edges), up to --depth levels."""
    _reach_command(
        name_or_key, depth, as_json, db, root, lambda s, k, d: s.callers(k, d), "callers"
    )


@app.command()
def callees(
    name_or_key: Annotated[str, typer.Argument(metavar="NAME|KEY")],
    depth: DepthOpt = 1,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """What NAME|KEY calls (resolved call edges), up to --depth levels."""
    _reach_command(
        name_or_key, depth, as_json, db, root, lambda s, k, d: s.callees(k, d), "callees"
    )


@app.command()
def impact(
    name_or_key: Annotated[str, typer.Argument(metavar="KEY|NAME")],
    depth: DepthOpt = 3,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """The blast radius: everything that transitively calls, imports or inherits from KEY."""
    _reach_command(name_or_key, depth, as_json, db, root, lambda s, k, d: s.impact(k, d))


@app.command()
def cycles(
    kind: Annotated[str, typer.Option("--kind", help="Edge kind to follow.")] = "calls",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Cycles (strongly connected components) among resolved edges of one kind."""
    with _query_store(db, root) as store:
        found = store.cycles(kind, limit)
    if as_json:
        _print_json(found)
        return
    if not found:
        out.print("[dim]no cycles[/]")
    for i, comp in enumerate(found, 1):
        out.print(f"[bold]{i}.[/] ({len(comp)}) " + " → ".join(comp))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Name or fuzzy fragment (e.g. 'jsdec').")],
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    root: RootOpt = None,
) -> None:
    """Ranked fuzzy search over entity names."""
    with _query_store(db, root) as store:
        rows = [e.record() for e in store.search(query, limit)]
    _print_json(rows) if as_json else _entity_table(rows)


@app.command()
def stats(
    as_json: JsonOpt = False, db: DbOpt = None, root: RootOpt = None, stubs: StubsOpt = False
) -> None:
    """Counts of files, entities and edges (by kind, language and resolution) of the workspace
    (with --stubs, also of the typeshed stubs indexed for stdlib calls)."""
    with _query_store(db, root) as store:
        rec = store.stats(stubs).record()
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


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
