"""A small helper process that checkpoints an SQLite database's write-ahead log on request.

Cozo's SQLite engine never checkpoints while a store is open, and a checkpoint must not run in
the process that holds the store: a second SQLite library there would not see Cozo's POSIX
locks (they are per process) and could fold pages a reader still needs. The helper starts from
the forkserver (a small process), once, so the store's large process is never forked (a fork
of it would briefly double its resident size, as the benchmark's RSS sampling saw); each
checkpoint is one message on a pipe. It exits when the store closes, or when its pipe closes
because the store's process died.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # multiprocessing is imported by the first checkpoint, not by every open
    import multiprocessing.context
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 120.0


def _serve(conn: Connection, path: str) -> None:
    import signal
    import sqlite3

    # Ctrl-C in a terminal reaches the whole process group: it is the store process's to
    # handle (it closes the store, which ends this helper); here it would only print a
    # traceback and make the store's next checkpoint fail.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    while True:
        try:
            if conn.recv() is None:
                return
        except (EOFError, OSError):
            return  # the store's process is gone
        try:
            db = sqlite3.connect(path, timeout=1.0)
            try:
                # TRUNCATE also resets the log file; if a write is in progress this returns
                # busy, and the next large write asks again.
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()
            conn.send("")
        except sqlite3.Error as exc:
            conn.send(str(exc))


class Checkpointer:
    """Checkpoints one database file through a helper process started on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None

    def run(self) -> None:
        """One checkpoint (blocking: call it from a background thread)."""
        with self._lock:
            try:
                conn = self._ensure()
                conn.send(True)
                if not conn.poll(REPLY_TIMEOUT_S):
                    raise TimeoutError(f"no answer in {REPLY_TIMEOUT_S:.0f} s")
                error = conn.recv()
                if error:
                    log.info("WAL checkpoint of %s: %s", self.path, error)
            except (OSError, EOFError, TimeoutError) as exc:
                # EOFError (the helper is gone) has no message: name the exception's type
                log.warning("WAL checkpoint of %s failed: %s", self.path, repr(exc))
                self._stop()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure(self) -> Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        import multiprocessing

        ctx: multiprocessing.context.BaseContext
        try:
            ctx = multiprocessing.get_context("forkserver")
        except ValueError:  # platforms without forkserver
            ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_serve, args=(child, self.path), name="isgraph-checkpoint", daemon=True
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        return parent

    def _stop(self) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        if conn is not None:
            with contextlib.suppress(OSError):  # the helper may be gone already
                conn.send(None)
            conn.close()
        if proc is not None:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.terminate()
