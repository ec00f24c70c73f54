"""`isgraph verify`: a store equal to a clean index passes, a drifted one (made so on purpose:
a file edited without re-indexing, a file deleted, an edge's label and target changed in the
store, an alias dropped) is reported row by row, left untouched, and `--repair` removes the
drift. The server's `isgraph.verify` command agrees, unsaved buffers included."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isgraph.index.verify import snapshot
from isgraph.model import FileResult, Resolution
from isgraph.store.base import EdgeUpdate
from isgraph.store.connect import open_store
from tests.lsp.rawclient import RawClient

from .conftest import cli_json, run_cli


def verify_json(root: Path, db: Path, *extra: str) -> tuple[int, dict[str, object]]:
    import json

    done = run_cli("verify", str(root), "--db", f"sqlite:{db}", "--json", *extra, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_clean_store_verifies(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    run_cli("index", str(project), "--db", f"sqlite:{db}", "--quiet")
    code, rec = verify_json(project, db)
    assert code == 0 and rec["drift"] is False and rec["differences"] == 0
    assert rec["stored"] == rec["clean"]
    human = run_cli("verify", str(project), "--db", f"sqlite:{db}")
    assert "no drift" in human.stdout


def test_drift_is_reported_untouched_then_repaired(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    run_cli("index", str(project), "--db", f"sqlite:{db}", "--quiet")
    store = open_store(f"sqlite:{db}")
    try:
        # An edge decided one way in the store, another in a clean index.
        (edge,) = [e for e in store.edges(path="pkg/util.py") if e.target_name == "mk"]
        assert edge.resolution == Resolution.EXACT
        store.update_edges(
            [EdgeUpdate(edge.path, edge.src, edge.kind, edge.target_name, None, "unresolved")]
        )
        # An alias lost: pkg/__init__.py rewritten with its rows but no aliases.
        state = store.file_states()["pkg/__init__.py"]
        store.write_files(
            [
                FileResult(
                    path="pkg/__init__.py",
                    language=state.language,
                    status=state.status,
                    content_hash=state.content_hash,
                    size=state.size,
                    mtime_ns=state.mtime_ns,
                    entities=store.find_entities(path="pkg/__init__.py"),
                    edges=store.edges(path="pkg/__init__.py"),
                    aliases=[],
                )
            ]
        )
        before = snapshot(store)
    finally:
        store.close()
    (project / "pkg" / "core.py").write_text(  # edited, not re-indexed
        (project / "pkg" / "core.py").read_text() + "\n\ndef added():\n    return make()\n"
    )
    (project / "app.py").unlink()  # deleted, not re-indexed

    code, rec = verify_json(project, db)
    assert code == 1 and rec["drift"] is True
    by_cat = rec["by_category"]
    assert isinstance(by_cat, dict)
    assert by_cat["file"] >= 2 and by_cat["entity"] >= 1 and by_cat["edge"] >= 2
    assert by_cat["alias"] >= 1
    rows = rec["rows"]
    assert isinstance(rows, list)
    (mk,) = [r for r in rows if r["category"] == "edge" and r["key"][2] == "mk"]
    assert mk["stored"]["resolution"] == "unresolved" and mk["clean"]["resolution"] == "exact"
    assert mk["clean"]["dst"] == "python:function:pkg/core.py:make"
    assert any(r["key"] == ["app.py"] and r["clean"] is None for r in rows)
    added = "python:function:pkg/core.py:added"
    assert any(r["key"] == [added] and r["stored"] is None for r in rows)
    assert set(rec["files_affected"]) >= {"app.py", "pkg/core.py", "pkg/util.py"}  # type: ignore[arg-type]

    store = open_store(f"sqlite:{db}")
    try:
        assert snapshot(store) == before  # verify only read
    finally:
        store.close()
    human = run_cli("verify", str(project), "--db", f"sqlite:{db}", check=False)
    assert human.returncode == 1 and "drift" in human.stdout and "mk" in human.stdout

    code, rec = verify_json(project, db, "--repair")
    assert code == 0 and rec["repaired_files"] >= 4 and rec["remaining"] == 0
    code, rec = verify_json(project, db)
    assert code == 0 and rec["differences"] == 0
    # The repaired store is a working index: the edit is there, and a rerun finds it current.
    callers = cli_json("callers", "make", "--db", f"sqlite:{db}")["items"]
    assert {r["qualname"] for r in callers} == {"added", "Engine.run", "go"}
    summary = cli_json("index", str(project), "--db", f"sqlite:{db}")
    assert summary["parsed"] == 0 and summary["removed"] == 0


async def test_the_server_command_verifies_with_unsaved_buffers(
    project: Path, tmp_path: Path
) -> None:
    client = await RawClient.start(project, f"sqlite:{tmp_path / 'db' / 'i.db'}")
    try:

        async def search(name: str) -> list[str]:
            found = await client.request("isgraph/query", {"query": "search", "target": name})
            return [r["name"] for r in found["result"]["results"]]

        for _ in range(600):  # the folder is open (a document opened before is not its own)
            if await search("make"):
                break
            await asyncio.sleep(0.05)
        core = project / "pkg" / "core.py"
        text = core.read_text() + "\n\ndef unsaved():\n    return make()\n"
        doc = {"uri": core.as_uri(), "languageId": "python", "version": 1, "text": text}
        await client.notify("textDocument/didOpen", {"textDocument": doc})
        await asyncio.sleep(0.5)  # the buffer's debounce
        answer = await client.request(
            "workspace/executeCommand", {"command": "isgraph.verify", "arguments": []}, 120
        )
        result = answer["result"]
        assert result["drift"] is False and result["differences"] == 0, result
        assert result["stored"]["entities"] == result["clean"]["entities"]
        assert (await search("unsaved"))[:1] == ["unsaved"]
    finally:
        await client.request("shutdown", None)
        await client.notify("exit", None)
        await asyncio.wait_for(client.proc.wait(), 30)


async def test_the_quick_check_finds_resolution_and_tree_drift(
    project: Path, tmp_path: Path
) -> None:
    """`isgraph verify` checks quickly first, building no clean index: each file's content
    hash against its stored row, and each stored edge decided again against the stored
    symbols. On a clean store it finds nothing; it finds a decision changed in the store
    (which only a resolution can see), a file edited, deleted or added without a run, and
    a project file (go.mod) edited without a run."""
    from isgraph.config import Config
    from isgraph.index.service import IndexService
    from isgraph.index.verify import resolution_drift, tree_drift

    (project / "go.mod").write_text("module example.com/x\n")
    store = open_store(f"sqlite:{tmp_path / 'i.db'}")
    try:
        async with IndexService(project, store, Config(jobs=1)) as service:
            await service.index()

        def quick() -> list[str]:
            tree = tree_drift(project, Config(jobs=1), store)
            paths = sorted(store.file_states())
            return tree + [d.describe() for d in resolution_drift(store, paths)]

        assert quick() == []
        (edge,) = [e for e in store.edges(path="pkg/util.py") if e.target_name == "mk"]
        store.update_edges(
            [EdgeUpdate(edge.path, edge.src, edge.kind, edge.target_name, None, "unresolved")]
        )
        (found,) = quick()
        assert "mk" in found and "'unresolved' → 'exact'" in found
        store.update_edges(
            [EdgeUpdate(edge.path, edge.src, edge.kind, edge.target_name, edge.dst, "exact")]
        )
        assert quick() == []
        core = project / "pkg" / "core.py"
        core.write_text(core.read_text() + "\n")
        (project / "app.py").unlink()
        (project / "new.py").write_text("x = 1\n")
        (project / "go.mod").write_text("module example.com/y\n")
        assert sorted(quick()) == ["app.py", "go.mod", "new.py", "pkg/core.py"]
        # What the server's buffers hold counts as the file's content.
        assert "pkg/core.py" in tree_drift(project, Config(jobs=1), store, {"pkg/core.py": b"x"})
    finally:
        store.close()
