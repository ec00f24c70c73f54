"""Workspace trust (docs/security.md): a repository's own config cannot send the index
elsewhere unless the user trusts the workspace — from the CLI or from an editor."""

from __future__ import annotations

import os
from pathlib import Path

from tests.pipeline.conftest import run_cli, write_tree
from tests.reliability import record

from .rawclient import RawClient

APP = {"app.py": "def main():\n    return 1\n"}


def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace whose .isgraph.toml points the store outside it (absolute path)."""
    root = write_tree(tmp_path / "ws", APP)
    evil = tmp_path / "elsewhere" / "stolen.db"
    (root / ".isgraph.toml").write_text(f'db = "sqlite:{evil}"\n')
    return root, evil


def test_cli_ignores_a_workspace_store_unless_trusted(tmp_path: Path) -> None:
    root, evil = hostile(tmp_path)
    proc = run_cli("index", str(root), "--quiet")
    assert "'db' ignored" in proc.stderr and "ISGRAPH_TRUST_WORKSPACE" in proc.stderr
    assert not evil.parent.exists()  # nothing written outside the workspace
    assert (root / ".isgraph" / "index.db").exists()
    os.environ["ISGRAPH_TRUST_WORKSPACE"] = "1"
    try:
        run_cli("index", str(root), "--quiet")
    finally:
        del os.environ["ISGRAPH_TRUST_WORKSPACE"]
    assert evil.exists()  # opted in: honoured


async def test_server_ignores_a_workspace_store_unless_trusted(tmp_path: Path) -> None:
    root, evil = hostile(tmp_path)
    os.environ.pop("ISGRAPH_TRUST_WORKSPACE", None)
    client = await RawClient.start(root, None)
    try:
        await client.fresh()
        warnings = [n for n in client.notifications if n["method"] == "window/showMessage"]
        assert any("'db' ignored" in n["params"]["message"] for n in warnings), warnings
        assert not evil.parent.exists()
    finally:
        await client.close()
    client = await RawClient.start(root, None, {"trustWorkspace": True})
    try:
        await client.fresh()
        assert evil.exists()  # the editor says the user trusts this workspace
    finally:
        await client.close()
    record("security", hostile_config_store_paths_refused=2)
