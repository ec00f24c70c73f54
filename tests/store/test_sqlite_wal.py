"""SQLite specifics of the Cozo store: the write-ahead log is folded back while it is open."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import isgraph.store.cozo as cozo
from isgraph.model import Edge, Entity, FileResult, make_key
from isgraph.store.connect import open_store


def _file(i: int) -> FileResult:
    path = f"m{i}.py"
    ents = [
        Entity(
            key=make_key("python", "function", path, f"f{j}"),
            language="python",
            kind="function",
            name=f"f{j}",
            qualname=f"f{j}",
            path=path,
            start_line=j + 1,
            start_col=0,
            end_line=j + 1,
            end_col=1,
            fqn=f"m{i}.f{j}",
        )
        for j in range(50)
    ]
    edges = [
        Edge(src=e.key, kind="calls", target_name=f"g{k}", path=path, line=e.start_line)
        for e in ents
        for k in range(4)
    ]
    return FileResult(path, "python", "indexed", entities=ents, edges=edges, content_hash=str(i))


def test_wal_is_checkpointed_while_the_store_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cozo, "WAL_CHECKPOINT_BYTES", 1 << 20)
    db = tmp_path / "index.db"
    store = open_store(f"sqlite:{db}")
    wal = Path(f"{db}-wal")
    try:
        biggest = 0
        for i in range(0, 200, 20):
            store.write_files([_file(j) for j in range(i, i + 20)])
            biggest = max(biggest, wal.stat().st_size)
        deadline = time.monotonic() + 20
        while wal.stat().st_size >= 1 << 20 and time.monotonic() < deadline:
            store.write_files([_file(0)])  # a write starts the next checkpoint if one is due
            time.sleep(0.2)
        assert biggest >= 1 << 20, "the test wrote too little to need a checkpoint"
        assert wal.stat().st_size < 1 << 20
        assert os.path.getsize(db) > 0  # the rows went into the database file
        assert store.counts() == (200, 200 * 50, 200 * 50 * 4)
    finally:
        store.close()
    reopened = open_store(f"sqlite:{db}")
    try:
        assert reopened.counts() == (200, 200 * 50, 200 * 50 * 4)
    finally:
        reopened.close()


def test_ctrl_c_belongs_to_the_store_process_not_the_checkpoint_helper(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C in a terminal signals the whole process group: the helper must neither die with
    a traceback nor leave the store's next checkpoint failing with an empty reason."""
    import signal
    import sqlite3

    from isgraph.store.sqlite_checkpoint import Checkpointer

    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    helper = Checkpointer(str(db))
    try:
        helper.run()
        proc = helper._proc
        assert proc is not None and proc.pid is not None
        os.kill(proc.pid, signal.SIGINT)
        proc.join(timeout=1.0)  # a helper that takes the signal is dead well within this
        assert proc.is_alive()
        with caplog.at_level("WARNING"):
            helper.run()
        assert helper._proc is proc and not caplog.records
    finally:
        helper.close()
    assert "Traceback" not in capfd.readouterr().err


def test_new_store_keeps_each_key_once(tmp_path: Path) -> None:
    """A new SQLite store holds Cozo's table WITHOUT ROWID (each key stored once, not also in
    a primary-key index): it reads and writes as before, in about half the bytes."""
    import sqlite3

    def size(db: Path) -> int:
        store = open_store(f"sqlite:{db}")
        try:
            store.write_files([_file(i) for i in range(20)])
            assert len(store.edges(path="m3.py")) == 200
            assert store.get_entity(make_key("python", "function", "m7.py", "f9")) is not None
        finally:
            store.close()
        conn = sqlite3.connect(db)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'cozo'").fetchone()[0]
        finally:
            conn.close()
        assert ("WITHOUT ROWID" in sql) == (db.parent.name == "new")
        return db.stat().st_size

    old = tmp_path / "old" / "index.db"  # as Cozo creates it itself (stores made before)
    old.parent.mkdir()
    sqlite3.connect(old).execute("PRAGMA journal_mode=WAL").connection.close()
    assert size(tmp_path / "new" / "index.db") < 0.7 * size(old)
