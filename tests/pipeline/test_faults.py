"""Disk and store faults: writes that fail mid-run, a read-only store. Each gives a clear
error, and what an earlier run committed is still there afterwards."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from isgraph.store.connect import open_store
from tests.reliability import record

from .conftest import cli_json, write_tree
from .test_bad_input import NEEDS_SETPRIV, index_without_dac_override

GOOD = "def kept():\n    return 1\n"


def bulk(root: Path, n: int) -> None:
    """``n`` files with enough rows that writing them needs far more than a few kB."""
    for i in range(n):
        body = "".join(f"def f{i}_{j}(x):\n    return f{i}_{j + 1}(x)\n\n" for j in range(40))
        write_tree(root, {f"bulk/m{i}.py": body})


def committed(db: str) -> set[str]:
    store = open_store(db)
    try:
        return {e.name for e in store.find_entities()}
    finally:
        store.close()


def index_with_file_size_limit(root: Path, db: str, limit: int) -> subprocess.CompletedProcess[str]:
    """`isgraph index` under RLIMIT_FSIZE: every write past ``limit`` bytes of a file fails
    with EFBIG, as on a full disk (the kernel applies it to root too; Python ignores SIGXFSZ)."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ}
    env.pop("ISGRAPH_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "isgraph", "index", str(root), "--db", db, "--json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_files,
        env=env,
    )


def test_full_disk_mid_run_is_reported_and_keeps_committed_data(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "ws", {"kept.py": GOOD})
    db_path = tmp_path / "db" / "i.db"
    db = f"sqlite:{db_path}"
    cli_json("index", str(root), "--db", db)
    before = committed(db)
    assert "kept" in before
    bulk(root, 60)
    sizes = [p.stat().st_size for p in db_path.parent.iterdir()]
    proc = index_with_file_size_limit(root, db, max(sizes) + 4096)
    assert proc.returncode in (1, 2), (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    if proc.returncode == 2:  # the store refused: one clear line on stderr
        assert proc.stderr.strip(), "no error message"
        assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr
    else:  # exit 1: the run finished and reported the files it could not write
        failed = [e for e in json.loads(proc.stdout)["errors"] if "write failed" in e["error"]]
        assert failed, proc.stdout[-2000:]
    after = committed(db)
    assert before <= after, "committed rows were lost"
    # and the store works again once there is room
    cli_json("index", str(root), "--db", db)
    assert {"kept", "f0_0", "f59_39"} <= committed(db)
    print("full disk:", proc.returncode, proc.stderr.strip()[-500:])
    record("faults", full_disk_mid_run=f"exit {proc.returncode}, committed data kept")


@NEEDS_SETPRIV
def test_read_only_store_is_a_clear_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "ws", {"kept.py": GOOD})
    store_dir = tmp_path / "db"
    db = f"sqlite:{store_dir / 'i.db'}"
    cli_json("index", str(root), "--db", db)
    bulk(root, 5)
    for p in [store_dir, *store_dir.iterdir()]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        proc = index_without_dac_override(root, db)
    finally:
        for p in [store_dir, *store_dir.iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert proc.returncode in (1, 2), proc.stdout[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "kept" in committed(db)
    print("read-only:", proc.returncode, proc.stderr.strip()[-500:])
    record("faults", read_only_store=f"exit {proc.returncode}, committed data kept")


@pytest.fixture(autouse=True)
def _no_leftovers(tmp_path: Path):  # type: ignore[no-untyped-def]
    yield
    shutil.rmtree(tmp_path / "ws", ignore_errors=True)
