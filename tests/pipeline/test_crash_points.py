"""kill -9 at many seeded random points of real runs (SQLite and PostgreSQL stores).

Each kill point is a store write (the K-th of the run; just before it, during it, or just
after it commits), chosen by a seeded RNG. Kills come in pairs on one store: a fresh run is
killed at any of the writes a clean run makes, then the run that recovers from it is killed
early (one of its first writes: a crash during recovery); then a clean run must give exactly
a clean index. After every kill the store is checked. No timing is involved.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from isgraph.store.base import Store
from isgraph.store.connect import open_store
from tests import pg
from tests.reliability import record

from .conftest import clean_index, copy_stdlib, run_cli
from .test_crash import assert_consistent

PACKAGES = ("json", "email", "http", "logging", "urllib")
KILLER = Path(__file__).with_name("kill_at.py")
SEED = 20261126
SQLITE_POINTS = 6
PG_POINTS = 4
RECOVERY_WRITES = 3  # the second kill of a pair lands in one of these


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~50 real files of CPython's standard library."""
    return copy_stdlib(tmp_path_factory.mktemp("small"), PACKAGES)


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with clean_index(corpus, tmp_path_factory.mktemp("ref")) as store:
        yield store


def run_killed(corpus: Path, db: str, mode: str, k: int, report: Path) -> int:
    """Run `isgraph index` under the killer; its exit code (-9 when killed)."""
    cmd = [sys.executable, str(KILLER), mode, str(k), str(report), "--"]
    cmd += ["index", str(corpus), "--db", db, "--quiet", "--jobs", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, start_new_session=True)
    assert proc.returncode in (0, -9), proc.stderr
    return proc.returncode


def check(db: str, reference: Store, *, settled: bool) -> int:
    store = open_store(db)
    try:
        n = assert_consistent(store, reference, settled=settled)
        if settled:
            assert n == len(reference.file_states())
            assert store.stats() == reference.stats()
        return n
    finally:
        store.close()


def kill_points(corpus: Path, db: str, tmp: Path, n: int) -> list[tuple[str, int]]:
    """``n`` (mode, K): even ones among a clean run's writes, odd ones in a recovery's first."""
    report = tmp / "count"
    assert run_killed(corpus, db, "count", 0, report) == 0
    writes = int(report.read_text())
    assert writes >= 5, f"only {writes} writes: the corpus is too small to kill runs in"
    rng = random.Random(f"{SEED}:{db.split(':')[0]}")
    modes = ("before", "during", "after")
    return [
        (rng.choice(modes), rng.randint(1, writes if i % 2 == 0 else RECOVERY_WRITES))
        for i in range(n)
    ]


def crash_pairs(
    corpus: Path,
    reference: Store,
    tmp: Path,
    fresh: Callable[[], str],
    points: list[tuple[str, int]],
) -> dict[str, int]:
    """Run the kill points in pairs, each pair on a ``fresh()`` empty store."""
    killed = finished = 0
    db = fresh()
    for i, (mode, k) in enumerate(points):
        code = run_killed(corpus, db, mode, k, tmp / "count")
        if code == -9:
            killed += 1
            check(db, reference, settled=False)
        else:  # the run had fewer than k writes to make
            finished += 1
            check(db, reference, settled=True)
        if i % 2 == 1 or i == len(points) - 1:
            run_cli("index", str(corpus), "--db", db, "--quiet")
            check(db, reference, settled=True)
            if i < len(points) - 1:
                db = fresh()
    return {"kill_points": len(points), "killed": killed, "finished_first": finished}


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "usual"])
def test_sqlite_survives_seeded_kill_points(
    corpus: Path, reference: Store, tmp_path: Path, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fresh runs take the cold build path (the store's bulk mode, `service.BULK_BUILD`) and,
    with ``usual``, the incremental path's writes; the recovering runs take the latter."""
    if not bulk:
        monkeypatch.setenv("KILL_AT_BULK", "0")
    counting = f"sqlite:{tmp_path / 'count.db'}"
    points = kill_points(corpus, counting, tmp_path, SQLITE_POINTS)
    dbs = (f"sqlite:{tmp_path / f'i{n}.db'}" for n in range(len(points)))
    out = crash_pairs(corpus, reference, tmp_path, lambda: next(dbs), points)
    assert out["killed"] >= len(points) // 2 + 1, out
    record("crash_sqlite" if bulk else "crash_sqlite_usual", **out, survived=len(points))


@pytest.mark.parametrize("mode", ["before", "during", "after"])
def test_sqlite_killed_while_building_deferred_indices(
    corpus: Path, reference: Store, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 as a cold build starts, runs or finishes building the indices it deferred
    (`end_bulk`): the store opens with every index, and the next run completes it."""
    monkeypatch.setenv("KILL_AT_ONLY", "end_bulk")
    db = f"sqlite:{tmp_path / 'index.db'}"
    assert run_killed(corpus, db, mode, 1, tmp_path / "count") == -9
    check(db, reference, settled=False)
    run_cli("index", str(corpus), "--db", db, "--quiet")
    check(db, reference, settled=True)
    record(f"crash_sqlite_bulk_indices_{mode}", killed=1, survived=1)


def test_sqlite_table_path_survives_seeded_kill_points(
    corpus: Path, reference: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same on the path of large runs: resolution against the in-memory symbol table
    (`index.symbols`), with its larger write batches."""
    monkeypatch.setenv("KILL_AT_TABLE_MIN_FILES", "0")
    counting = f"sqlite:{tmp_path / 'count.db'}"
    points = kill_points(corpus, counting, tmp_path, SQLITE_POINTS)
    dbs = (f"sqlite:{tmp_path / f'i{n}.db'}" for n in range(len(points)))
    out = crash_pairs(corpus, reference, tmp_path, lambda: next(dbs), points)
    assert out["killed"] >= len(points) // 2 + 1, out
    record("crash_sqlite_table", **out, survived=len(points))


def test_postgres_survives_seeded_kill_points(
    corpus: Path, reference: Store, tmp_path: Path
) -> None:
    pg.require_postgres()
    schemas: list[str] = []

    def fresh() -> str:
        schemas.append(pg.unique_schema())
        return pg.pg_url(schema=schemas[-1], repo="crash")

    try:
        points = kill_points(corpus, fresh(), tmp_path, PG_POINTS)
        out = crash_pairs(corpus, reference, tmp_path, fresh, points)
    finally:
        for schema in schemas:
            pg.drop_schema(schema)
    assert out["killed"] >= len(points) // 2 + 1, out
    record("crash_postgres", **out, survived=len(points))
