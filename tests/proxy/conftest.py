"""Downstream servers for the proxy tests: real ones (jedi-language-server, clangd, installed
by the dev extra) and the fault-injection fake (`fake_server.py`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import psutil
import pytest

from isgraph.config import DownstreamSpec
from tests.pg import in_ci

BIN = Path(sys.executable).parent
FAKE = Path(__file__).with_name("fake_server.py")


def tool(name: str) -> str:
    """The path of a server installed next to this Python (the venv), else on PATH; skips
    (fails under CI) when it is missing."""
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        msg = f"{name} is not installed (pip install -e '.[dev]')"
        if in_ci():
            pytest.fail(f"{msg} (CI=true: downstream tests must run)", pytrace=False)
        pytest.skip(msg)
    return found


def jedi() -> str:
    return tool("jedi-language-server")


def clangd() -> str:
    return tool("clangd")


def fake(mode: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, str(FAKE), mode, *args)


def spec(
    name: str,
    command: tuple[str, ...] | list[str],
    languages: tuple[str, ...] = ("python",),
    timeout_ms: int = 1000,
    **kw: object,
) -> DownstreamSpec:
    return DownstreamSpec(
        name=name,
        command=tuple(command),
        languages=languages,
        timeout_ms=timeout_ms,
        **kw,  # type: ignore[arg-type]
    )


def alive(pids: list[int]) -> list[int]:
    """The pids that are still running (zombies count as gone)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def descendants() -> list[psutil.Process]:
    """Processes the test started: the pytest process's children, recursively, leaving out
    its own multiprocessing helpers (forkserver, resource tracker), which in-process index
    tests start once and which live as long as pytest does."""
    out: list[psutil.Process] = []
    for child in psutil.Process().children():
        try:
            cmd = " ".join(child.cmdline())
            if "multiprocessing.forkserver" in cmd or "multiprocessing.resource_tracker" in cmd:
                continue
            out += [child, *child.children(recursive=True)]
        except psutil.Error:  # gone meanwhile
            continue
    return out
