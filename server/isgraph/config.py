"""Configuration: ``[tool.isgraph]`` in pyproject.toml or a ``.isgraph.toml`` at the root.

Precedence (later wins): defaults < pyproject.toml < .isgraph.toml < environment (ISGRAPH_DB)
< command-line flags. Unknown keys and wrong types are errors with the file and key named:
a typo must not silently fall back to a default.

Trust (docs/security.md): the workspace's own files are untrusted input — a cloned repository
wrote them. They may tune indexing (``excludes``, ``max_file_size``, ``jobs``) but the keys in
``TRUSTED_ONLY`` — where data is written or sent, what program runs — are honoured from them
only when the user trusts the workspace (``ISGRAPH_TRUST_WORKSPACE=1``, or the editor's
workspace trust passed as ``trustWorkspace``); otherwise they are ignored with a warning
(``Config.ignored``). The environment and command-line flags are the user's, always honoured.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024  # bytes; larger files are reported as skipped
TRUST_ENV = "ISGRAPH_TRUST_WORKSPACE"
# Keys a workspace file may set only in a trusted workspace: a store URL can write anywhere
# or send the code to another host; a downstream server command runs a program.
TRUSTED_ONLY = frozenset({"db", "downstream"})


class ConfigError(Exception):
    """Invalid configuration; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Config:
    db: str | None = None  # store URL; None means the embedded default under <root>/.isgraph/
    excludes: tuple[str, ...] = ()  # gitignore-syntax patterns relative to the root
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    jobs: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    # (I, N): index only the files of shard I of N (``isgraph index --shard I/N``); a run
    # property, not a file setting, so configuration files cannot set it.
    shard: tuple[int, int] | None = None
    # warnings: workspace-file keys not honoured because the workspace is not trusted
    ignored: tuple[str, ...] = ()

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with every non-None override applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_TYPES: dict[str, type | tuple[type, ...]] = {
    "db": str,
    "excludes": list,
    "max_file_size": int,
    "jobs": int,
}


def _validate(table: dict[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in fields(Config)} - {"shard", "ignored"}
    out: dict[str, Any] = {}
    for key, value in table.items():
        norm = key.replace("-", "_")
        if norm not in known:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        expected = _TYPES[norm]
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"{source}: {key!r} must be {_type_name(expected)}, got {value!r}")
        if isinstance(value, list):  # excludes
            items: list[object] = value
            if not all(isinstance(p, str) for p in items):
                raise ConfigError(f"{source}: 'excludes' must be a list of strings")
            value = tuple(str(p) for p in items)
        if norm in ("max_file_size", "jobs") and value < 1:
            raise ConfigError(f"{source}: {key!r} must be >= 1, got {value}")
        out[norm] = value
    return out


def _type_name(t: type | tuple[type, ...]) -> str:
    return t.__name__ if isinstance(t, type) else " or ".join(x.__name__ for x in t)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def workspace_trusted(env: dict[str, str]) -> bool:
    """Whether the user opted in to trusting workspace files (``ISGRAPH_TRUST_WORKSPACE``)."""
    return env.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def load_config(
    root: Path, env: dict[str, str] | None = None, *, trusted: bool | None = None
) -> Config:
    """The configuration for a workspace root (files, then environment).

    ``trusted`` (default: from ``ISGRAPH_TRUST_WORKSPACE``) decides whether the workspace's
    files may set the ``TRUSTED_ONLY`` keys; when not, those are dropped and named in
    ``Config.ignored``."""
    env = dict(os.environ) if env is None else env
    if trusted is None:
        trusted = workspace_trusted(env)
    merged: dict[str, Any] = {}
    ignored: list[str] = []

    def take(table: dict[str, Any], source: str) -> None:
        values = _validate(table, source)
        for key in sorted(TRUSTED_ONLY & values.keys()) if not trusted else ():
            del values[key]
            ignored.append(
                f"{source}: {key!r} ignored: the workspace is not trusted "
                f"(set {TRUST_ENV}=1 or trust it in the editor to honour it)"
            )
        cpus = os.cpu_count() or 1
        if not trusted and values.get("jobs", 0) > cpus:  # a process bomb otherwise
            ignored.append(f"{source}: 'jobs' = {values['jobs']} capped at {cpus} (untrusted)")
            values["jobs"] = cpus
        merged.update(values)

    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("isgraph", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{pyproject}: [tool.isgraph] must be a table")
        take(table, f"{pyproject} [tool.isgraph]")
    dotfile = root / ".isgraph.toml"
    if dotfile.is_file():
        take(_read_toml(dotfile), str(dotfile))
    if env.get("ISGRAPH_DB"):
        merged["db"] = env["ISGRAPH_DB"]
    return Config(**merged, ignored=tuple(ignored))
