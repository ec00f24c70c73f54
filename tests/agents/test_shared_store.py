"""`isgraph mcp` beside a running `isgraph serve` and CLI queries, all on the same embedded
SQLite store: new files and edits land while both servers watch and re-index them, the CLI
reads in between, and at the end the store holds exactly what a clean index of the tree
holds, also when files are deleted right after they were created (docs/agents.md, "Sharing
the store", says why nothing is written back)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from isgraph.config import Config
from isgraph.index.service import IndexService
from isgraph.store.connect import default_store_url, open_store
from tests.agents.test_mcp import call, connect, until
from tests.lsp.rawclient import RawClient
from tests.pipeline.conftest import run_cli
from tests.pipeline.test_langs import dump
from tests.queries.conftest import make_repo

ROUNDS = 4
FLASHES = 24  # files created and deleted at once, with lifetimes from 0 to 100 ms


async def _clean_dump(root: Path) -> str:
    store = open_store("mem")
    try:
        async with IndexService(root, store, Config(jobs=1)) as service:
            await service.index()
        return dump(store)
    finally:
        store.close()


async def _assert_shared_store_is_clean(root: Path, tmp_path: Path) -> None:
    """The store both servers wrote equals a clean index of a copy of the tree."""
    store = open_store(default_store_url(root), root)
    try:
        shared = dump(store)
    finally:
        store.close()
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".isgraph"))
    assert shared == await _clean_dump(copy)


async def test_mcp_beside_serve_and_cli(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    lsp = await RawClient.start(root, None)
    try:
        await lsp.fresh()
        async with connect(root) as s:
            await until(s, lambda a: a["fresh"])
            for i in range(ROUNDS):
                (root / "pkg" / f"gen{i}.py").write_text(
                    f"from pkg.core import make\n\n\ndef gen{i}():\n    return make()\n"
                )
                core = root / "pkg" / "core.py"
                core.write_text(core.read_text() + f"\n\ndef extra{i}():\n    return {i}\n")
                # the CLI reads while both servers write
                page = json.loads(run_cli("callers", "make", "--json", "--root", str(root)).stdout)
                assert {"Engine.run", "go"} <= {r["qualname"] for r in page["items"]}
                await asyncio.sleep(0.3)
            await lsp.fresh()
            await until(s, lambda a: a["fresh"])
            answer = await call(s, "callers", name_or_key="pkg.core.make")
            got = {c["from"] for c in answer["targets"]["items"][0]["callers"]["items"]}
            assert got == {"Engine.run", "go"} | {f"gen{i}" for i in range(ROUNDS)}
    finally:
        await lsp.close()
    await _assert_shared_store_is_clean(root, tmp_path)


async def test_files_created_and_deleted_at_once_leave_nothing_behind(tmp_path: Path) -> None:
    """Two live servers on one store, files that live a few milliseconds to a few hundred:
    whichever server read a file before it was deleted, the store ends without it."""
    root = make_repo(tmp_path / "repo")
    lsp = await RawClient.start(root, None)
    try:
        await lsp.fresh()
        async with connect(root) as s:
            await until(s, lambda a: a["fresh"])
            for i in range(FLASHES):
                flash = root / "pkg" / f"flash{i}.py"
                flash.write_text(f"def flash{i}():\n    return {i}\n")
                await asyncio.sleep(0.02 * (i % 6))  # from 0 to 100 ms of life
                flash.unlink()
                await asyncio.sleep(0.05 * (i % 4))
            await asyncio.sleep(1.0)
            await lsp.fresh()
            await until(s, lambda a: a["fresh"])
    finally:
        await lsp.close()
    await _assert_shared_store_is_clean(root, tmp_path)
