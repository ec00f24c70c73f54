"""kill -9 of the language server at seeded store writes of its first index; the store it
leaves is consistent, and the next run (CLI or server) completes it to a clean index."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from isgraph.store.base import Store
from isgraph.store.connect import open_store
from tests.pipeline.conftest import clean_index, copy_stdlib
from tests.pipeline.test_crash import assert_consistent
from tests.pipeline.test_crash_points import KILLER, run_killed
from tests.reliability import record

from .rawclient import RawClient

SEED = 7
POINTS = 3


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_stdlib(tmp_path_factory.mktemp("srv"), ("json", "http", "logging"))


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with clean_index(corpus, tmp_path_factory.mktemp("ref")) as store:
        yield store


async def test_server_killed_at_seeded_writes(
    corpus: Path, reference: Store, tmp_path: Path
) -> None:
    counted = tmp_path / "count"
    assert run_killed(corpus, f"sqlite:{tmp_path / 'c.db'}", "count", 0, counted) == 0
    writes = int(counted.read_text())
    rng = random.Random(SEED)
    killed = 0
    for n in range(POINTS):
        mode, k = rng.choice(("before", "during", "after")), rng.randint(1, max(1, writes // 2))
        db = f"sqlite:{tmp_path / f's{n}.db'}"
        argv = [sys.executable, str(KILLER), mode, str(k), str(counted), "--", "serve"]
        client = await RawClient.start(corpus, db, argv=argv)
        code = await asyncio.wait_for(client.proc.wait(), 300)  # the kill ends it
        client.reader.cancel()
        assert code == -9, f"the server was not killed at write {k} of ~{writes}"
        killed += 1
        store = open_store(db)
        try:
            assert_consistent(store, reference, settled=False)
        finally:
            store.close()
        # the next server on this store finishes the job
        client = await RawClient.start(corpus, db)
        try:
            await client.fresh()
        finally:
            await client.close()
        store = open_store(db)
        try:
            assert assert_consistent(store, reference) == len(reference.file_states())
            assert store.stats() == reference.stats()
        finally:
            store.close()
    record("crash_server", kill_points=POINTS, killed=killed, survived=killed)
