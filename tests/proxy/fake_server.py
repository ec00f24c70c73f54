"""A misbehaving language server for fault injection (plain stdio JSON-RPC, no library).

    python fake_server.py MODE [ARG]

MODE:
  ok [MS]          answers hover after MS ms (default 0) with "fake hover #N" (N counts hovers)
  silent           answers `initialize`, never answers anything else
  crash [FILE]     answers `initialize`, then exits with code 3; with FILE, only the first
                   start crashes (FILE records that it has happened), later starts behave as ok
  garbage          answers `initialize`, then answers each request with bytes that are not
                   JSON-RPC (an unframed line, a frame whose body is not JSON)
  stubborn         like ok, but ignores stdin closing and SIGTERM (only SIGKILL ends it)
  slowinit MS      like ok, but answers `initialize` only after MS ms
  config           like ok; after `initialized` asks its client `workspace/configuration`
                   for section "fake.option"; hover answers "pulled=<answer> pushed=<settings
                   of the last didChangeConfiguration>" (JSON)

Every mode but stubborn exits when stdin closes. The pid of each start is appended to the
file named by $FAKE_PIDS, if set.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any


def read_message(stream: Any) -> dict[str, Any] | None:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = stream.read(length)
    return json.loads(body) if body else None


out_lock = threading.Lock()


def send(payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    with out_lock:
        sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sys.stdout.buffer.flush()


def main() -> None:
    mode = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else ""
    if os.environ.get("FAKE_PIDS"):
        with open(os.environ["FAKE_PIDS"], "a") as fh:
            fh.write(f"{os.getpid()}\n")
    if mode == "crash" and arg:
        if os.path.exists(arg):
            mode, arg = "ok", ""
        else:
            open(arg, "w").close()
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    hovers = 0
    pulled: object = "unasked"
    pushed: object = None
    stdin = sys.stdin.buffer
    while True:
        msg = read_message(stdin)
        if msg is None:
            if mode == "stubborn":
                while True:
                    time.sleep(1)
            return
        method, msg_id = msg.get("method"), msg.get("id")
        if msg_id == "cfg" and method is None:  # the client's answer to our request
            pulled = (msg.get("result") or [None])[0]
            continue
        if method == "initialized" and mode == "config":
            send(
                {
                    "jsonrpc": "2.0",
                    "id": "cfg",
                    "method": "workspace/configuration",
                    "params": {"items": [{"section": "fake.option"}]},
                }
            )
            continue
        if method == "workspace/didChangeConfiguration":
            pushed = (msg.get("params") or {}).get("settings")
            continue
        if method == "initialize":
            if mode == "slowinit":
                time.sleep(int(arg) / 1000)
            send(
                {
                    "jsonrpc": "2.0",
                    "id": msg_id,
                    "result": {"capabilities": {"hoverProvider": True, "textDocumentSync": 1}},
                }
            )
            if mode == "crash":
                time.sleep(0.05)
                sys.exit(3)
            continue
        if msg_id is None:  # a notification
            if method == "exit":
                return
            continue
        if method == "shutdown":
            send({"jsonrpc": "2.0", "id": msg_id, "result": None})
            continue
        if mode == "silent":
            continue
        if mode == "garbage":
            with out_lock:
                sys.stdout.buffer.write(b"this is not a header\r\n")
                sys.stdout.buffer.write(b"Content-Length: 9\r\n\r\n{not json")
                sys.stdout.buffer.flush()
            continue
        if method == "textDocument/hover":
            hovers += 1
            delay = int(arg) / 1000 if mode == "ok" and arg else 0.0  # slowinit: no delay
            value = f"fake hover #{hovers}"
            if mode == "config":
                value = json.dumps({"pulled": pulled, "pushed": pushed})
            answer = {
                "jsonrpc": "2.0",
                "id": msg_id,
                "result": {"contents": {"kind": "markdown", "value": value}},
            }
            if delay:
                threading.Timer(delay, send, (answer,)).start()
            else:
                send(answer)
            continue
        send({"jsonrpc": "2.0", "id": msg_id, "result": None})


if __name__ == "__main__":
    main()
