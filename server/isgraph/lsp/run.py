"""The server's loops: stdio (the default) and one client over TCP (debugging)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Awaitable
from typing import Any

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

from isgraph.lifeline import ENDING_SIGNALS, Ending, end_leftover_tasks
from isgraph.lsp.server import server

log = logging.getLogger(__name__)


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run the server on stdio, or for one client on TCP ``(host, port)`` (debugging)."""
    code: str | int | None = 0
    signum: int | None = None
    try:
        signum = asyncio.run(_serve_stdio() if tcp is None else _serve_tcp(*tcp))
    except SystemExit as exc:  # `exit`: 0 after `shutdown`, else 1 (pygls follows the spec)
        code = exc.code
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    if signum is not None:
        # Everything is flushed and stopped, but the thread reading stdin may still block in
        # `read` (the client did not hang up): waiting for it, as `server.shutdown()` and the
        # interpreter's exit would, never ends. Nothing is left to lose.
        _exit_now(128 + signum)
    server.shutdown()  # type: ignore[no-untyped-call]
    if code:
        sys.exit(code)


def _exit_now(code: int) -> None:
    """End the process without waiting for threads or tasks (the caller flushed the folders
    and stopped the pools: nothing is left to lose)."""
    server.thread_pool.shutdown(wait=False, cancel_futures=True)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed by the client
            stream.flush()
    os._exit(code)


async def _until_ended(work: Awaitable[Any]) -> int | None:
    """Run ``work`` until it ends or SIGTERM / SIGINT / SIGHUP comes; then flush every folder's
    writer, stop its pool and the downstream servers, then end every task left (a request
    handler, a folder added meanwhile), or, past a short grace, the process. Returns the
    signal that ended it."""
    task = asyncio.ensure_future(work)
    ending = Ending(task, ENDING_SIGNALS)
    try:
        await task
    except asyncio.CancelledError:
        if ending.signal is None:
            raise
    finally:
        try:
            await server.close_folders()
            if server.proxy is not None:  # bounded: every step has a timeout, then a kill
                await server.proxy.shutdown()
        finally:
            ending.remove()  # only now: a second signal must not cut the flush short
        stuck = await end_leftover_tasks()
        if stuck:  # a bug: asyncio.run would wait for them for good
            log.error("exiting with tasks that ignored cancellation: %s", stuck)
        # Every folder is flushed and closed: nothing is left to lose. Exit now rather than
        # through asyncio.run's teardown, which waits without a bound for the threads of the
        # default executor: a resolution batch or a symbol table load cancelled mid-way goes
        # on in its thread for seconds (measured: stdin closed during the first resolution,
        # the server ended 9.7 s later).
        exc = sys.exc_info()[1]
        if ending.signal is not None:
            _exit_now(128 + ending.signal)
        if server.exit_code is not None:  # `exit` (its SystemExit may have become a cancel)
            _exit_now(server.exit_code)
        _exit_now(exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 0)
    return ending.signal


async def _serve_tcp(host: str, port: int) -> int | None:
    """One client over TCP. When it disconnects (or sends `exit`), the folders are closed as
    on stdio and the process ends: pygls's own `start_tcp` would leave writers unflushed and
    the parser pools running."""
    done = asyncio.Event()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if done.is_set() or server.protocol.writer is not None:
            writer.close()  # one client per process, as for stdio
            return
        server.protocol.set_writer(writer)
        try:
            await run_async(
                stop_event=threading.Event(),
                reader=reader,
                protocol=server.protocol,
                logger=log,
                error_handler=server.report_server_error,
            )
        finally:
            try:
                await server.close_folders()
            finally:
                done.set()

    listener = await asyncio.start_server(connection, host, port)
    addrs = ", ".join(str(sock.getsockname()) for sock in listener.sockets)
    print(f"isgraph: listening on {addrs}", file=sys.stderr, flush=True)
    async with listener:
        return await _until_ended(done.wait())


async def _serve_stdio() -> int | None:
    """pygls's stdio loop, plus what its `start_io` lacks: when the client goes away (stdin
    closed) without `shutdown`/`exit`, or a signal ends the server, the writers are flushed
    and the pools stopped before the event loop ends (cancelled instead, queued writes would
    be lost and the pool's processes left running)."""
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    return await _until_ended(
        run_async(
            stop_event=threading.Event(),
            reader=StdinAsyncReader(sys.stdin.buffer, server.thread_pool),
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    )
