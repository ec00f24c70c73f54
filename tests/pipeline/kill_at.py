"""Run the real CLI, SIGKILLing its whole process group at the K-th store write (fault injection).

    python kill_at.py MODE K REPORT -- <isgraph arguments>

MODE ``before``: killed as the K-th write call starts (nothing of it sent); ``after``: once
it has committed; ``during``: a thread kills the group while the K-th write runs (where in
the transaction it lands is up to the scheduler: every outcome must be consistent).
``count``: no kill; the number of write calls is written to REPORT at exit.
``KILL_AT_TABLE_MIN_FILES`` in the environment sets ``service.TABLE_MIN_FILES`` (0: resolve
against the in-memory symbol table, as large runs do); ``KILL_AT_BULK=0`` makes a cold build
take the incremental path's writes instead of the store's bulk mode (`service.BULK_BUILD`);
``KILL_AT_ONLY=NAME`` counts only the calls of that write method (``end_bulk``: the deferred
indices being built). Every write of
both store backends goes through the patched methods (the writer is their only caller).
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

WRITES = ("write_files", "update_edges", "add_edges", "set_meta", "begin_bulk", "end_bulk")


def _kill() -> None:
    os.killpg(0, signal.SIGKILL)  # the launcher leads its session: parent and pool workers


def install(mode: str, k: int, report: Path) -> None:
    from isgraph.store.cozo import CozoStore
    from isgraph.store.postgres import PostgresStore

    lock = threading.Lock()
    calls = [0]
    only = os.environ.get("KILL_AT_ONLY")

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        if only is not None and method.__name__ != only:
            return method

        @functools.wraps(method)
        def write(*args: Any, **kw: Any) -> Any:
            with lock:
                calls[0] += 1
                n = calls[0]
            if mode == "before" and n == k:
                _kill()
            if mode == "during" and n == k:
                threading.Thread(target=_kill, daemon=True).start()
            out = method(*args, **kw)
            if mode == "after" and n == k:
                _kill()
            return out

        return write

    for cls in (CozoStore, PostgresStore):
        for name in WRITES:
            if hasattr(cls, name):  # bulk mode is CozoDB's only
                setattr(cls, name, wrap(getattr(cls, name)))
    atexit.register(lambda: report.write_text(str(calls[0])))


if __name__ == "__main__":
    mode, k, report, sep, *rest = sys.argv[1:]
    assert sep == "--" and mode in ("before", "during", "after", "count"), sys.argv
    install(mode, int(k), Path(report))
    from isgraph.index import service

    if "KILL_AT_TABLE_MIN_FILES" in os.environ:  # put a small run on the symbol-table path
        service.TABLE_MIN_FILES = int(os.environ["KILL_AT_TABLE_MIN_FILES"])
    if os.environ.get("KILL_AT_BULK") == "0":  # a cold build without bulk mode
        service.BULK_BUILD = False
    from isgraph.cli import main

    sys.argv = ["isgraph", *rest]
    main()
