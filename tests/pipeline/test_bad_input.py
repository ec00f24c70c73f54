"""Bad input never crashes a run and never costs a good file: each is a reported skip/error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from isgraph.index.worker import FileTask, process_file
from isgraph.model import FileStatus

from .conftest import cli_json, run_cli, write_tree

GOOD = "def ok():\n    return 1\n"


NEEDS_SETPRIV = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and util-linux's setpriv to drop the DAC override capabilities",
)


def index_without_dac_override(root: Path, db: str) -> subprocess.CompletedProcess[str]:
    """Run the real `isgraph index` as root *without* CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH,
    so that file modes apply (root otherwise reads everything)."""
    drop = "-dac_override,-dac_read_search"
    cmd = [
        "setpriv",
        f"--bounding-set={drop}",
        f"--inh-caps={drop}",
        sys.executable,
        "-m",
        "isgraph",
        "index",
        str(root),
        "--json",
        "--quiet",
        "--db",
        db,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def make_bad_tree(root: Path) -> Path:
    write_tree(root, {"good.py": GOOD, "pkg/__init__.py": "", "pkg/also_good.py": GOOD})
    (root / "binary.py").write_bytes(b"\x7fELF\x00\x00\x01\x02" * 100)
    (root / "latin1.py").write_bytes("# caf\xe9\ndef f():\n    pass\n".encode("latin-1"))
    (root / "utf16.py").write_text("def f():\n    pass\n", encoding="utf-16")
    (root / "huge.py").write_text("x = 1\n" * 50_000)  # 300 kB > the 100 kB limit below
    (root / "syntax.py").write_text("def broken(:\n    pass\n\ndef fine():\n    return 2\n")
    (root / "empty.py").write_text("")
    (root / "bom.py").write_bytes(b"\xef\xbb\xbfdef with_bom():\n    pass\n")
    (root / "crlf.py").write_bytes(b"def crlf():\r\n    return 1\r\n")
    (root / "deep.py").write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    (root / "dir_like.py").mkdir()
    (root / "dir_like.py" / "inner.py").write_text(GOOD)
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root / "loop", target_is_directory=True)
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.py").write_text(GOOD)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    os.mkfifo(root / "fifo.py")  # opening it would block forever
    return root


def test_bad_inputs_are_reported_and_good_files_indexed(tmp_path: Path) -> None:
    root = make_bad_tree(tmp_path / "ws")
    summary = cli_json("index", str(root), "--max-file-size", "100000", "--quiet")
    skipped = {s["path"]: s["reason"] for s in summary["skipped"]}
    errors = {e["path"]: e["error"] for e in summary["errors"]}
    assert "binary" in skipped["binary.py"]
    assert "UTF-8" in skipped["latin1.py"]
    assert "binary" in skipped["utf16.py"] or "UTF-8" in skipped["utf16.py"]
    assert "too large" in skipped["huge.py"]
    assert "syntax error" in errors["syntax.py"]
    assert any("outside the workspace" in r for p, r in skipped.items() if p.startswith("escape"))
    assert any("loop" in r or "visited" in r for p, r in skipped.items() if p.startswith("loop"))

    names = {r["name"] for r in cli_json("symbols", "--root", str(root))}
    # every good file, the parsable part of the broken one, odd encodings/endings included
    assert {"ok", "fine", "with_bom", "crlf"} <= names
    assert "secret" not in names  # never read through a symlink out of the root
    files = {r["path"] for r in cli_json("symbols", "--kind", "module", "--root", str(root))}
    assert {"good.py", "pkg/also_good.py", "dir_like.py/inner.py", "deep.py", "empty.py"} <= files
    assert "fifo.py" not in files


def test_worker_reports_vanished_file(tmp_path: Path) -> None:
    task = FileTask("gone.py", str(tmp_path / "gone.py"), "python")
    result = process_file(str(tmp_path), task, 1_000_000)
    assert result.status == FileStatus.ERROR
    assert result.error is not None and "disappeared" in result.error


@NEEDS_SETPRIV
def test_unreadable_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # Root reads every file whatever its mode, so run the real CLI without the capabilities
    # that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): then mode 000 is unreadable.
    root = write_tree(tmp_path / "ws", {"good.py": GOOD, "locked.py": GOOD})
    (root / "locked.py").chmod(0o000)
    proc = index_without_dac_override(root, f"sqlite:{tmp_path / 'db' / 'i.db'}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    errors = {e["path"]: e["error"] for e in summary["errors"]}
    assert "Permission denied" in errors["locked.py"]
    assert summary["entities"] >= 2  # good.py's module + function


def test_locked_rocksdb_store_is_a_clear_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "ws", {"good.py": GOOD})
    db = f"rocksdb:{tmp_path / 'rocks'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from isgraph.store.connect import open_store; "
            f"s = open_store({db!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        proc = run_cli("index", str(root), "--db", db, "--quiet", check=False)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and "lock" in lines[0].lower(), proc.stderr


def test_unwritable_db_path_is_a_clear_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "ws", {"good.py": GOOD})
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = run_cli("index", str(root), "--db", f"sqlite:{blocker / 'sub' / 'i.db'}", check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(blocker) in proc.stderr


def test_query_without_index_says_what_to_do(tmp_path: Path) -> None:
    proc = run_cli("stats", "--root", str(tmp_path), check=False)
    assert proc.returncode == 2
    assert "isgraph index" in proc.stderr


@pytest.fixture(autouse=True)
def _cleanup_outside(tmp_path: Path):  # type: ignore[no-untyped-def]
    yield
    shutil.rmtree(tmp_path / "outside", ignore_errors=True)


@NEEDS_SETPRIV
def test_unlistable_directory_keeps_its_indexed_files(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "ws", {"good.py": GOOD, "pkg/inner.py": GOOD})
    db = f"sqlite:{tmp_path / 'db' / 'i.db'}"
    run_cli("index", str(root), "--db", db, "--quiet")
    (root / "pkg").chmod(0o000)
    try:
        proc = index_without_dac_override(root, db)
    finally:
        (root / "pkg").chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["removed"] == 0  # a transient permission error must not wipe the index
    assert any("cannot list" in s["reason"] for s in summary["skipped"])
    files = {r["path"] for r in cli_json("symbols", "--kind", "module", "--db", db)}
    assert files == {"good.py", "pkg/inner.py"}
