"""The server's loops: stdio (the default) and one client over TCP (debugging)."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

from isgraph.lsp.server import server

log = logging.getLogger(__name__)


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run the server on stdio, or for one client on TCP ``(host, port)`` (debugging)."""
    code: str | int | None = 0
    try:
        asyncio.run(_serve_stdio() if tcp is None else _serve_tcp(*tcp))
    except SystemExit as exc:  # `exit`: 0 after `shutdown`, else 1 (pygls follows the spec)
        code = exc.code
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
    if code:
        sys.exit(code)


async def _serve_tcp(host: str, port: int) -> None:
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
        await done.wait()


async def _serve_stdio() -> None:
    """pygls's stdio loop, plus what its `start_io` lacks: when the client goes away (stdin
    closed) without `shutdown`/`exit`, the writers are flushed and the pools stopped before
    the event loop ends (cancelled instead, queued writes would be lost)."""
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        await run_async(
            stop_event=threading.Event(),
            reader=StdinAsyncReader(sys.stdin.buffer, server.thread_pool),
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    finally:
        await server.close_folders()
