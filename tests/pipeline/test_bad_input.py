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
from tests.reliability import record

from .conftest import cli_items, cli_json, run_cli, write_tree

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


LIMIT = 3_000_000  # --max-file-size of the bad-input run: the minified JS fits, huge.py not


def minified_js() -> bytes:
    """~2.5 MB on one line, as a bundler writes it: a few hundred functions, then data."""
    funcs = b"".join(b"function m%d(a){return m%d(a)+1};" % (i, i + 1) for i in range(300))
    data = b"var D=[" + b",".join(b"%d" % (i * 7919 % 100003) for i in range(400_000)) + b"];"
    return b"!function(){" + funcs + data + b"m0(D)}();"


def make_bad_tree(root: Path) -> Path:
    """Every kind of bad input next to good files. Returns ``root``."""
    write_tree(root, {"good.py": GOOD, "pkg/__init__.py": "", "pkg/also_good.py": GOOD})
    write_tree(root, {"web/app.js": "export function hello() { return 1; }\n"})
    (root / "binary.py").write_bytes(b"\x7fELF\x00\x00\x01\x02" * 100)
    (root / "image.js").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    (root / "latin1.py").write_bytes("# caf\xe9\ndef f():\n    pass\n".encode("latin-1"))
    (root / "bad_utf8.js").write_bytes(b"function f() { return '\xff\xfe\xc3'; }\n")
    (root / "utf16.py").write_text("def f():\n    pass\n", encoding="utf-16")
    (root / "utf16le.py").write_text("def f():\n    pass\n", encoding="utf-16-le")  # no BOM
    (root / "huge.py").write_text("x = 1\n" * 540_000)  # 3.2 MB > LIMIT
    (root / "bundle.min.js").write_bytes(minified_js())
    (root / "syntax.py").write_text("def broken(:\n    pass\n\ndef fine():\n    return 2\n")
    (root / "empty.py").write_text("")
    (root / "empty.js").write_text("")
    (root / "bom.py").write_bytes(b"\xef\xbb\xbfdef with_bom():\n    pass\n")
    (root / "bom.js").write_bytes(b"\xef\xbb\xbffunction withBomJs() {}\n")
    (root / "crlf.py").write_bytes(b"def crlf():\r\n    return 1\r\n")
    (root / "mixed.py").write_bytes(b"def mixed_a():\r\n    pass\n\rdef mixed_b():\n    pass\r\n")
    (root / "cr_only.js").write_bytes(b"function crOnly() {\r  return 1;\r}\r")
    (root / "nul.py").write_bytes(b"def before_nul():\n    pass\n\x00\n")
    # a NUL past the binary sniff window reaches the parser as valid UTF-8
    (root / "late_nul.py").write_bytes(b"def late_nul():\n    pass\n" + b"#" * 9000 + b"\x00\n")
    (root / "long_line.py").write_bytes(
        b"s = '" + b"a" * 1_000_000 + b"'\ndef after_long_line():\n    pass\n"
    )
    (root / "deep.py").write_text("x = " + "[" * 10_000 + "]" * 10_000 + "\n")
    (root / "deep_calls.py").write_text("y = " + "f(" * 10_000 + ")" * 10_000 + "\n")
    (root / "deep.js").write_text(
        "function deepJs() {}\nx = " + "[" * 10_000 + "]" * 10_000 + ";\n"
    )
    (root / "deep_fn.js").write_text("function a(){" * 10_000 + "}" * 10_000 + "\n")
    (root / "dir_like.py").mkdir()
    (root / "dir_like.py" / "inner.py").write_text(GOOD)
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root / "loop", target_is_directory=True)
    (root / "self_link.py").symlink_to(root / "self_link.py")  # ELOOP on open
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.py").write_text("def secret():\n    pass\n")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape_file.py").symlink_to(outside / "secret.py")
    os.mkfifo(root / "fifo.py")  # opening it would block forever
    return root


# bad inputs that are indexed correctly: file -> a name it must define (None: no entity)
INDEXED_OK = {
    "bundle.min.js": "m299",
    "empty.py": None,
    "empty.js": None,
    "bom.py": "with_bom",
    "bom.js": "withBomJs",
    "crlf.py": "crlf",
    "mixed.py": "mixed_b",
    "cr_only.js": "crOnly",
    "long_line.py": "after_long_line",
    "deep.py": None,
    "deep_calls.py": None,
    "deep.js": "deepJs",
    "deep_fn.js": "a",
    "dir_like.py/inner.py": "ok",
}
# bad inputs that must be reported: path (or path prefix) -> words the reason must contain
REPORTED = {
    "binary.py": "binary",
    "image.js": "binary",
    "nul.py": "binary",
    "latin1.py": "UTF-8",
    "bad_utf8.js": "UTF-8",
    "utf16.py": "binary|UTF-8",
    "utf16le.py": "binary|UTF-8",
    "huge.py": "too large",
    "escape": "outside the workspace",
    "escape_file.py": "outside the workspace",
    "loop": "loop|visited",
    "self_link.py": "loop|broken|cannot",
    "dangling.py": "broken|cannot|disappeared",
    "fifo.py": "not a regular file",
}


def test_bad_inputs_are_reported_and_good_files_indexed(tmp_path: Path) -> None:
    root = make_bad_tree(tmp_path / "ws")
    summary = cli_json("index", str(root), "--max-file-size", str(LIMIT), "--quiet")
    reports = {s["path"]: s["reason"] for s in summary["skipped"]}
    reports.update({e["path"]: e["error"] for e in summary["errors"]})
    assert "syntax error" in reports["syntax.py"]
    for path, words in REPORTED.items():
        hits = [r for p, r in reports.items() if p == path or p.startswith(path + "/")]
        assert hits, f"{path} not reported: {reports}"
        assert any(any(w in r for w in words.split("|")) for r in hits), (path, hits)

    names = {r["name"] for r in cli_items("symbols", "--root", str(root), "--limit", "100000")}
    # every good file, the parsable part of the broken one, odd encodings/endings included
    assert {"ok", "fine", "hello"} <= names
    assert {n for n in INDEXED_OK.values() if n} <= names
    assert "secret" not in names  # never read through a symlink out of the root
    assert "late_nul" in names or "late_nul.py" in reports
    files = {r["path"] for r in cli_items("symbols", "--kind", "module", "--root", str(root))}
    assert {"good.py", "pkg/also_good.py", "web/app.js", *INDEXED_OK} <= files
    assert "fifo.py" not in files
    # nothing is silently lost: every entry of the tree is indexed or reported
    entries = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.name != "again"}
    entries -= {".isgraph", "pkg", "web", "loop", "dir_like.py"}
    entries = {e for e in entries if not e.startswith((".isgraph/", "escape/"))}
    unaccounted = {e for e in entries if e not in files and e not in reports}
    assert not unaccounted, unaccounted
    record(
        "bad_input",
        kinds_tried=len(INDEXED_OK) + len(REPORTED) + 1,  # + syntax.py
        indexed_correctly=len(INDEXED_OK),
        reported_with_reason=len(REPORTED) + 1,
        crashes=0,
    )


def test_file_replaced_by_a_directory_or_fifo_is_an_error(tmp_path: Path) -> None:
    """What the walk saw as a file may be something else when the worker opens it."""
    (tmp_path / "now_dir.py").mkdir()
    res = process_file(
        str(tmp_path), FileTask("now_dir.py", str(tmp_path / "now_dir.py"), "python"), 10**6
    )
    assert res.status == FileStatus.ERROR and res.error and "cannot read" in res.error
    (tmp_path / "swapped.py").write_text(GOOD)
    task = FileTask("swapped.py", str(tmp_path / "swapped.py"), "python")
    (tmp_path / "swapped.py").write_bytes(b"\x00binary now")  # replaced after discovery
    res = process_file(str(tmp_path), task, 10**6)
    assert res.status == FileStatus.SKIPPED and res.error and "binary" in res.error


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
    run_cli("index", str(root), "--db", db, "--quiet")  # committed before the second process
    write_tree(root, {"later.py": "def later():\n    pass\n"})
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
    names = {r["name"] for r in cli_items("symbols", "--db", db)}
    assert "ok" in names and "later" not in names  # committed data intact, nothing half-done
    record("faults", rocksdb_second_process="exit 2, one line naming the lock, data kept")


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
    files = {r["path"] for r in cli_items("symbols", "--kind", "module", "--db", db)}
    assert files == {"good.py", "pkg/inner.py"}


async def test_files_deleted_and_replaced_while_the_walk_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery saw them; by the time a worker reads them one is gone, one is new content,
    one became binary. Reported or indexed as they are now; the next run settles deletions."""
    from isgraph.config import Config
    from isgraph.index import pipeline
    from isgraph.index.service import IndexService
    from isgraph.store.connect import open_store

    files = {f"m{i}.py": f"def f{i}():\n    pass\n" for i in range(12)}
    root = write_tree(tmp_path / "ws", files)
    real = pipeline.discover

    def racing(*args: object, **kw: object):  # type: ignore[no-untyped-def]
        found = list(real(*args, **kw))  # the walk has seen everything...
        (root / "m3.py").unlink()  # ...then the tree changes under it
        (root / "m5.py").write_text("def replaced():\n    pass\n")
        (root / "m7.py").write_bytes(b"\x00\x01binary now")
        yield from found

    monkeypatch.setattr(pipeline, "discover", racing)
    store = open_store(f"sqlite:{tmp_path / 'i.db'}")
    try:
        async with IndexService(root, store, Config(jobs=2)) as service:
            summary = await service.index()
        reports = {e["path"]: e["error"] for e in summary.errors}
        reports.update({s["path"]: s["reason"] for s in summary.skipped})
        assert "disappeared" in reports["m3.py"]
        assert "binary" in reports["m7.py"]
        names = {e.name for e in store.find_entities()}
        assert "replaced" in names and "f5" not in names and "f3" not in names
        assert {f"f{i}" for i in range(12)} - {"f3", "f5", "f7"} <= names
        monkeypatch.setattr(pipeline, "discover", real)
        async with IndexService(root, store, Config(jobs=2)) as service:
            await service.index()
        assert "m3.py" not in store.file_states()
    finally:
        store.close()
    record("bad_input", changed_during_walk=3)
