"""The CLI's query commands (search, callers, show…): their parameters, declared once in
`COMMANDS`, and their bodies, without the command-line library.

A query must feel instant (issue 17: the whole process within ~150 ms on the stdlib, where
the answer takes milliseconds), and typer with the pydantic it builds parameters with costs
more than the answer. So `run_plain` answers a plain invocation of these commands from this
table (`isgraph.plain_args` parses it) and `isgraph.cli` builds its typer commands from the
same table: help, usage errors and anything unusual go through typer, with the same bodies.
This module imports no typer, rich (until a table is printed), asyncio or indexing code.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from isgraph.config import Config, ConfigError, load_config
from isgraph.model import ENTITY_KINDS, Edge, EdgeKind, Entity, Resolution
from isgraph.queries import detail, graph, lookup
from isgraph.queries.page import Page, paginate
from isgraph.store.base import ROOT_META, Store, StoreError
from isgraph.store.connect import INDEX_DIR_NAME, default_store_url, open_store
from isgraph.terminal import configure_logging, fail, out, print_json, warn

log = logging.getLogger("isgraph.cli")


# -- parameters ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter of a command: the positional argument (no ``decls``) or an option."""

    dest: str  # the body's keyword argument
    type: type  # str, int, bool (a flag) or Path
    decls: tuple[str, ...] = ()  # option names, long first ("--depth", "-d")
    default: Any = None
    help: str = ""
    metavar: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()  # the valid values; another is a usage error naming them
    show_default: bool = True

    @property
    def positional(self) -> bool:
        return not self.decls

    @property
    def required(self) -> bool:
        return self.positional and self.default is None

    def accepts(self, value: Any) -> bool:
        """Whether a converted value is within the declared bounds and choices."""
        if self.minimum is not None and value < self.minimum:
            return False
        if self.maximum is not None and value > self.maximum:
            return False
        return not self.choices or value in self.choices


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable[..., None]  # called with every parameter's dest as a keyword
    params: tuple[Param, ...]
    help: str


JSON = Param("as_json", bool, ("--json",), False, "Print JSON instead of a table.")
DB = Param(
    "db",
    str,
    ("--db",),
    help="Store: mem | sqlite:PATH | rocksdb:PATH | postgresql://... "
    "(default: env ISGRAPH_DB, then config, then sqlite under <root>/.isgraph/).",
    show_default=False,
)
ROOT = Param(
    "root",
    Path,
    ("--root",),
    help="Workspace root (default: the nearest directory upwards holding .isgraph/, "
    "else the current directory).",
    show_default=False,
)
STUBS = Param(
    "stubs",
    bool,
    ("--stubs",),
    False,
    "Include typeshed stubs (@typeshed/…), indexed so stdlib calls resolve.",
)
FILE = Param("file", str, ("--file",), help="Repo-relative path.")
NAME_OR_KEY = Param("name_or_key", str, metavar="NAME|KEY")


def limit(default: int, help: str = "") -> Param:
    return Param("limit", int, ("--limit",), default, help, minimum=1)


def depth(default: int) -> Param:
    return Param(
        "depth", int, ("--depth", "-d"), default, "Levels to follow.", minimum=1, maximum=50
    )


# -- shared steps -------------------------------------------------------------------------------
def find_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / INDEX_DIR_NAME).is_dir():
            return directory
    return start


def config(root: Path, **overrides: Any) -> Config:
    try:
        cfg = load_config(root).with_overrides(**overrides)
    except ConfigError as exc:
        fail(str(exc))
    for warning in cfg.ignored:  # untrusted workspace: see docs/security.md
        warn(warning)
    return cfg


@contextmanager
def query_store(db: str | None, root: Path | None, as_json: bool = False) -> Iterator[Store]:
    """Open an existing store for queries; never create an empty default one. A store that
    does not hold the asked workspace is an error (exit 2), never an empty answer."""
    base = (root or find_root(Path.cwd())).resolve()
    url = db or config(base).db
    if url is None:
        url = default_store_url(base)
        if not Path(url.split(":", 1)[1]).exists():
            fail(f"no index at {base / INDEX_DIR_NAME}; run `isgraph index {base}` first")
    t0 = time.perf_counter()
    try:
        store = open_store(url, base)
    except StoreError as exc:
        fail(str(exc))
    t1 = time.perf_counter()
    log.info("store %s (root %s) opened in %.1f ms", store.url, base, 1000 * (t1 - t0))
    try:
        # The embedded default under BASE is BASE's, even if the tree was moved since.
        own = url == default_store_url(base)
        _check_workspace(store, base, root is not None and not own, as_json)
        yield store
    except StoreError as exc:
        fail(str(exc))
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
        print_json({"error": message, **details})
    fail(message)


def _fresh(store: Store) -> bool:
    """Whether the index is complete; when not, say so on stderr (answers may miss edges)."""
    if graph.complete(store):
        return True
    warn(
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
        print_json({**page.record(record), "fresh": fresh})
    else:
        table([record(x) for x in page.items])
    if page.truncated:
        more = "+" if not page.total_exact else ""
        warn(f"{len(page.items)} of {page.total}{more} {noun} shown (--limit N shows more)")


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
        fail(str(exc))


# -- the commands -------------------------------------------------------------------------------
def symbols(
    name: str | None,
    kind: str | None,
    file: str | None,
    limit: int,
    stubs: bool,
    as_json: bool,
    db: str | None,
    root: Path | None,
) -> None:
    with query_store(db, root, as_json) as store:
        page = lookup.symbols(
            store, name_contains=name, kind=kind, path=file, limit=limit, stubs=stubs
        )
        fresh = _fresh(store)
    _emit(page, Entity.record, as_json=as_json, fresh=fresh, table=_entity_table, noun="symbols")


def edges(
    kind: str | None,
    file: str | None,
    resolution: str | None,
    limit: int,
    stubs: bool,
    as_json: bool,
    db: str | None,
    root: Path | None,
) -> None:
    with query_store(db, root, as_json) as store:
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


def show(key: str, as_json: bool, db: str | None, root: Path | None) -> None:
    with query_store(db, root, as_json) as store:
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


def _reach(walk: str) -> Callable[..., None]:
    """The body of callers / callees / impact: the entities ``walk`` reaches."""

    def run(name_or_key: str, depth: int, as_json: bool, db: str | None, root: Path | None) -> None:
        with query_store(db, root, as_json) as store:
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

    return run


def cycles(kind: str, limit: int, as_json: bool, db: str | None, root: Path | None) -> None:
    with query_store(db, root, as_json) as store:
        try:
            found = graph.cycles(store, kind, limit)
        except ValueError as exc:
            fail(str(exc))
        fresh = _fresh(store)

    def table(comps: list[list[str]]) -> None:
        if not comps:
            out.print("[dim]no cycles[/]")
        for i, comp in enumerate(comps, 1):
            out.print(f"[bold]{i}.[/] ({len(comp)}) " + " → ".join(comp))

    _emit(found, list, as_json=as_json, fresh=fresh, table=table, noun="cycles")


def search(
    query: str,
    limit: int,
    stubs: bool,
    vendored: bool,
    as_json: bool,
    db: str | None,
    root: Path | None,
) -> None:
    with query_store(db, root, as_json) as store:
        found = lookup.search(store, query, limit, stubs=stubs, vendored=vendored)
        fresh = _fresh(store)
    _emit(found, Entity.record, as_json=as_json, fresh=fresh, table=_entity_table)


def stats(as_json: bool, db: str | None, root: Path | None, stubs: bool) -> None:
    with query_store(db, root, as_json) as store:
        rec = graph.stats(store, stubs).record()
        _fresh(store)
    if as_json:
        print_json(rec)
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


COMMANDS: tuple[Command, ...] = (
    Command(
        "symbols",
        symbols,
        (
            Param("name", str, ("--name",), help="Name contains SUBSTR."),
            Param(
                "kind",
                str,
                ("--kind",),
                help="class, function, method…",
                choices=tuple(sorted(ENTITY_KINDS)),
            ),
            FILE,
            limit(1000),
            STUBS,
            JSON,
            DB,
            ROOT,
        ),
        "List entities (definitions), filtered by name substring, kind and file.",
    ),
    Command(
        "edges",
        edges,
        (
            Param(
                "kind",
                str,
                ("--kind",),
                help="calls | imports | inherits",
                choices=tuple(EdgeKind),
            ),
            FILE,
            Param(
                "resolution",
                str,
                ("--resolution",),
                help="exact | inferred | unresolved",
                choices=tuple(Resolution),
            ),
            limit(1000),
            STUBS,
            JSON,
            DB,
            ROOT,
        ),
        "List edges, with how each target was decided (exact, inferred, unresolved).",
    ),
    Command(
        "show",
        show,
        (Param("key", str, help="Entity key (or a name)."), JSON, DB, ROOT),
        "Show one entity with its outgoing and incoming edges.",
    ),
    Command(
        "callers",
        _reach("callers"),
        (NAME_OR_KEY, depth(1), JSON, DB, ROOT),
        "Who calls NAME|KEY (resolved call edges), up to --depth levels.",
    ),
    Command(
        "callees",
        _reach("callees"),
        (NAME_OR_KEY, depth(1), JSON, DB, ROOT),
        "What NAME|KEY calls (resolved call edges), up to --depth levels.",
    ),
    Command(
        "impact",
        _reach("impact"),
        (Param("name_or_key", str, metavar="KEY|NAME"), depth(3), JSON, DB, ROOT),
        "The blast radius: everything that transitively calls, imports or inherits from KEY.",
    ),
    Command(
        "cycles",
        cycles,
        (
            Param(
                "kind",
                str,
                ("--kind",),
                "calls",
                "Edge kind to follow.",
                choices=tuple(EdgeKind),
            ),
            limit(100),
            JSON,
            DB,
            ROOT,
        ),
        "Cycles (strongly connected components) among resolved edges of one kind.",
    ),
    Command(
        "search",
        search,
        (
            Param("query", str, help="Name or fuzzy fragment (e.g. 'jsdec')."),
            limit(20),
            STUBS,
            Param(
                "vendored",
                bool,
                ("--vendored",),
                False,
                "Include vendored and minified files (vendor/, *.min.js…).",
            ),
            JSON,
            DB,
            ROOT,
        ),
        "Ranked fuzzy search over entity names; a dotted name (Class.method, module.function,\n"
        "package.module.function) finds what it qualifies first.",
    ),
    Command(
        "stats",
        stats,
        (JSON, DB, ROOT, STUBS),
        "Counts of files, entities and edges (by kind, language and resolution) of the workspace\n"
        "(with --stubs, also of the typeshed stubs indexed for stdlib calls).",
    ),
)


def run_plain(args: list[str], commands: tuple[Command, ...] = COMMANDS) -> bool:
    """Answer ``args`` when they are a plain invocation of a query command (`plain_args`):
    returns False, having done nothing, for anything else (help, a usage error, another
    command), which typer then handles. Ends the way typer's front ends a command: exit 130
    on Ctrl-C, 1 when stdout is closed early."""
    from isgraph.plain_args import parse

    parsed = parse(args, commands)
    if parsed is None:
        return False
    command, values, verbose = parsed
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    configure_logging(verbose)
    try:
        command.run(**values)
        sys.stdout.flush()  # here, where a closed pipe is handled (the caller may os._exit)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except EOFError:
        sys.stderr.write("\nisgraph: aborted\n")
        raise SystemExit(1) from None
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)  # nothing more reaches the closed pipe
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
    return True
