"""`isgraph mcp` as a host runs it: a subprocess driven by the MCP SDK's stdio client, on the
fixture repo of tests/queries (answers written out from reading it)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.queries.conftest import make_repo

TOOLS = {"find_symbols", "symbol", "callers", "impact", "context", "changes"}
STEP_S = 0.05
WAIT_S = 60.0


def _params(root: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "isgraph", "mcp", "--root", str(root)], cwd=root
    )


@asynccontextmanager
async def connect(root: Path) -> AsyncIterator[ClientSession]:
    async with (
        stdio_client(_params(root)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await asyncio.wait_for(session.initialize(), WAIT_S)
        yield session


async def call(session: ClientSession, tool: str, **args: Any) -> dict[str, Any]:
    result = await asyncio.wait_for(session.call_tool(tool, args), WAIT_S)
    assert not result.is_error, result.content
    (content,) = result.content
    answer = json.loads(content.text)  # type: ignore[union-attr]
    assert answer == result.structured_content
    return answer  # type: ignore[no-any-return]


async def error(session: ClientSession, tool: str, **args: Any) -> str:
    result = await asyncio.wait_for(session.call_tool(tool, args), WAIT_S)
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


async def until(session: ClientSession, ok: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll find_symbols until ``ok(answer)`` (bounded)."""
    for _ in range(int(WAIT_S / STEP_S)):
        answer = await call(session, "find_symbols", query="Engine")
        if ok(answer):
            return answer
        await asyncio.sleep(STEP_S)
    raise AssertionError("condition never held")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("mcp") / "repo")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def git_repo(repo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "g"
    shutil.copytree(repo, root)  # with its index: the server's first run is incremental
    (root / ".git").mkdir()
    _git(root, "init", "-q")
    (root / ".git" / "info" / "exclude").write_text(".isgraph/\n")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return root


def brief(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(i["qualname"], i["depth"]) for i in items]


async def test_every_tool_answers_on_the_fixture(repo: Path) -> None:
    async with connect(repo) as s:
        listed = await s.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        for t in listed.tools:
            assert t.description and "max_tokens" in t.input_schema["properties"]
            assert t.input_schema["properties"]["max_tokens"]["default"] <= 25000
        await until(s, lambda a: a["fresh"])

        found = await call(s, "find_symbols", query="make")
        assert [x["key"] for x in found["symbols"]["items"]] == ["python:function:pkg/core.py:make"]
        assert (found["fresh"], found["pending_files"], found["budget_cut"]) == (True, 0, False)
        methods = await call(s, "find_symbols", kind="method")
        assert [x["qualname"] for x in methods["symbols"]["items"]] == [
            "Base.start",
            "Base.helper",
            "Engine.run",
        ]

        sym = await call(s, "symbol", name_or_key="Engine")
        (engine,) = sym["matches"]["items"]
        assert engine["source"].startswith("class Engine(Base):")
        assert [c["qualname"] for c in engine["callers"]["items"]] == ["make", "go", "test_run"]
        assert [b["qualname"] for b in engine["bases"]] == ["Base"]

        calls = await call(s, "callers", name_or_key="Base.helper")
        (target,) = calls["targets"]["items"]
        got = [(c["from"], c["resolution"], c["sites"]) for c in target["callers"]["items"]]
        assert got == [
            ("Base.start", "exact", [[3, 20]]),
            ("poke", "inferred", [[2, 6], [3, 13]]),
        ]

        imp = await call(s, "impact", name_or_key="Base.helper")
        (t,) = imp["targets"]["items"]
        assert brief(t["certain"]["items"]) == [
            ("Base.start", 1),
            ("Engine.run", 2),
            ("go", 3),
            ("test_run", 3),
        ]
        assert brief(t["possible"]["items"]) == [("poke", 1), ("test_loose", 2), ("test_poke", 2)]
        make = await call(s, "impact", name_or_key="pkg.core.make")
        (frontier,) = make["targets"]["items"][0]["unresolved_frontier"]["items"]
        assert (frontier["from"], frontier["target_name"], frontier["sites"][0][0]) == (
            "far",
            "y.make",
            7,
        )

        ctx = await call(s, "context", symbols=["Engine.run"])
        assert ctx["items"][0]["qualname"] == "Engine.run" and "body" in ctx["items"][0]
        assert ctx["total"] >= 5 and ctx["tokens"] <= 6000


async def test_budgets_bind_and_say_so(repo: Path) -> None:
    async with connect(repo) as s:
        await until(s, lambda a: a["fresh"])
        cut = await call(s, "callers", name_or_key="pkg.core.make", limit=1)
        page = cut["targets"]["items"][0]["callers"]
        assert (len(page["items"]), page["total"], page["truncated"], page["cursor"]) == (
            1,
            3,
            True,
            1,
        )
        rest = await call(s, "callers", name_or_key="pkg.core.make", limit=5, cursor=1)
        assert len(rest["targets"]["items"][0]["callers"]["items"]) == 2
        small = await call(s, "impact", name_or_key="pkg.core.make", max_tokens=300)
        assert small["budget_cut"] and small["tokens"] <= 300
        certain = small["targets"]["items"][0]["certain"]
        assert certain["truncated"] and certain["total"] == 6 and len(certain["items"]) < 6
        pack = await call(s, "context", symbols=["Engine.run"], max_tokens=400)
        assert pack["truncated"] and pack["tokens"] <= 400


async def test_bad_arguments_are_tool_errors_and_the_server_lives(repo: Path) -> None:
    async with connect(repo) as s:
        assert "no such symbol 'nope'" in await error(s, "impact", name_or_key="nope")
        assert await error(s, "callers", name_or_key="make", limit=0)
        assert await error(s, "symbol", name_or_key=["not", "a", "string"])
        assert "give a query" in await error(s, "find_symbols")
        assert "give symbols" in await error(s, "context")
        assert "not a git" in (await error(s, "changes")).lower()  # the fixture is no repo
        assert "not a revision" in await error(s, "changes", rev="--output=/tmp/x")
        unknown = await asyncio.wait_for(s.call_tool("no_such_tool", {}), WAIT_S)
        assert unknown.is_error
        again = await call(s, "find_symbols", query="make")
        assert again["symbols"]["total"] == 1


async def test_freshness_flips_while_an_edit_is_pending(git_repo: Path) -> None:
    async with connect(git_repo) as s:
        await until(s, lambda a: a["fresh"])
        core = git_repo / "pkg" / "core.py"
        core.write_text(
            core.read_text().replace("return 1", "return 2") + "\n\nclass Engine2:\n    pass\n"
        )
        stale = await until(s, lambda a: not a["fresh"])
        assert stale["pending_files"] >= 1
        fresh = await until(s, lambda a: a["fresh"])
        assert fresh["pending_files"] == 0
        assert "Engine2" in [x["qualname"] for x in fresh["symbols"]["items"]]
        diff = await call(s, "changes", depth=3)
        assert diff["range"] == "working tree"
        assert [x["qualname"] for x in diff["symbols"]["items"]] == ["Base.helper", "Engine2"]
        assert [t["qualname"] for t in diff["tests"]["items"]] == ["test_run", "test_poke"]
        via = {i["qualname"]: i["via"] for i in diff["impacted"]["items"]}
        assert via["Engine.run"] == "certain" and via["poke"] == "possible"


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _initialize_raw(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    proc.stdin.write((json.dumps(hello) + "\n").encode())
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())  # type: ignore[no-any-return]


@pytest.mark.parametrize("how", ["eof", "sigterm"])
def test_shutdown_leaves_no_process(repo: Path, tmp_path: Path, how: str) -> None:
    """The server ends by itself (stdin closed, or SIGTERM) with its parser pool: nothing is
    killed for it, nothing outlives it."""
    root = tmp_path / "r"
    shutil.copytree(repo, root)
    (root / "pkg" / "more.py").write_text("def more():\n    pass\n")  # a run with a pool
    proc = subprocess.Popen(
        [sys.executable, "-m", "isgraph", "mcp", "--root", str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "ISGRAPH_DB"},
    )
    try:
        assert _initialize_raw(proc)["result"]["serverInfo"]["name"] == "isgraph"
        kids = _descendants(proc.pid)
        if how == "eof":
            assert proc.stdin is not None
            proc.stdin.close()
        else:
            proc.send_signal(15)
        assert proc.wait(timeout=WAIT_S) == 0
        _gone, alive = psutil.wait_procs(kids, timeout=WAIT_S)
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()
