"""The CLI as a user runs it: a real subprocess, real store, JSON and table output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isgraph.store.connect import default_store_url, open_store
from tests.pipeline.conftest import PROJECT, cli_items, cli_json, run_cli, write_tree

ENTITY_KEYS = {
    "key",
    "name",
    "qualname",
    "kind",
    "language",
    "path",
    "start_line",
    "end_line",
    "signature",
    "parent",
}
EDGE_KEYS = {"from", "to", "target_name", "kind", "resolution", "path", "line", "col", "sites"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("cli") / "proj", PROJECT)
    summary = cli_json("index", str(root), "--quiet")
    assert set(summary) >= {"files", "entities", "edges", "skipped", "errors", "seconds"}
    assert summary["files"] == 4 and summary["errors"] == []
    assert (root / ".isgraph" / "index.db").exists()  # the embedded default
    return root


def test_help_explains_commands() -> None:
    text = run_cli("--help").stdout
    for cmd in (
        "index",
        "symbols",
        "edges",
        "show",
        "callers",
        "callees",
        "impact",
        "cycles",
        "search",
        "stats",
    ):
        assert cmd in text
    assert "--db" in run_cli("index", "--help").stdout


def test_symbols_records(indexed: Path) -> None:
    rows = cli_items("symbols", "--kind", "method", cwd=indexed)  # store found from the cwd
    assert rows and all(set(r) >= ENTITY_KEYS for r in rows)
    assert {r["qualname"] for r in rows} == {"Base.start", "Base.helper", "Engine.run"}
    run = next(r for r in rows if r["qualname"] == "Engine.run")
    assert run["signature"] == "(self) -> int"
    assert run["parent"] == "python:class:pkg/core.py:Engine"
    assert cli_items("symbols", "--name", "mak", "--root", str(indexed))[0]["name"] == "make"
    assert [
        r["name"] for r in cli_items("symbols", "--file", "app.py", "--root", str(indexed))
    ] == [
        "app",
        "main",
    ]


def test_edges_show_and_stats(indexed: Path) -> None:
    edges = cli_items("edges", "--kind", "inherits", "--root", str(indexed))
    assert edges and all(set(e) == EDGE_KEYS for e in edges)
    assert [(e["target_name"], e["resolution"]) for e in edges] == [("Base", "exact")]
    unresolved = cli_items("edges", "--resolution", "unresolved", "--root", str(indexed))
    assert {e["target_name"] for e in unresolved} == {"pkg.extra.later"}
    # `len` resolves into typeshed's builtins stub; stub files' own edges are listed on request
    (len_call,) = [
        e for e in cli_items("edges", "--root", str(indexed)) if e["target_name"] == "len"
    ]
    assert len_call["to"] == "python:function:@typeshed/stdlib/builtins.pyi:len"
    assert not any(e["path"].startswith("@") for e in cli_items("edges", "--root", str(indexed)))
    with_stubs = cli_items("edges", "--kind", "inherits", "--stubs", "--root", str(indexed))
    assert any(e["path"] == "@typeshed/stdlib/builtins.pyi" for e in with_stubs)

    (shown,) = cli_items("show", "python:function:pkg/core.py:make", "--root", str(indexed))
    assert shown["name"] == "make"
    assert {e["from"] for e in shown["edges_in"]} >= {"python:method:pkg/core.py:Engine.run"}

    stats = cli_json("stats", "--root", str(indexed))
    assert set(stats) == {
        "files",
        "entities",
        "edges",
        "entities_by_kind",
        "entities_by_language",
        "edges_by_kind",
        "edges_by_resolution",
    }
    assert set(stats["edges_by_resolution"]) == {"exact", "inferred", "unresolved"}
    assert stats["entities_by_language"] == {"python": stats["entities"]}


def test_callers_callees_impact_by_name(indexed: Path) -> None:
    callers = cli_items("callers", "make", "--depth", "2", "--root", str(indexed))
    assert {(r["qualname"], r["depth"]) for r in callers} == {
        ("Engine.run", 1),
        ("go", 1),
        ("main", 2),
    }
    callees = cli_items("callees", "go", "--root", str(indexed))
    assert {r["qualname"] for r in callees} >= {"Engine", "make", "Engine.run"}
    impact = cli_items("impact", "python:function:pkg/core.py:make", "--root", str(indexed))
    assert {"go", "main", "Engine.run"} <= {r["qualname"] for r in impact}


def test_search_ranks_exact_first(indexed: Path) -> None:
    rows = cli_items("search", "engine", "--root", str(indexed))
    assert rows[0]["name"] == "Engine"


def test_unknown_name_is_a_clear_error(indexed: Path) -> None:
    proc = run_cli("callers", "no_such_thing", "--root", str(indexed), check=False)
    assert proc.returncode == 2
    assert "no entity" in proc.stderr and "Traceback" not in proc.stderr


def test_human_output_is_a_table(indexed: Path) -> None:
    text = run_cli("symbols", "--kind", "class", "--root", str(indexed)).stdout
    assert "Engine" in text and "pkg/core.py:" in text
    summary = run_cli("index", str(indexed), "--quiet").stdout
    assert "unchanged 4" in summary


def test_cycles(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "c",
        {"m.py": "def a():\n    b()\n\n\ndef b():\n    a()\n\n\ndef c():\n    c()\n"},
    )
    run_cli("index", str(root), "--quiet")
    found = cli_items("cycles", "--root", str(root))
    assert sorted(sorted(k.rsplit(":", 1)[1] for k in comp) for comp in found) == [
        ["a", "b"],
        ["c"],
    ]


def test_an_embedded_default_index_of_another_schema_is_rebuilt_by_index(tmp_path: Path) -> None:
    """The default store under .isgraph/ is a cache: `index` (and the server) rebuild it when
    another version of isgraph wrote it; queries say so instead of answering from nothing;
    a store named with --db is never deleted."""
    root = write_tree(tmp_path / "proj", PROJECT)
    cli_json("index", str(root))
    store = open_store(default_store_url(root.resolve()))
    store.set_meta("schema_version", "1")  # as an older isgraph left it
    store.close()

    query = run_cli("callers", "helper", "--root", str(root), check=False)
    assert query.returncode == 2 and "schema version 1" in query.stderr

    named = run_cli("index", str(root), "--db", default_store_url(root.resolve()), check=False)
    assert named.returncode == 2 and "schema version 1" in named.stderr

    done = run_cli("index", str(root), "--json")
    assert "rebuilding" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["parsed"] == summary["files"] > 0 and summary["errors"] == []
    callers = cli_items("callers", "helper", "--root", str(root))
    assert [r["qualname"] for r in callers] == ["Base.start"]  # `return self.helper()`
