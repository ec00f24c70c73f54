"""`isgraph index` ends by a signal even when the cancellation it causes is lost below it
(fault injection: a run that swallows CancelledError and finishes). Once in about a hundred
SIGINTs under load a real run did so and exited 0 after indexing everything
(`test_signals.py::test_index_ends_without_orphans[SIGINT]`); the exit code must still say
that it was asked to stop."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from isgraph import index_command
from isgraph.config import Config
from isgraph.lifeline import EndedBySignal


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_lost_cancellation_still_ends_by_the_signal(
    sig: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    async def swallowing_run(*_: Any) -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), sig)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")  # and carries on, as the lost cancellation did
        return "summary"

    monkeypatch.setattr(index_command, "_index_service_run", swallowing_run)
    run = index_command._run_index(Path("."), None, Config(), False)  # type: ignore[arg-type]
    with pytest.raises(EndedBySignal) as ended:
        asyncio.run(run)
    assert ended.value.signum == sig
    assert ended.value.exit_code == 128 + sig
    assert seen == ["cancelled"]  # the signal did reach the run, once
    # The handlers are given back: SIGINT is Python's Ctrl-C again.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
