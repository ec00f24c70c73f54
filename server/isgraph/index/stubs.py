"""Typeshed's standard-library stubs as external files of the index.

Calls to ``len``, ``time.sleep`` or ``os.getcwd`` have no definition in the repo: they are
builtins or C modules. Like pyright, isgraph resolves them into typeshed's stubs (bundled by the
``typeshed_client`` package, so nothing is downloaded). Only the stubs a repo needs are indexed:
``builtins`` always, plus each imported module that the repo does not define itself, and then
what those stubs import, for a few rounds.

Stub files live in the store under the virtual path ``@typeshed/stdlib/<module path>.pyi``; a
path starting with ``@`` is never under the workspace root, so discovery never sees it and a
full re-index never removes it.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from isgraph.model import is_external

__all__ = ["is_external"]  # re-exported: the index modules ask here

STUB_PREFIX = "@typeshed/stdlib/"
# Modules compiled into the interpreter (gc, sys, posix, _io…): Python's import system finds
# them before any file, so a workspace file of the same name never shadows them.
BUILTIN_MODULES = frozenset(sys.builtin_module_names)
MAX_ROUNDS = 3  # stubs importing stubs: os -> posix, subprocess -> ... (closure is small)


@functools.cache
def typeshed_stdlib() -> Path | None:
    """The directory of typeshed's stdlib stubs, or None if typeshed_client is missing."""
    try:
        root = resources.files("typeshed_client") / "typeshed"
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if (path / "builtins.pyi").is_file() else None


def stub_module(relpath: str) -> str:
    """``@typeshed/stdlib/os/__init__.pyi`` -> ``os``; ``.../os/path.pyi`` -> ``os.path``."""
    rel = relpath[len(STUB_PREFIX) :].removesuffix(".pyi")
    parts = rel.split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stub_for(module: str) -> tuple[str, str] | None:
    """(virtual relpath, absolute path) of the stub of a dotted module name, if typeshed has
    one."""
    base = typeshed_stdlib()
    if base is None or not module or not all(p.isidentifier() for p in module.split(".")):
        return None
    rel = module.replace(".", "/")
    for candidate in (f"{rel}.pyi", f"{rel}/__init__.pyi"):
        abspath = base / candidate
        if abspath.is_file():
            return STUB_PREFIX + candidate, str(abspath)
    return None


def module_prefixes(targets: Iterable[str]) -> set[str]:
    """Every dotted prefix of import targets: ``os.path.join`` -> os, os.path, os.path.join.
    (An import target may name a module, a submodule, or a name inside a module.)"""
    out: set[str] = set()
    for target in targets:
        parts = target.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def stubs_wanted(modules: Iterable[str], defined: set[str], known: set[str]) -> list[str]:
    """Stub paths to index: the stubs of ``modules`` (and ``builtins``) that the repo does not
    define (``defined``: module fqns with a non-stub definition), then what those stubs
    star-import or import from their own package (``os`` -> ``os.path`` -> ``posixpath``),
    whether the repo defines them or not, breadth first for MAX_ROUNDS levels; minus the ones
    already stored (``known``).

    Computed from the stub files on disk, not from what a run happened to parse, so it is the
    same however the work is split (shards) or interrupted."""
    wanted: set[str] = set()
    frontier = {"builtins", *modules}
    for level in range(MAX_ROUNDS):
        found: set[str] = set()
        for module in frontier:
            top = module.split(".", 1)[0]
            if level == 0 and top not in BUILTIN_MODULES and (module in defined or top in defined):
                # The repo's own module (or package) shadows the stdlib one for the repo; a
                # stub's imports still mean typeshed's modules (`posix` re-exports `os`'s).
                continue
            stub = stub_for(module)
            if stub is not None and stub[0] not in wanted:
                found.add(stub[0])
        if not found:
            break
        wanted |= found
        frontier = module_prefixes(m for rel in found for m in _reexports(rel))
    return sorted(wanted - known)


_STAR = re.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\s+\*", re.M)
_FROM = re.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\s+\(?\s*([\w\s,]+)", re.M)


@functools.cache
def _reexports(relpath: str) -> frozenset[str]:
    """Modules a stub's names can come from: its star imports, modules of its own package
    that it imports (``from . import path``), and modules it re-exports names of (``from os
    import mkdir as mkdir``). Its other imports serve annotations only."""
    module = stub_module(relpath)
    package = module if relpath.endswith("/__init__.pyi") else module.rpartition(".")[0]
    top = module.split(".", 1)[0]
    try:
        text = Path(stub_abspath(relpath)).read_text("utf-8", "replace")
    except OSError:
        return frozenset()
    out: set[str] = set()
    for m in _STAR.finditer(text):
        out.add(_absolute(m.group(1), package))
    for m in _FROM.finditer(text):
        base = _absolute(m.group(1), package)
        names = [n.split() for n in m.group(2).split(",") if n.split()]
        if base == top or base.startswith(top + "."):
            out.add(base)
            out.update(f"{base}.{n[0]}" for n in names)
        elif any(len(n) == 3 and n[1] == "as" and n[0] == n[2] for n in names):
            out.add(base)  # `from os import mkdir as mkdir`: a stub's explicit re-export
    return frozenset(m for m in out if m)


def _absolute(dotted: str, package: str) -> str:
    level = len(dotted) - len(dotted.lstrip("."))
    rest = dotted[level:]
    if not level:
        return rest
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, rest] if rest else parts)


def stub_abspath(relpath: str) -> str:
    base = typeshed_stdlib()
    assert base is not None and relpath.startswith(STUB_PREFIX)
    return os.path.join(base, relpath[len(STUB_PREFIX) :])
