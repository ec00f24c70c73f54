"""A RocksDB store runs with bounded memtables (`store.rocksdb_options`): the options file is
written from what RocksDB persisted, RocksDB applies it (its next persisted OPTIONS say so),
and a user's own tuning file is left alone."""

from __future__ import annotations

import re
from pathlib import Path

from isgraph.store import rocksdb_options
from isgraph.store.cozo import CozoStore


def persisted(store: Path, name: str) -> set[int]:
    """The values of option ``name`` in the OPTIONS file RocksDB wrote last (every column
    family)."""
    newest = sorted((store / "data").glob("OPTIONS-*"))[-1].read_text()
    return {int(v) for v in re.findall(rf"(?m)^\s*{name}=(\d+)$", newest)}


def test_a_new_store_runs_with_bounded_memtables(tmp_path: Path) -> None:
    path = tmp_path / "db"
    store = CozoStore("rocksdb", str(path))
    try:
        store.set_meta("probe", "1")  # a working store
        assert store.get_meta("probe") == "1"
    finally:
        store.close()
    assert (path / "options").exists()
    for name, value in rocksdb_options.BOUNDS.items():
        assert persisted(path, name) == {value}, name  # RocksDB opened with them
    # Reopening keeps the file and the bounds, and the data.
    again = CozoStore("rocksdb", str(path))
    try:
        assert again.get_meta("probe") == "1"
    finally:
        again.close()
    assert persisted(path, "write_buffer_size") == {rocksdb_options.BOUNDS["write_buffer_size"]}


def test_a_users_options_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "db"
    CozoStore("rocksdb", str(path)).close()
    mine = rocksdb_options.tuned((path / "options").read_text()).replace(
        f"write_buffer_size={rocksdb_options.BOUNDS['write_buffer_size']}",
        f"write_buffer_size={8 * rocksdb_options.MIB}",
    )
    (path / "options").write_text(mine)
    CozoStore("rocksdb", str(path)).close()
    assert (path / "options").read_text() == mine
    assert persisted(path, "write_buffer_size") == {8 * rocksdb_options.MIB}


def test_no_options_before_rocksdb_persisted_any(tmp_path: Path) -> None:
    assert rocksdb_options.ensure(tmp_path) is False
    assert not (tmp_path / "options").exists()
