"""Configuration: ``[tool.isgraph]`` in pyproject.toml or a ``.isgraph.toml`` at the root.

Precedence (later wins): defaults < pyproject.toml < .isgraph.toml < environment (ISGRAPH_DB)
< command-line flags. Unknown keys and wrong types are errors with the file and key named:
a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024  # bytes; larger files are reported as skipped


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

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with every non-None override applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_TYPES: dict[str, type | tuple[type, ...]] = {
    "db": str,
    "excludes": list,
    "max_file_size": int,
    "jobs": int,
}


SETTING_KEYS = frozenset(_TYPES)  # what configuration files and editor settings may set


def _validate(table: dict[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in fields(Config)} - {"shard"}
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


def validate_settings(
    table: Mapping[str, Any], source: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check each key of a settings table on its own (the language server's
    ``initializationOptions`` / ``workspace/didChangeConfiguration``): the valid keys' values,
    normalized, and a message per bad key (normalized name -> message), so one bad value does
    not discard the others. A ``None`` value means "not set"."""
    good: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for key, value in table.items():
        if value is None:
            continue
        try:
            good.update(_validate({key: value}, source))
        except ConfigError as exc:
            bad[key.replace("-", "_")] = str(exc)
    return good, bad


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


def load_config(root: Path, env: dict[str, str] | None = None) -> Config:
    """The configuration for a workspace root (files, then environment)."""
    env = dict(os.environ) if env is None else env
    merged: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("isgraph", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{pyproject}: [tool.isgraph] must be a table")
        merged.update(_validate(table, f"{pyproject} [tool.isgraph]"))
    dotfile = root / ".isgraph.toml"
    if dotfile.is_file():
        merged.update(_validate(_read_toml(dotfile), str(dotfile)))
    if env.get("ISGRAPH_DB"):
        merged["db"] = env["ISGRAPH_DB"]
    return Config(**merged)
