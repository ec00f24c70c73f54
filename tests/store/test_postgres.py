"""PostgreSQL-only behaviour: migrations, repo namespaces, faults, CI's no-skip rule."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from isgraph.model import FileResult
from isgraph.store.base import SchemaMismatchError, StoreError
from isgraph.store.postgres import SCHEMA_LEVEL, PostgresStore
from tests.pg import admin, pg_url

from .test_contract import A_MAIN, B_UTIL, ent, files, found


def open_pg(schema: str, repo: str = "r") -> PostgresStore:
    return PostgresStore(pg_url(schema=schema, repo=repo))


def test_migrations_are_recorded_and_idempotent(schema: str) -> None:
    s = open_pg(schema)
    s.close()
    s = open_pg(schema)  # a second open applies nothing
    s.close()
    with admin() as conn:
        rows = conn.execute(f"SELECT version FROM {schema}.isgraph_migrations").fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_LEVEL + 1))
        conn.execute(f"INSERT INTO {schema}.isgraph_migrations (version) VALUES (999)")
    with pytest.raises(SchemaMismatchError, match="newer"):
        open_pg(schema)


def test_repos_are_isolated(schema: str) -> None:
    a, b = open_pg(schema, "a"), open_pg(schema, "b")
    try:
        a.write_files(files())
        b.write_files(files()[:1])
        assert a.counts() == (2, 9, 8) and b.counts() == (1, 5, 6)
        b.write_files([], removed=["a.py"])
        assert a.counts() == (2, 9, 8) and b.counts() == (0, 0, 0)
        assert a.get_entity(A_MAIN.key) == A_MAIN and b.get_entity(A_MAIN.key) is None
        assert b.search("util") == [] and [e.name for e in a.search("util")] == ["util", "Util"]
        a.set_meta("resolve_pending", "1")
        assert b.get_meta("resolve_pending") is None
    finally:
        a.close()
        b.close()


def test_repo_star_reads_every_repo_and_writes_nothing(schema: str) -> None:
    a, b = open_pg(schema, "a"), open_pg(schema, "b")
    every = None
    try:
        a.write_files(files())  # a.py and b.py
        b.write_files([f for f in files() if f.path == "b.py"])
        every = open_pg(schema, "*")
        assert every.counts() == tuple(x + y for x, y in zip(a.counts(), b.counts(), strict=True))
        assert len(every.find_entities(path="b.py")) == 2 * len(b.find_entities(path="b.py"))
        assert {e.path for e in every.search("util")} == {"b.py"}
        assert len(every.search("util")) == 2 * len(b.search("util"))
        assert every.get_entity(B_UTIL.key) == B_UTIL  # held by both: either answers
        assert {r.key for r in every.callers(B_UTIL.key)} == {r.key for r in a.callers(B_UTIL.key)}
        stats = every.stats()
        assert stats.entities == a.stats().entities + b.stats().entities
        with pytest.raises(StoreError, match="read-only"):
            every.write_files(files())
        with pytest.raises(StoreError, match="read-only"):
            every.set_meta("k", "v")
        assert a.counts() == (2, 9, 8)  # nothing written
    finally:
        for store in (a, b, every):
            if store is not None:
                store.close()


def test_search_without_the_trigram_index(schema: str) -> None:
    s = open_pg(schema)
    try:
        s.write_files(files())
        with_index = [found(s, q) for q in ("util", "hlpr", "ru", "e")]
        with admin() as conn:
            conn.execute(f"DROP INDEX IF EXISTS {schema}.entity_lname_trgm")
        assert [found(s, q) for q in ("util", "hlpr", "ru", "e")] == with_index
    finally:
        s.close()
    if s.trigram:  # pg_trgm is available here: the next open puts the index back
        open_pg(schema).close()
        with admin() as conn:
            row = conn.execute("SELECT to_regclass(%s)", (f"{schema}.entity_lname_trgm",))
            assert row.fetchone() == (f"{schema}.entity_lname_trgm",)


def _big_file(n: int, tag: str) -> FileResult:
    ents = [ent("big.py", f"f{i}", line=i + 1) for i in range(n)]
    return FileResult("big.py", "python", "indexed", tag, 1, 1, None, ents)


def _kill(pid: int) -> None:
    with admin() as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_killed_connection_mid_batch_is_retried(schema: str) -> None:
    """pg_terminate_backend while the batch's COPY runs: the write reconnects, retries and
    lands whole; never half a file."""
    s = open_pg(schema)
    try:
        s.write_files([_big_file(10, "old")])
        pid = s.backend_pid
        assert pid is not None
        killed = threading.Event()

        def killer() -> None:
            with admin() as conn:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    row = conn.execute(
                        "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)
                    ).fetchone()
                    if row and row[0] in ("active", "idle in transaction"):
                        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
                        killed.set()
                        return

        t = threading.Thread(target=killer)
        t.start()
        s.write_files([_big_file(60_000, "new")])
        t.join()
        assert killed.is_set()
        assert s.backend_pid != pid  # a new connection did the write
        assert s.file_states()["big.py"].content_hash == "new"
        assert s.counts() == (1, 60_000, 0)
        assert len(s.find_entities(path="big.py")) == 60_000
    finally:
        s.close()


def test_a_connection_killed_every_time_fails_clearly(schema: str) -> None:
    s = open_pg(schema)
    try:
        s.write_files(files())
        before = (s.counts(), s.find_entities(path="a.py"))
        stop = threading.Event()

        def killer() -> None:  # kills every isgraph writer of this store, again and again
            with admin() as conn:
                while not stop.is_set():
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = 'isgraph-writer' AND pid = %s",
                        (s.backend_pid or 0,),
                    )
                    time.sleep(0.001)

        t = threading.Thread(target=killer)
        t.start()
        try:
            with pytest.raises(StoreError) as err:
                for _ in range(200):  # until a kill lands on every attempt
                    s.write_files([_big_file(20_000, "x"), files()[1]])
        finally:
            stop.set()
            t.join()
        msg = str(err.value)
        assert "big.py" in msg and "b.py" in msg and "\n" not in msg
        assert "after 3 retries" in msg or "cannot connect" in msg or "failed" in msg
        after = s.file_states()["big.py"].content_hash if "big.py" in s.file_states() else None
        if after is None:  # the last attempt failed: the store is as before
            assert (s.counts(), s.find_entities(path="a.py")) == before
        else:  # an earlier loop iteration landed whole
            assert len(s.find_entities(path="big.py")) == 20_000
        assert B_UTIL in s.find_entities(path="b.py")
    finally:
        s.close()


def test_unreachable_server_fails_under_ci_and_skips_outside(tmp_path: Path) -> None:
    test = tmp_path / "test_needs_pg.py"
    test.write_text(
        "from tests.pg import require_postgres\n\ndef test_x():\n    require_postgres()\n"
    )
    root = Path(__file__).parents[2]
    base = {**os.environ, "ISGRAPH_TEST_PG": "postgresql://postgres@127.0.0.1:1/test"}
    base["PYTHONPATH"] = os.pathsep.join([str(root), base.get("PYTHONPATH", "")])
    for ci, outcome in (("true", "1 failed"), ("", "1 skipped")):
        env = {**base, "CI": ci}
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(test)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert outcome in proc.stdout, proc.stdout
        assert "127.0.0.1:1" in proc.stdout or "unreachable" in proc.stdout


def test_two_writers_of_one_file_never_mix_versions(schema: str) -> None:
    """Two stores (as two processes would) replace the same file at once: the file row lock
    orders them, so the file always holds exactly one version, never a union of two."""
    a, b, reader = open_pg(schema), open_pg(schema), open_pg(schema)
    v1 = _big_file(300, "v1")
    v2 = FileResult(
        "big.py",
        "python",
        "indexed",
        "v2",
        1,
        1,
        None,
        [ent("big.py", f"g{i}", line=i + 1) for i in range(200)],
    )
    versions = {tuple(sorted(e.key for e in v.entities)) for v in (v1, v2)}
    seen: set[tuple[str, ...]] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(store: PostgresStore, version: FileResult) -> None:
        try:
            for _ in range(25):
                store.write_files([version])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def read() -> None:
        while not stop.is_set():
            seen.add(tuple(sorted(e.key for e in reader.find_entities(path="big.py"))))

    try:
        threads = [
            threading.Thread(target=write, args=(a, v1)),
            threading.Thread(target=write, args=(b, v2)),
        ]
        r = threading.Thread(target=read)
        r.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        r.join()
        assert not errors
        seen.discard(())  # before the first write
        assert seen <= versions
        final = tuple(sorted(e.key for e in reader.find_entities(path="big.py")))
        assert final in versions
        assert reader.counts()[1] == len(final)
    finally:
        for s in (a, b, reader):
            s.close()
