"""Shared helpers for the bench scripts: corpus copies, timing, process-tree memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

IGNORE = shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc")


def default_corpus() -> Path:
    """CPython's standard library (what `python -c "import sysconfig; ..."` prints)."""
    return Path(sysconfig.get_paths()["stdlib"])


def prepare_corpus(src: Path, dest: Path, copies: int = 1) -> Path:
    """``copies`` copies of ``src`` under ``dest/copy_i`` (without site-packages/__pycache__),
    so every tool measured sees exactly the same files."""
    dest.mkdir(parents=True, exist_ok=True)
    first = dest / "copy_1"
    if not first.exists():
        shutil.copytree(src, first, ignore=IGNORE, symlinks=True)
    for i in range(2, copies + 1):
        target = dest / f"copy_{i}"
        if not target.exists():
            shutil.copytree(first, target, symlinks=True)
    return dest


def count_files(root: Path, suffix: str = ".py") -> int:
    return sum(1 for _ in root.rglob(f"*{suffix}"))


def isgraph_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "isgraph", *args]


class TreeMemory:
    """Samples the RSS of a process and all its descendants (summed) every ``interval`` s,
    and the CPU time each of them used (``cpu_seconds``: user + system, summed over the tree;
    what a process used after its last sample is missed, at most ``interval`` each)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_procs = 0
        # CPU-seconds (user + system) last seen per process: a process's figure is read up to
        # its last sample before it exits (pool workers end with the run), so it is a floor.
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            total, n = 0, 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                        times = p.cpu_times()
                        self.cpu[p.pid] = times.user + times.system
                        n += 1
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_rss = max(self.peak_rss, total)
            self.peak_procs = max(self.peak_procs, n)
            time.sleep(self.interval)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


@dataclass(slots=True)
class Measured:
    """One measured run: wall seconds, peak RSS of the process tree (bytes), CPU-seconds of
    the first process and of the whole tree, stdout."""

    seconds: float
    peak_rss: int
    parent_cpu: float
    tree_cpu: float
    out: str


def run_cpu_measured(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd``; wall seconds, peak tree RSS and CPU-seconds (see `Measured`)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    with TreeMemory(proc.pid) as mem:
        out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}):\n{err}")
    parent = mem.cpu.get(proc.pid, 0.0)
    return Measured(seconds, mem.peak_rss, parent, sum(mem.cpu.values()), out)


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"
