"""`isgraph index --enrich`: downstream hover stored as entity metadata, timeouts counted."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.pipeline.conftest import run_cli, write_tree

from .conftest import fake, jedi

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": '''
        class Engine:
            """Runs things."""

            def run(self, times: int) -> list[int]:
                """Run a few times."""
                return [helper(i) for i in range(times)]


        def helper(n: int) -> int:
            """Double it."""
            return 2 * n
        ''',
    "app.py": """
        from pkg.core import Engine


        def main() -> None:
            Engine().run(3)
        """,
}


def toml(command: tuple[str, ...] | list[str], timeout_ms: int) -> str:
    return (
        "[[downstream]]\n"
        'name = "ds"\n'
        f"command = {json.dumps(list(command))}\n"
        'languages = ["python"]\n'
        f"timeout_ms = {timeout_ms}\n"
    )


@pytest.fixture
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The servers come from the workspace's .isgraph.toml: honoured in a trusted workspace only.
    monkeypatch.setenv("ISGRAPH_TRUST_WORKSPACE", "1")
    return write_tree(tmp_path / "proj", PROJECT)


def show(proj: Path, name: str) -> dict[str, object]:
    (rec,) = json.loads(run_cli("show", name, "--json", "--root", str(proj)).stdout)["items"]
    assert isinstance(rec, dict)
    return rec


def test_enrich_with_jedi(proj: Path) -> None:
    (proj / ".isgraph.toml").write_text(toml([jedi()], 20000))
    summary = json.loads(run_cli("index", str(proj), "--enrich", "--json").stdout)
    # Engine, Engine.run, helper, main: every entity but the modules.
    assert summary["enrichment"] | {"seconds": 0} == {
        "files": 2,
        "entities": 4,
        "enriched": 4,
        "empty": 0,
        "timed_out": 0,
        "seconds": 0,
    }
    meta = show(proj, "helper")["metadata"]
    assert isinstance(meta, dict)
    assert meta["server"] == "ds"
    assert meta["signature"] == "def helper(n: int) -> int" and meta["type"] == "int"
    assert "Double it." in str(meta["hover"])
    run_meta = show(proj, "Engine.run")["metadata"]
    assert isinstance(run_meta, dict) and run_meta["type"] == "list[int]"
    table = run_cli("show", "helper", "--root", str(proj)).stdout
    assert "def helper(n: int) -> int" in table

    # Nothing changed: nothing to ask. One file changed: only its entities are asked again.
    again = json.loads(run_cli("index", str(proj), "--enrich", "--json").stdout)
    assert again["enrichment"]["entities"] == 0
    (proj / "app.py").write_text((proj / "app.py").read_text() + "\n\ndef extra() -> str:\n")
    with (proj / "app.py").open("a") as fh:
        fh.write('    return "x"\n')
    again = json.loads(run_cli("index", str(proj), "--enrich", "--json").stdout)
    assert again["enrichment"] | {"seconds": 0} == {
        "files": 1,
        "entities": 2,
        "enriched": 2,
        "empty": 0,
        "timed_out": 0,
        "seconds": 0,
    }
    extra = show(proj, "extra")["metadata"]
    assert isinstance(extra, dict) and extra["signature"] == "def extra() -> str"
    # Without --enrich the index is as before: metadata of unchanged entities stays.
    run_cli("index", str(proj), "--json")
    assert show(proj, "helper")["metadata"] == meta


def test_timeouts_leave_metadata_none_and_are_counted(proj: Path) -> None:
    (proj / ".isgraph.toml").write_text(toml(fake("silent"), 200))
    t0 = time.perf_counter()
    summary = json.loads(run_cli("index", str(proj), "--enrich", "--json").stdout)
    elapsed = time.perf_counter() - t0
    assert summary["enrichment"]["entities"] == 4
    assert summary["enrichment"]["timed_out"] == 4 and summary["enrichment"]["enriched"] == 0
    assert summary["files"] == 3 and summary["entities"] == 7  # the index itself is whole
    assert show(proj, "helper")["metadata"] is None
    assert elapsed < 20


def test_a_dead_server_never_fails_the_index(proj: Path) -> None:
    (proj / ".isgraph.toml").write_text(toml(["/nonexistent/server"], 200))
    proc = run_cli("index", str(proj), "--enrich", "--json")
    summary = json.loads(proc.stdout)
    assert summary["entities"] == 7
    assert summary["enrichment"]["timed_out"] == 4
    assert "command not found: /nonexistent/server" in proc.stderr


def test_enrich_needs_a_downstream_server(proj: Path) -> None:
    proc = run_cli("index", str(proj), "--enrich", check=False)
    assert proc.returncode == 2 and "--enrich needs downstream language servers" in proc.stderr
