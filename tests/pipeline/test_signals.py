"""No orphan processes, whatever ends isgraph: SIGTERM (a process manager, to the process),
SIGINT and SIGHUP (a terminal, to the process group), stdin closing (an editor going away)
and SIGKILL, each sent mid-index to `isgraph index` and to `isgraph serve`. Afterwards no
descendant is alive (3 s after the front exits; 10 s after a SIGKILL, which the workers must
notice by themselves), and the store holds every file either as it was or as it is now."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from isgraph.index.pipeline import INDEX_DIR_NAME
from isgraph.store.base import Store, StoreError
from isgraph.store.connect import open_store
from tests.lsp.rawclient import RawClient
from tests.reliability import record

from .conftest import copy_stdlib
from .test_crash import assert_consistent, corpus, files_written, reference, start_and_wait

__all__ = ["corpus", "reference"]  # module-scoped fixtures shared with test_crash

# (signal, sent to the whole process group as a terminal does)
ENDINGS = {
    "SIGTERM": (signal.SIGTERM, False),
    "SIGINT": (signal.SIGINT, True),
    "SIGHUP": (signal.SIGHUP, True),
}


# How long a server may take to end after the signal or stdin closing (flush, pool stopped).
ENDED_WITHIN_S = 5.0

FAMILIES: list[Family] = []


class Family:
    """Every descendant of ``pid`` seen while it lives (a pool renewed during shutdown would
    start new ones), polled by the test's loop."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.seen: dict[int, psutil.Process] = {}
        FAMILIES.append(self)

    def poll(self) -> None:
        with contextlib.suppress(psutil.Error):
            for p in self.root.children(recursive=True):
                self.seen.setdefault(p.pid, p)

    def alive(self) -> list[str]:
        out = []
        for p in self.seen.values():
            with contextlib.suppress(psutil.Error):
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"{p.pid} {' '.join(p.cmdline())[:80]}")
        return out

    def assert_gone_within(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while alive := self.alive():
            assert time.monotonic() < deadline, f"still running {seconds} s later: {alive}"
            time.sleep(0.05)


def send(pid: int, sig: int, group: bool) -> None:
    if group:
        os.killpg(pid, sig)
    else:
        os.kill(pid, sig)


def consistent(db: Path, reference: Store) -> None:
    """The store left behind holds each file as a clean index does, but for calls still held
    for resolution (test_crash.py shows that a rerun completes such a store)."""
    store = open_store(f"sqlite:{db}")
    try:
        assert_consistent(store, reference, settled=False)
    finally:
        store.close()


@pytest.mark.parametrize("how", [*ENDINGS, "SIGKILL"])
def test_index_ends_without_orphans(
    how: str, corpus: Path, reference: Store, tmp_path: Path
) -> None:
    db = tmp_path / "i.db"
    proc = start_and_wait(corpus, db, files_written(30))
    family = Family(proc.pid)
    family.poll()
    assert family.seen, "the pool should be running by now"
    if how == "SIGKILL":
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: the workers must notice
        proc.wait()
        family.assert_gone_within(10)
    else:
        sig, group = ENDINGS[how]
        send(proc.pid, sig, group)
        while proc.poll() is None:
            family.poll()
            time.sleep(0.02)
        stdout, stderr = proc.communicate()
        # A run that ended on its own prints its summary on stdout: the signal came too late.
        assert proc.returncode == 128 + sig, f"stdout: {stdout[-500:]}\nstderr: {stderr}"
        assert "Traceback" not in stderr, stderr
        family.assert_gone_within(3)
    consistent(db, reference)
    record("no_orphans", **{f"index {how}": len(family.seen)})


async def _serve_mid_index(
    corpus: Path, db: Path, option: bool = True, files: int = 30
) -> RawClient:
    """The server indexing ``corpus`` into ``db`` (given as an option, else the default),
    once ``files`` files are written."""
    observer = open_store(f"sqlite:{db}")  # opened first: it only reads
    try:
        client = await RawClient.start(corpus, f"sqlite:{db}" if option else None)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(StoreError):
                if len(observer.file_states()) >= files:
                    return client
            await asyncio.sleep(0.02)
    finally:
        observer.close()
    pytest.fail(f"the server did not index {files} files in 120 s")


@pytest.mark.parametrize("how", [*ENDINGS, "stdin", "stdin-resolving", "SIGKILL"])
async def test_serve_ends_without_orphans(
    how: str, corpus: Path, reference: Store, tmp_path: Path
) -> None:
    """``stdin-resolving``: stdin closed once every file is written, while the first index
    resolves (30k calls held for resolution then)."""
    db = tmp_path / "s.db"
    files = len(reference.file_states()) if how == "stdin-resolving" else 30
    client = await _serve_mid_index(corpus, db, files=files)
    proc = client.proc
    family = Family(proc.pid)
    family.poll()
    try:
        assert family.seen, "the pool should be running by now"
        if how == "SIGKILL":
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
            family.assert_gone_within(10)
        else:
            sent = time.monotonic()
            if how.startswith("stdin"):
                client.inp.close()
            else:
                send(proc.pid, *ENDINGS[how])
            deadline = time.monotonic() + 60
            while proc.returncode is None:
                assert time.monotonic() < deadline, "the server did not end"
                family.poll()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 0.02)
            if how in ENDINGS:
                assert proc.returncode == 128 + ENDINGS[how][0]
            ended = time.monotonic() - sent
            # The bar is 3 s; on this loaded 2-core box the flush and the pool's stop
            # take up to ~3 s (stdin closed mid-resolution took 10 s before a cancelled run
            # left its held calls unwritten and the exit stopped waiting for threads).
            assert ended < ENDED_WITHIN_S, f"the server ended {ended:.1f} s after {how}"
            family.assert_gone_within(3)
    finally:
        client.reader.cancel()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    consistent(db, reference)
    record("no_orphans", **{f"serve {how}": len(family.seen)})
    if how != "SIGKILL":
        record("serve_end_seconds", **{how: round(ended, 1)})


async def test_serve_ends_when_a_folder_comes_as_the_client_leaves(
    corpus: Path, reference: Store, tmp_path: Path
) -> None:
    """A folder added just before stdin closes was opened while the others were closing, then
    started indexing past them: the event loop's teardown cancelled its run and its writer at
    once, the run waited for good on a flush, and the server, its forkserver, resource
    tracker and workers stayed alive (seen after a pytest run was killed)."""
    other = copy_stdlib(tmp_path / "other", ("json", "email", "asyncio", "xml"))
    db = corpus / INDEX_DIR_NAME / "index.db"  # the default: each folder has its own store
    db.parent.mkdir(exist_ok=True)
    try:
        client = await _serve_mid_index(corpus, db, option=False)
        proc = client.proc
        family = Family(proc.pid)
        family.poll()
        try:
            await client.notify(
                "workspace/didChangeWorkspaceFolders",
                {"event": {"added": [{"uri": other.as_uri(), "name": "other"}], "removed": []}},
            )
            client.inp.close()
            deadline = time.monotonic() + 60
            while proc.returncode is None:
                assert time.monotonic() < deadline, "the server did not end"
                family.poll()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 0.02)
            family.assert_gone_within(3)
        finally:
            client.reader.cancel()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        consistent(db, reference)
        added = open_store(f"sqlite:{other / INDEX_DIR_NAME / 'index.db'}")
        try:  # opened as the server was exiting: closed, never indexed
            assert added.file_states() == {}
        finally:
            added.close()
        record("no_orphans", **{"serve stdin-as-a-folder-is-added": len(family.seen)})
    finally:
        shutil.rmtree(db.parent)


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    """A failing case must not leave its processes to the next one."""
    yield
    while FAMILIES:
        for p in FAMILIES.pop().seen.values():
            with contextlib.suppress(psutil.Error):
                p.kill()


FORKSERVER_MASKS = """
import os, sys
from multiprocessing import forkserver
from isgraph.index.pipeline import make_pool

def status(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(fields["SigBlk"], 16), int(fields["SigIgn"], 16)

if __name__ == "__main__":
    pool = make_pool(1)
    worker = pool.submit(os.getpid).result()
    server = forkserver._forkserver._forkserver_pid
    blocked, _ = status(os.getpid())
    print(status(server)[0], status(worker)[0], blocked)
    pool.shutdown()
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_forkserver_starts_deaf_to_sigint(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole group, the forkserver too, which ignores SIGINT only once it
    has imported its preload: started with SIGINT blocked, it (and what it forks) cannot die
    of it meanwhile; the front's own mask is given back."""
    import subprocess
    import sys

    script = tmp_path / "masks.py"
    script.write_text(FORKSERVER_MASKS)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    server, worker, front = (int(x) for x in out)
    bit = 1 << (signal.SIGINT - 1)
    assert server & bit and worker & bit
    assert not front & bit
