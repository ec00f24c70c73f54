"""``tsconfig.json`` / ``jsconfig.json``: module specifiers mapped by ``compilerOptions.paths``
and ``baseUrl``, as TypeScript's module resolution does (``import { x } from "@app/util"``
with ``"paths": {"@app/*": ["src/app/*"]}`` names ``src/app/util``).

The config governing a file is the nearest one up from its directory. It is read as JSON with
comments and trailing commas (json5), following ``extends`` of local files (a package name in
``extends`` is not followed: it lives in ``node_modules``, outside what is indexed). ``paths``
targets are relative to ``baseUrl`` when set, else to the config that defines ``paths``; the
first target that exists on disk is taken (else the first), and a specifier no pattern matches
is tried under ``baseUrl``, kept only when such a file exists (else it is a package name).
Reads are cached per process by the config's path and mtime, so an edited config is read again.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import json5

from isgraph.index.extract.lang.project import find_up

CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
MAX_EXTENDS = 8  # chains longer than this (or cycles) stop there
_PROBE = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_SEP = "\0"  # between the root and the config's path in a worker's ``module`` string


@dataclass(frozen=True, slots=True)
class PathMap:
    """What one config says about non-relative specifiers (repo-relative directories)."""

    base: str  # what ``paths`` targets are relative to
    base_url: str | None  # ``baseUrl``, resolved; None when unset
    paths: tuple[tuple[str, tuple[str, ...]], ...]  # (pattern, targets) in file order


def config_for(root: str, relpath: str) -> str:
    """The ``module`` string the worker passes for a JS/TS file: the root and the governing
    config's repo-relative path, or "" when no config applies."""
    reldir = posixpath.dirname(relpath)
    best: str | None = None
    for name in CONFIG_NAMES:
        found = find_up(root, reldir, name)
        if found is not None and (best is None or len(found) > len(posixpath.dirname(best))):
            best = posixpath.join(found, name) if found else name
    return f"{root}{_SEP}{best}" if best is not None else ""


def map_specifier(module: str, spec: str) -> str | None:
    """The repo-relative path ``spec`` names under the config in ``module`` (see
    ``config_for``), or None when the config does not map it."""
    root, _, config = module.partition(_SEP)
    if not config:
        return None
    pm = _load(root, config)
    if pm is None:
        return None
    targets = _match(pm.paths, spec)
    if targets is not None:
        star, outs = targets
        mapped = [_inside(posixpath.join(pm.base, t.replace("*", star, 1))) for t in outs]
        inside = [m for m in mapped if m is not None]
        for found in inside:
            if _module_exists(root, found):
                return found
        if inside:
            return inside[0]
    if pm.base_url is not None:
        rel = _inside(posixpath.join(pm.base_url, spec))
        if rel is not None and _module_exists(root, rel):
            return rel
    return None


def _match(
    paths: tuple[tuple[str, tuple[str, ...]], ...], spec: str
) -> tuple[str, tuple[str, ...]] | None:
    """(what ``*`` matched, targets) of the pattern TypeScript picks: an exact pattern, else
    the wildcard pattern with the longest prefix."""
    best: tuple[int, str, tuple[str, ...]] | None = None
    for pattern, targets in paths:
        if "*" not in pattern:
            if pattern == spec:
                return "", targets
            continue
        prefix, _, suffix = pattern.partition("*")
        if (
            len(spec) >= len(prefix) + len(suffix)
            and spec.startswith(prefix)
            and spec.endswith(suffix)
            and (best is None or len(prefix) > best[0])
        ):
            best = (len(prefix), spec[len(prefix) : len(spec) - len(suffix)], targets)
    return (best[1], best[2]) if best is not None else None


def _inside(rel: str) -> str | None:
    """``rel`` normalized, or None when it leaves the root (never read outside it)."""
    norm = posixpath.normpath(rel)
    return None if norm == ".." or norm.startswith("../") or norm.startswith("/") else norm


def _module_exists(root: str, rel: str) -> bool:
    """A file TypeScript would take for ``rel``: itself, with an extension, or an index."""
    base = os.path.join(root, rel)
    if os.path.isfile(base):
        return True
    return any(os.path.isfile(base + ext) for ext in _PROBE) or any(
        os.path.isfile(os.path.join(base, "index" + ext)) for ext in _PROBE
    )


def _load(root: str, config: str) -> PathMap | None:
    try:
        mtime = os.stat(os.path.join(root, config)).st_mtime_ns
    except OSError:
        return None
    return _load_cached(root, config, mtime)


@lru_cache(maxsize=64)
def _load_cached(root: str, config: str, mtime_ns: int) -> PathMap | None:
    base_url: str | None = None
    paths: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    paths_dir = ""
    # Nearest config first; an option set by a nearer config wins over what it extends.
    for rel, options in _chain(root, config):
        here = posixpath.dirname(rel)
        if base_url is None and isinstance(options.get("baseUrl"), str):
            base_url = _inside(posixpath.join(here, options["baseUrl"])) or ""
        if paths is None and isinstance(options.get("paths"), dict):
            paths = tuple(
                (str(k), tuple(str(t) for t in v if isinstance(t, str)))
                for k, v in options["paths"].items()
                if isinstance(v, list)
            )
            paths_dir = here
    if base_url is None and paths is None:
        return None
    return PathMap(base_url if base_url is not None else paths_dir, base_url, paths or ())


def chain_paths(root: str, config: str) -> set[str]:
    """Every config ``config`` reads: itself and what it extends, those missing included
    (creating one changes what ``config`` says: `index.context`)."""
    seen: set[str] = set()
    _chain(root, config, seen)
    return seen


def mapped_prefixes(root: str, config: str) -> tuple[str, ...]:
    """Path prefixes under which ``config`` probes for files when it maps a specifier
    (``baseUrl``, each ``paths`` target up to its ``*``): a file created or deleted there may
    change what an import means (`index.context`). "" stands for the whole tree."""
    pm = _load(root, config)
    if pm is None:
        return ()
    starts = [] if pm.base_url is None else [pm.base_url]
    starts += [posixpath.join(pm.base, t.split("*", 1)[0]) for _, ts in pm.paths for t in ts]
    out: set[str] = set()
    for rel in starts:
        inside = _inside(rel or ".")
        if inside is not None:
            out.add("" if inside == "." else inside)
    return tuple(sorted(out))


def forget() -> None:
    """Empty the per-process cache (a worker starting another run: `index.context`)."""
    _load_cached.cache_clear()


def _chain(
    root: str, config: str, seen: set[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(repo-relative path, compilerOptions) of the config and what it extends, nearest first
    (``extends`` may be a list: later entries override earlier ones, so they come first);
    ``seen`` receives every config named, read or not."""
    out: list[tuple[str, dict[str, Any]]] = []
    todo = [config]
    seen = set() if seen is None else seen
    while todo and len(seen) < MAX_EXTENDS:
        rel = todo.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        data = _read_json(os.path.join(root, rel))
        if data is None:
            continue
        options = data.get("compilerOptions")
        out.append((rel, options if isinstance(options, dict) else {}))
        ext = data.get("extends")
        parents = [ext] if isinstance(ext, str) else ext if isinstance(ext, list) else []
        for parent in reversed(parents):
            if isinstance(parent, str) and parent.startswith("."):
                target = parent if parent.endswith(".json") else parent + ".json"
                found = _inside(posixpath.join(posixpath.dirname(rel), target))
                if found is not None:
                    todo.append(found)
    return out


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json5.loads(fh.read(1 << 20))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
