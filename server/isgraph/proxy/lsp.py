"""Glue between the language server (`lsp/server.py`) and the downstream manager, so the
server's handlers stay one-line hooks: building the manager from the configuration, the
merged hover, enrichment of the background index."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from isgraph.config import ConfigError, DownstreamSpec, parse_downstream
from isgraph.model import Entity
from isgraph.proxy.confirm import confirm_file
from isgraph.proxy.enrich import Enricher
from isgraph.proxy.hover import merge, name_position, stored_hover
from isgraph.proxy.manager import DownstreamManager

log = logging.getLogger(__name__)


def specs_from_options(options: Any) -> tuple[DownstreamSpec, ...] | None:
    """``initializationOptions.downstream`` validated; None when absent. Raises ConfigError."""
    if not isinstance(options, dict) or "downstream" not in options:
        return None
    return parse_downstream(options["downstream"], "initializationOptions.downstream")


def build(
    folders: Sequence[Any],
    from_options: tuple[DownstreamSpec, ...] | None,
    notify: Callable[[str], None],
) -> DownstreamManager | None:
    """The server's manager: the ``initializationOptions`` list if given, else the folders'
    configured lists (a name configured by two folders: the first folder's wins). Needs only
    the folders' roots and configuration (stores may still be opening); `enrich` attaches the
    enrichment stage once a folder's store is open."""
    specs: list[DownstreamSpec] = list(from_options or ())
    if from_options is None:
        for folder in folders:
            specs += [s for s in folder.config.downstream if all(s.name != x.name for x in specs)]
    if not specs:
        return None
    return DownstreamManager(specs, [f.root for f in folders], notify)


def enrich(manager: DownstreamManager | None, folder: Any) -> None:
    """A folder whose configuration says ``enrich = true`` gets an enrichment stage on its
    index (call before its first index starts)."""
    if manager is not None and folder.config.enrich:
        folder.service.enricher = Enricher(
            manager, folder.store, folder.service.writer, folder.root, wait=False
        )


def config_error(exc: ConfigError) -> str:
    return f"isgraph: downstream servers ignored: {exc}"


async def hover_text(
    manager: DownstreamManager | None,
    uri: str,
    line: int,
    character: int,
    facts: Awaitable[tuple[str | None, Entity | None]],
    lines: Callable[[], Sequence[str]],
) -> str | None:
    """The merged hover: downstream servers' markdown (asked at once, each within its
    timeout), then the graph's ``facts`` (computed meanwhile). On an entity's name whose
    metadata an enrichment stored, the stored text is used and the servers' answers are not
    awaited; the stored text is also the fallback when no server answers."""
    if manager is None:
        return (await facts)[0]
    asking = asyncio.ensure_future(manager.hover(uri, line, character))
    try:
        graph, entity = await facts
        stored = stored_hover(entity.metadata) if entity is not None else None
        if stored is not None and entity is not None:
            pos = await asyncio.to_thread(lambda: name_position(lines(), entity))
            on_name = pos is not None and pos[0] == line
            if on_name and pos is not None and pos[1] <= character <= pos[1] + len(entity.name):
                return merge([stored], graph)
        answers = await asyncio.shield(asking)
    finally:
        asking.cancel()
    if answers:
        return merge([text for _, text in answers], graph)
    return merge([stored] if stored else [], graph)


async def confirm_edges(manager: DownstreamManager | None, folder: Any, rel: str) -> dict[str, int]:
    """`isgraph/confirmEdges`: the inferred calls of one file checked by `definition`."""
    if manager is None:
        raise ValueError("isgraph/confirmEdges needs a downstream server (docs/downstream.md)")
    rep = await confirm_file(manager, folder.store, folder.service.writer, folder.root, rel)
    return rep.record()
