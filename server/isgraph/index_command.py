"""`isgraph index`: its body, and its parameters for a plain invocation (`plain_args`).

A no-change rerun must stay within ~0.35 s on the stdlib (issue 19), and typer, with the
pydantic it builds each parameter's adapter with, took ~40 % of it (py-spy, bench/README.md).
So a plain ``isgraph index [ROOT] [--db X] [-j N] [--max-file-size N] [--json] [-q]`` runs
from `INDEX` without typer (`entry.main`), and `isgraph.cli`'s typer command — which also
takes ``--exclude``, ``--shard``, ``--shard-run``, ``--enrich`` and gives help and usage
errors — calls the same `run_index`. This module imports no typer; the pipeline, asyncio and
rich are imported when the command runs.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from isgraph.query_commands import DB, JSON, Command, Param, config
from isgraph.store.base import Store, StoreError
from isgraph.store.connect import open_store
from isgraph.terminal import err, fail, out, print_json, warn

if TYPE_CHECKING:
    from isgraph.config import Config
    from isgraph.index.service import IndexSummary


def run_index(
    root: Path = Path("."),
    db: str | None = None,
    jobs: int | None = None,
    max_file_size: int | None = None,
    as_json: bool = False,
    quiet: bool = False,
    *,
    exclude: list[str] | None = None,
    shard: str | None = None,
    enrich: bool = False,
    shard_run: str | None = None,
) -> None:
    """Index ROOT (incrementally: only changed files are parsed again). Ends the process
    (`SystemExit`): 0, or 1 when a write failed."""
    import asyncio

    from isgraph.index.partition import ShardError, parse_shard
    from isgraph.lifeline import EndedBySignal

    root = root.resolve()
    if not root.exists():
        fail(f"no such directory: {root}")
    if not root.is_dir():
        fail(f"{root} is a file: `isgraph index` takes the directory to index (e.g. {root.parent})")
    try:
        shard_spec = parse_shard(shard) if shard is not None else None
    except ShardError as exc:
        fail(str(exc))
    if shard_run is not None and (
        shard_spec is None or not shard_run or shard_run.split() != [shard_run]
    ):
        fail("--shard-run needs --shard and a non-empty id without spaces")
    cfg = config(root, db=db, jobs=jobs, max_file_size=max_file_size, shard=shard_spec)
    if exclude:
        cfg = cfg.with_overrides(excludes=(*cfg.excludes, *exclude))
    if enrich and not cfg.downstream:
        fail(
            "--enrich needs downstream language servers: add [[tool.isgraph.downstream]] "
            "(name, command, languages) to pyproject.toml or .isgraph.toml (docs/downstream.md)"
        )
    try:
        store = open_store(cfg.db, root, rebuild=True)
    except StoreError as exc:
        fail(str(exc))
    if getattr(store, "spans_all", False):  # PostgreSQL `?repo=*`: for queries only
        store.close()
        fail(f"{store.url} reads every repository and cannot be indexed into: name one (?repo=)")
    show_progress = not quiet and err.is_terminal
    try:
        summary = asyncio.run(
            _run_index(root, store, cfg, show_progress, shard_run or "", enrich=enrich)
        )
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: files written so far are complete; rerun to finish.")
        raise SystemExit(130) from None
    except EndedBySignal as exc:
        what = "interrupted" if exc.signum == signal.SIGINT else f"ended by {exc}"
        err.print(f"[yellow]{what}[/]: files written so far are complete; rerun to finish.")
        raise SystemExit(exc.exit_code) from None
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        print_json(summary.record())
    else:
        _print_summary(summary, store.url)
    write_failures = [e for e in summary.errors if e["error"].startswith("write failed")]
    raise SystemExit(1 if write_failures else 0)


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

    # SIGINT, SIGTERM and SIGHUP end the run (the service's `finally` flushes the writer and
    # stops the pool), dispatched by the event loop: asyncio's runner would cancel the task
    # from inside a signal handler, between any two bytecodes.
    task = asyncio.current_task()
    assert task is not None
    ending = Ending(task, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    try:
        summary = await _index_service_run(root, store, cfg, show_progress, shard_run, enrich)
    except asyncio.CancelledError:
        ending.check()
        raise
    finally:
        ending.remove()
    # A signal whose cancellation was lost below (seen about once in a hundred SIGINTs under
    # load: the run went on to its end and exited 0): the run is complete, but it was asked
    # to stop, and its exit code says so.
    ending.check()
    return summary


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

        manager = DownstreamManager(cfg.downstream, [root], warn)
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


# The options a plain invocation may use: the same names, bounds and defaults as the typer
# command in `isgraph.cli` (tests/cli/test_plain_index.py runs both and compares).
INDEX = Command(
    "index",
    run_index,
    (
        Param("root", Path, (), Path("."), "Directory to index."),
        DB,
        Param("jobs", int, ("--jobs", "-j"), None, "Parser processes (default: CPUs).", minimum=1),
        Param(
            "max_file_size",
            int,
            ("--max-file-size",),
            None,
            "Skip files larger (bytes).",
            minimum=1,
        ),
        JSON,
        Param("quiet", bool, ("--quiet", "-q"), False, "No progress bar."),
    ),
    "Index ROOT (incrementally: only changed files are parsed again).",
)
