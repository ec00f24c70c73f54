"""The downstream manager against real servers (jedi-language-server, clangd) and the
fault-injection fake: answers, time bounds, restarts, giving up, no process left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from isgraph.proxy.manager import DownstreamManager

from .conftest import alive, clangd, descendants, fake, jedi, spec

PY = '''
def helper(a: int, b: str = "x") -> str:
    """Join a number and a string."""
    return f"{a}{b}"


def main() -> str:
    return helper(1)
'''

C = """
/** Adds two numbers. */
int add(int a, int b) { return a + b; }

int main(void) { return add(1, 2); }
"""


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mod.py").write_text(PY.lstrip())
    (root / "calc.c").write_text(C.lstrip())
    return root


class Notes:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)


async def until(check: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.02)
    return False


async def test_jedi_hover_definition_and_mirrored_changes(proj: Path) -> None:
    m = DownstreamManager([spec("jedi", [jedi()], timeout_ms=15000)], [proj])
    uri = (proj / "mod.py").as_uri()
    try:
        got = await m.hover(uri, 0, 5)  # not opened by an editor: read from disk
        assert [name for name, _ in got] == ["jedi"]
        assert "def helper(a: int" in got[0][1] and "Join a number and a string." in got[0][1]
        defs = await m.definition(uri, 6, 12)  # `helper(1)` in main
        assert [(n, [loc.range.start.line for loc in locs]) for n, locs in defs] == [("jedi", [0])]
        # The editor's buffer wins over the disk: open, then change it (not saved).
        m.did_open(uri, "python", 1, PY.lstrip())
        changed = PY.lstrip() + '\n\ndef fresh() -> int:\n    """Only in the buffer."""\n'
        m.did_change(uri, 2, changed + "    return 1\n")
        got = await m.hover(uri, 9, 5)  # `def fresh`
        assert got and "Only in the buffer." in got[0][1]
        m.did_close(uri)
    finally:
        await m.shutdown()


async def test_clangd_hover(proj: Path) -> None:
    m = DownstreamManager([spec("clangd", [clangd()], ("c",), timeout_ms=15000)], [proj])
    uri = (proj / "calc.c").as_uri()
    try:
        got = await m.hover(uri, 3, 25)  # `add(1, 2)` in main
        assert [name for name, _ in got] == ["clangd"]
        text = got[0][1]
        assert "add" in text and "Adds two numbers." in text and "int" in text
    finally:
        await m.shutdown()


async def test_a_silent_server_is_left_out_in_time(proj: Path) -> None:
    m = DownstreamManager(
        [spec("ok", fake("ok"), timeout_ms=300), spec("silent", fake("silent"), timeout_ms=300)],
        [proj],
    )
    uri = (proj / "mod.py").as_uri()
    try:
        for s in m.servers:
            assert await s.ensure(20) is not None
        t0 = time.perf_counter()
        got = await m.hover(uri, 0, 5)
        elapsed = time.perf_counter() - t0
        assert got == [("ok", "fake hover #1")]
        assert 0.29 < elapsed <= 0.3 + 0.05
    finally:
        await m.shutdown()


async def test_cost_is_the_slowest_not_the_sum(proj: Path) -> None:
    m = DownstreamManager(
        [
            spec("a", fake("ok", "250"), timeout_ms=2000),
            spec("b", fake("ok", "250"), timeout_ms=2000),
        ],
        [proj],
    )
    uri = (proj / "mod.py").as_uri()
    try:
        for s in m.servers:
            assert await s.ensure(20) is not None
        t0 = time.perf_counter()
        got = await m.hover(uri, 0, 5)
        elapsed = time.perf_counter() - t0
        assert [n for n, _ in got] == ["a", "b"]
        assert 0.25 <= elapsed < 0.40  # one delay, not two
    finally:
        await m.shutdown()


async def test_garbage_is_survived_in_time(proj: Path) -> None:
    m = DownstreamManager(
        [spec("junk", fake("garbage"), timeout_ms=300), spec("ok", fake("ok"), timeout_ms=300)],
        [proj],
    )
    uri = (proj / "mod.py").as_uri()
    try:
        for s in m.servers:
            assert await s.ensure(20) is not None
        for _ in range(3):
            t0 = time.perf_counter()
            got = await m.hover(uri, 0, 5)
            assert time.perf_counter() - t0 <= 0.35
            assert [n for n, _ in got] == ["ok"]
    finally:
        await m.shutdown()


async def test_a_crash_is_restarted(proj: Path, tmp_path: Path) -> None:
    notes = Notes()
    once = tmp_path / "crashed-once"
    m = DownstreamManager(
        [spec("flaky", fake("crash", str(once)), timeout_ms=2000, backoff_ms=50)], [proj], notes
    )
    server = m.servers[0]
    uri = (proj / "mod.py").as_uri()
    try:
        await server.ensure(20)  # the first process dies right after `initialize`
        assert await until(lambda: server.starts >= 2 and server.running)
        got = await m.hover(uri, 0, 5)
        assert got == [("flaky", "fake hover #1")]
        assert len(server.crashes) == 1 and not server.failed and notes.messages == []
    finally:
        await m.shutdown()


async def test_repeated_crashes_give_up_with_a_message(proj: Path) -> None:
    notes = Notes()
    m = DownstreamManager(
        [
            spec("doomed", fake("crash"), timeout_ms=2000, backoff_ms=20, max_restarts=2),
            spec("ok", fake("ok"), timeout_ms=2000),
        ],
        [proj],
        notes,
    )
    doomed = m.servers[0]
    uri = (proj / "mod.py").as_uri()
    try:
        await doomed.ensure(20)
        assert await until(lambda: doomed.failed)
        assert doomed.starts == 3
        assert len(notes.messages) == 1
        assert "'doomed' crashed 3 times" in notes.messages[0]
        assert "exited with code 3" in notes.messages[0]
        t0 = time.perf_counter()
        assert await m.hover(uri, 0, 5) == [("ok", "fake hover #1")]
        assert time.perf_counter() - t0 < 2.5  # the given-up server is not waited for
        await asyncio.sleep(0.2)
        assert doomed.starts == 3  # and never started again
    finally:
        await m.shutdown()


async def test_a_missing_command_is_reported_once(proj: Path) -> None:
    notes = Notes()
    m = DownstreamManager([spec("nope", ["/nonexistent/ls"], timeout_ms=500)], [proj], notes)
    try:
        assert await m.hover((proj / "mod.py").as_uri(), 0, 5) == []
        assert await m.hover((proj / "mod.py").as_uri(), 0, 5) == []
        assert len(notes.messages) == 1 and "command not found" in notes.messages[0]
    finally:
        await m.shutdown()


async def test_shutdown_leaves_no_process(proj: Path) -> None:
    m = DownstreamManager(
        [
            spec("jedi", [jedi()], timeout_ms=15000),
            spec("silent", fake("silent")),
            spec("stubborn", fake("stubborn")),  # ignores EOF and SIGTERM
        ],
        [proj],
    )
    for s in m.servers:
        assert await s.ensure(30) is not None
    pids = [p.pid for p in descendants()]
    assert len(pids) >= 3
    t0 = time.perf_counter()
    await m.shutdown()
    assert time.perf_counter() - t0 < 4.0
    assert alive(pids) == []


KILLED = """
import asyncio, sys
from pathlib import Path
from isgraph.proxy.manager import DownstreamManager
from tests.proxy.conftest import fake, spec

async def main() -> None:
    m = DownstreamManager(
        [spec("stubborn", fake("stubborn")), spec("jedi", [sys.argv[1]], timeout_ms=15000)],
        [Path(sys.argv[2])],
    )
    for s in m.servers:
        await s.ensure(30)
    print(" ".join(str(s.process.pid) for s in m.servers), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_servers_die_with_a_killed_parent(proj: Path) -> None:
    """SIGKILL leaves no time to shut anything down: the servers still must not outlive us."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED), jedi(), str(proj)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and alive(pids) == pids
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while alive(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive(pids) == []
    finally:
        parent.kill()


async def test_a_busy_server_is_skipped_until_it_answers(proj: Path) -> None:
    """A server still working on a request we gave up on is left out at once (a new request
    would only queue behind the old one), and asked again once its late answer arrives."""
    m = DownstreamManager(
        [spec("slow", fake("ok", "600"), timeout_ms=300), spec("ok", fake("ok"), timeout_ms=300)],
        [proj],
    )
    uri = (proj / "mod.py").as_uri()
    slow = m.servers[0]
    try:
        for s in m.servers:
            assert await s.ensure(20) is not None
        t0 = time.perf_counter()
        assert [n for n, _ in await m.hover(uri, 0, 5)] == ["ok"]
        assert 0.29 < time.perf_counter() - t0 <= 0.35 and slow.busy
        t0 = time.perf_counter()
        assert [n for n, _ in await m.hover(uri, 0, 5)] == ["ok"]
        assert time.perf_counter() - t0 < 0.2  # not waited for
        assert await until(lambda: not slow.busy, 5)  # the late answer arrived
        got = await m.hover(uri, 0, 5)
        assert [n for n, _ in got] == ["ok"] and slow.late  # asked (and late) again
    finally:
        await m.shutdown()


async def test_settings_are_served_pushed_and_forwarded(proj: Path) -> None:
    import json

    settings = {"fake": {"option": 7, "other": "x"}}
    m = DownstreamManager([spec("cfg", fake("config"), timeout_ms=2000, settings=settings)], [proj])
    uri = (proj / "mod.py").as_uri()
    try:
        assert await m.servers[0].ensure(20) is not None

        async def seen() -> dict[str, object]:
            got = await m.hover(uri, 0, 5)
            return dict(json.loads(got[0][1]))

        deadline = time.monotonic() + 10
        while (first := await seen())["pulled"] == "unasked" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # our answer to its request is on its way
        # `workspace/configuration` is answered by dotted section; settings pushed after start
        assert first == {"pulled": 7, "pushed": settings}
        # The editor's didChangeConfiguration is merged over ours and forwarded.
        m.did_change_configuration({"fake": {"other": "y"}, "python": {"x": 1}})
        await asyncio.sleep(0.2)
        assert (await seen())["pushed"] == {"fake": {"option": 7, "other": "y"}, "python": {"x": 1}}
    finally:
        await m.shutdown()


async def test_shutdown_during_a_start_leaves_no_process(
    proj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("FAKE_PIDS", str(pids_file))
    m = DownstreamManager([spec("slow", fake("slowinit", "5000"), timeout_ms=200)], [proj])
    assert await m.hover((proj / "mod.py").as_uri(), 0, 5) == []  # the start goes on
    assert await until(lambda: pids_file.exists() and pids_file.read_text().strip(), 10)
    pids = [int(p) for p in pids_file.read_text().split()]
    t0 = time.perf_counter()
    await m.shutdown()
    assert time.perf_counter() - t0 < 4.0
    assert alive(pids) == []
