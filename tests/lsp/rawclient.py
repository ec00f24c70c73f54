"""A raw JSON-RPC/LSP client over the real server's stdio: it can send what a well-behaved
client library never would (malformed frames, unknown methods, huge params, cancellations)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


class RawClient:
    """Frames, ids and answers by hand; server-to-client requests get a null result."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None,
    ) -> None:
        """Talk to ``proc`` over its stdio, or over ``streams`` (a TCP connection)."""
        self.proc = proc
        self.out = streams[0] if streams else proc.stdout
        self.inp: Any = streams[1] if streams else proc.stdin
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.stray: list[dict[str, Any]] = []  # answers to no request of ours (id null)
        self.notifications: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        root: Path,
        db: str | None,
        options: dict[str, Any] | None = None,
        argv: list[str] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> RawClient:
        """Start the server (``argv``, default ``python -m isgraph serve``, in its own session)
        and initialize it on ``root`` (declaring ``capabilities``, default none)."""
        env = {**os.environ}
        env.pop("ISGRAPH_DB", None)
        proc = await asyncio.create_subprocess_exec(
            *(argv or [sys.executable, "-m", "isgraph", "serve"]),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, limit=2**26, start_new_session=True,
        )  # fmt: skip
        client = cls(proc)
        await client.initialize(root, db, options, capabilities)
        return client

    async def initialize(
        self,
        root: Path,
        db: str | None = None,
        options: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": capabilities or {},
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "initializationOptions": {**({"db": db} if db else {}), **(options or {})},
            },
        )
        await self.notify("initialized", {})

    async def send_bytes(self, body: bytes) -> None:
        assert self.inp is not None
        self.inp.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.inp.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"method": method, "params": params})

    async def request(self, method: str, params: Any, timeout: float = 30) -> dict[str, Any]:
        """The whole answer (``result`` or ``error``); a hang fails after ``timeout``."""
        _, fut = await self.start_request(method, params)
        return await asyncio.wait_for(fut, timeout)

    async def start_request(
        self, method: str, params: Any
    ) -> tuple[int, asyncio.Future[dict[str, Any]]]:
        rid = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[rid] = fut
        await self.send({"id": rid, "method": method, "params": params})
        return rid, fut

    async def timed(self, method: str, params: Any) -> tuple[float, dict[str, Any]]:
        t0 = time.perf_counter()  # measured for the report only, never asserted on
        answer = await self.request(method, params)
        return time.perf_counter() - t0, answer

    async def _read(self) -> None:
        assert self.out is not None
        out = self.out
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(await out.readexactly(length))
            if "method" in message and "id" in message:  # a request from the server
                await self.send({"id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)
            elif isinstance(message.get("id"), int) and message["id"] in self.waiting:
                fut = self.waiting.pop(message["id"])
                if not fut.done():
                    fut.set_result(message)
            else:
                self.stray.append(message)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.request("shutdown", None, timeout=30)
            await self.notify("exit", None)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()

    async def fresh(self, timeout: float = 120) -> None:
        """Wait until the server says its index is fresh (a poll; the timeout is a hang guard)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = await self.request("isgraph/query", {"query": "search", "target": "x"})
            if answer["result"]["fresh"]:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the index never became fresh")
