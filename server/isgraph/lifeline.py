"""How isgraph's processes end, whatever ends them.

Editors, process managers and terminals end a server with SIGTERM, SIGINT or SIGHUP (or by
closing its stdin); Python's default for SIGTERM and SIGHUP is to die on the spot, without
flushing the writer or stopping the parser pool, and the pool's processes (the forkserver,
the resource tracker, the workers) then outlive it for good: a worker blocks reading a queue
whose write end it holds itself, so it never sees end-of-file.

Two halves:

- the fronts (`isgraph index`, `isgraph serve`) turn those signals into the cancellation of
  their main task (`Ending`), so the ``finally`` blocks that flush the writer and stop the pool
  run as for Ctrl-C;
- every pool worker watches the front (`exit_with`): when the front is SIGKILLed, the workers
  exit, then the forkserver (its "alive" pipe closed by its last holder) and the resource
  tracker (its last writer gone).
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import threading
import time
from typing import Any

# The signals that end a front; SIGINT is also what a terminal's Ctrl-C sends the group.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
FRONT_POLL_S = 0.25
# How long the tasks left once a front has flushed and stopped everything get to end when
# cancelled; one that does not is a bug, and must not keep the process (and its pool) alive.
LEFTOVER_GRACE_S = 1.0


class EndedBySignal(Exception):
    """A front's work was cut short by ``signum`` (after its ``finally`` blocks ran)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """A shell's code for a process ended by the signal: 128 + its number."""
        return 128 + self.signum


class Ending:
    """Cancels ``task`` once on the first of ``signals`` and remembers which signal came.

    A second signal while the task unwinds is ignored: cancelling again would interrupt the
    ``finally`` that flushes the writer (a process manager that loses patience sends SIGKILL,
    which the workers survive by themselves)."""

    def __init__(self, task: asyncio.Future[Any], signals: tuple[int, ...]) -> None:
        self.task = task
        self.signal: int | None = None
        self._loop = asyncio.get_running_loop()
        self._signals = signals
        for sig in signals:
            self._loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: int) -> None:
        if self.signal is None:
            self.signal = sig
            self.task.cancel()

    def remove(self) -> None:
        """Give the signals back to their defaults (the task is over)."""
        for sig in self._signals:
            self._loop.remove_signal_handler(sig)

    def check(self) -> None:
        """Raise `EndedBySignal` if a signal cancelled the task (call it on CancelledError)."""
        if self.signal is not None:
            raise EndedBySignal(self.signal)


async def end_leftover_tasks(grace: float = LEFTOVER_GRACE_S) -> list[asyncio.Task[Any]]:
    """Cancel every task but the caller's and wait up to ``grace`` for them to end; returns
    those still running. `asyncio.run` would cancel them too, but then waits for them
    without a bound: one that swallows its cancellation, or awaits what nobody will complete,
    kept `isgraph serve` alive for good after its client went away."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    if not others:
        return []
    _, pending = await asyncio.wait(others, timeout=grace)
    return sorted(pending, key=lambda t: t.get_name())


def start_pool_helpers(forkserver: bool) -> None:
    """Start multiprocessing's resource tracker (and the forkserver) deaf to SIGHUP, and the
    forkserver with SIGINT blocked.

    A terminal that closes sends SIGHUP to its whole process group: both helpers ignore SIGINT
    and SIGTERM but die of SIGHUP, which breaks the pool while the front is still flushing,
    and a tracker restarted meanwhile prints tracebacks about what it never registered. An
    ignored signal stays ignored across exec, so they are started here while SIGHUP is ignored
    (only the main thread may change a handler; elsewhere they start lazily as before).

    The forkserver ignores SIGINT only once its preload (`isgraph.index.worker`) is imported:
    a Ctrl-C to the group in its first second killed it with a KeyboardInterrupt traceback,
    and every chunk of the run failed ("worker failed … Connection refused"; found while
    chasing the flaky `test_index_ends_without_orphans[SIGINT]`). A blocked signal stays
    blocked across fork and exec, so it is started with SIGINT blocked in this thread (a
    SIGINT meanwhile reaches this process through its other threads, or when unblocked: it is
    not lost); the processes it forks (pool workers, the SQLite checkpoint helper) inherit
    the mask and ignore SIGINT anyway."""
    if threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import forkserver as fs
    from multiprocessing import resource_tracker

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        # The tracker first: its own start unblocks SIGINT when it is done.
        resource_tracker.ensure_running()
        if forkserver:
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                fs.ensure_running()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    finally:
        signal.signal(signal.SIGHUP, previous)


def exit_with(pid: int) -> None:
    """End this process (a pool worker) as soon as process ``pid`` (the front) ends.

    Not the worker's parent: that is the forkserver, which only exits once every process
    holding its "alive" pipe has, and the workers hold it too. Linux's pidfd becomes readable
    when ``pid`` terminates (zombie or not, no pid reuse); elsewhere a thread polls ``kill(pid,
    0)``, which misses an unreaped zombie but not a front whose own parent reaps it."""
    try:
        fd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux >= 5.3, or already gone
        fd = None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except OSError:
            pass

    def watch() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                time.sleep(FRONT_POLL_S)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except OSError:
                    pass
        os._exit(0)  # nothing to flush: a worker's results only matter to the front

    threading.Thread(target=watch, name="isgraph-front-watch", daemon=True).start()
