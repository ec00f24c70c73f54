"""Project files a file's namespace depends on (``go.mod``, ``Cargo.toml``), found by walking up
from the file to the root; cached per process (the worker reads each at most once)."""

from __future__ import annotations

import os
import re
from functools import cache

_GO_MODULE = re.compile(rb"^\s*module\s+(\S+)", re.M)
_CARGO_NAME = re.compile(rb"^\s*\[package\][^\[]*?^\s*name\s*=\s*\"([^\"]+)\"", re.M | re.S)


def find_up(root: str, reldir: str, name: str) -> str | None:
    """The repo-relative directory nearest ``reldir`` (itself included) holding ``name``."""
    parts = [p for p in reldir.split("/") if p]
    while True:
        rel = "/".join(parts)
        if _exists(os.path.join(root, rel, name)):
            return rel
        if not parts:
            return None
        parts.pop()


@cache
def _exists(path: str) -> bool:
    return os.path.isfile(path)


@cache
def go_module(root: str, moddir: str) -> str:
    """The module path declared in ``moddir/go.mod`` ("" if unreadable)."""
    m = _GO_MODULE.search(_read(os.path.join(root, moddir, "go.mod")))
    return m.group(1).decode("utf-8", "replace") if m else ""


@cache
def crate_name(root: str, cratedir: str) -> str:
    """The package name in ``cratedir/Cargo.toml`` as Rust paths spell it (``-`` -> ``_``)."""
    m = _CARGO_NAME.search(_read(os.path.join(root, cratedir, "Cargo.toml")))
    name = m.group(1).decode("utf-8", "replace") if m else os.path.basename(cratedir) or "crate"
    return name.replace("-", "_")


def forget() -> None:
    """Empty the per-process caches (a worker starting another run: `index.context`)."""
    _exists.cache_clear()
    go_module.cache_clear()
    crate_name.cache_clear()


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(65536)
    except OSError:
        return b""
