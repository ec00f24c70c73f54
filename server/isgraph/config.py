"""Configuration: ``[tool.isgraph]`` in pyproject.toml or a ``.isgraph.toml`` at the root.

Precedence (later wins): defaults < pyproject.toml < .isgraph.toml < environment (ISGRAPH_DB)
< command-line flags. Unknown keys and wrong types are errors with the file and key named:
a typo must not silently fall back to a default.

Downstream language servers (``[[tool.isgraph.downstream]]``, or ``[[downstream]]`` in
``.isgraph.toml``, or ``{"downstream": [...]}`` in LSP ``initializationOptions``) are parsed by
`parse_downstream`: a list replaces the list of an earlier source, it is not merged.
Trust (docs/security.md): the workspace's own files are untrusted input — a cloned repository
wrote them. They may tune indexing (``excludes``, ``max_file_size``, ``jobs``) but the keys in
``TRUSTED_ONLY`` — where data is written or sent, what program runs — are honoured from them
only when the user trusts the workspace (``ISGRAPH_TRUST_WORKSPACE=1``, or the editor's
workspace trust passed as ``trustWorkspace``); otherwise they are ignored with a warning
(``Config.ignored``). The environment and command-line flags are the user's, always honoured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from isgraph.store.connect import anchored

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024  # bytes; larger files are reported as skipped
DEFAULT_DOWNSTREAM_TIMEOUT_MS = 1000
DEFAULT_DOWNSTREAM_CONCURRENCY = 2
DEFAULT_MAX_RESTARTS = 4
TRUST_ENV = "ISGRAPH_TRUST_WORKSPACE"
# Keys a workspace file may set only in a trusted workspace: a store URL can write anywhere
# or send the code to another host; a downstream server command runs a program.
TRUSTED_ONLY = frozenset({"db", "downstream"})


class ConfigError(Exception):
    """Invalid configuration; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class DownstreamSpec:
    """One downstream language server: started as ``command`` for files of ``languages``."""

    name: str
    command: tuple[str, ...]
    languages: tuple[str, ...]  # isgraph language names (python, typescript, tsx, c, cpp, go…)
    timeout_ms: int = DEFAULT_DOWNSTREAM_TIMEOUT_MS  # per request (hover, definition)
    initialization_options: Any = None  # sent as-is in `initialize`
    settings: dict[str, Any] | None = None  # answers `workspace/configuration`, pushed on change
    concurrency: int = DEFAULT_DOWNSTREAM_CONCURRENCY  # enrichment requests in flight
    max_restarts: int = DEFAULT_MAX_RESTARTS  # crashes tolerated before giving up
    # Not configuration: set by tests to make crash loops fast.
    backoff_ms: int = field(default=500, compare=False)


@dataclass(frozen=True, slots=True)
class Config:
    db: str | None = None  # store URL; None means the embedded default under <root>/.isgraph/
    excludes: tuple[str, ...] = ()  # gitignore-syntax patterns relative to the root
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    jobs: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    # (I, N): index only the files of shard I of N (``isgraph index --shard I/N``); a run
    # property, not a file setting, so configuration files cannot set it.
    shard: tuple[int, int] | None = None
    downstream: tuple[DownstreamSpec, ...] = ()  # language servers for hover and enrichment
    enrich: bool = False  # the server's background index asks downstream hover per entity
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
    "downstream": list,
    "enrich": bool,
}


SETTING_KEYS = frozenset(_TYPES)  # what configuration files and editor settings may set


def _validate(table: dict[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in fields(Config)} - {"shard", "ignored"}
    out: dict[str, Any] = {}
    for key, value in table.items():
        norm = key.replace("-", "_")
        if norm not in known:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        expected = _TYPES[norm]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(f"{source}: {key!r} must be {_type_name(expected)}, got {value!r}")
        if norm == "downstream":
            out[norm] = parse_downstream(value, f"{source} {key}")
            continue
        if isinstance(value, list):  # excludes
            items: list[object] = value
            if not all(isinstance(p, str) for p in items):
                raise ConfigError(f"{source}: 'excludes' must be a list of strings")
            value = tuple(str(p) for p in items)
        if norm in ("max_file_size", "jobs") and value < 1:
            raise ConfigError(f"{source}: {key!r} must be >= 1, got {value}")
        out[norm] = value
    return out


_DOWNSTREAM_KEYS = {
    "name",
    "command",
    "languages",
    "timeout_ms",
    "initialization_options",
    "settings",
    "concurrency",
    "max_restarts",
}


def parse_downstream(value: object, source: str) -> tuple[DownstreamSpec, ...]:
    """Validate a list of downstream server tables (from TOML or ``initializationOptions``)."""
    from isgraph.index.languages import LANGUAGES

    if not isinstance(value, list):
        raise ConfigError(f"{source}: must be a list of tables, got {value!r}")
    specs: list[DownstreamSpec] = []
    for i, item in enumerate(value):
        where = f"{source}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a table, got {item!r}")
        table = {str(k).replace("-", "_"): v for k, v in item.items()}
        unknown = set(table) - _DOWNSTREAM_KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {sorted(unknown)[0]!r} "
                f"(known: {', '.join(sorted(_DOWNSTREAM_KEYS))})"
            )
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: 'name' must be a non-empty string")
        where = f"{source} {name!r}"
        command = table.get("command")
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(c, str) and c for c in command)
        ):
            raise ConfigError(f"{where}: 'command' must be a non-empty list of strings (argv)")
        langs = table.get("languages")
        if not isinstance(langs, list) or not langs or not all(isinstance(x, str) for x in langs):
            raise ConfigError(f"{where}: 'languages' must be a non-empty list of strings")
        bad = [x for x in langs if x not in LANGUAGES]
        if bad:
            raise ConfigError(
                f"{where}: unknown language {bad[0]!r} (known: {', '.join(sorted(LANGUAGES))})"
            )
        ints: dict[str, int] = {}
        for key, low in (("timeout_ms", 1), ("concurrency", 1), ("max_restarts", 0)):
            if key in table:
                v = table[key]
                if not isinstance(v, int) or isinstance(v, bool) or v < low:
                    raise ConfigError(f"{where}: {key!r} must be an int >= {low}, got {v!r}")
                ints[key] = v
        settings = table.get("settings")
        if settings is not None and not isinstance(settings, dict):
            raise ConfigError(f"{where}: 'settings' must be a table, got {settings!r}")
        if any(s.name == name for s in specs):
            raise ConfigError(f"{where}: duplicate downstream name")
        specs.append(
            DownstreamSpec(
                name=name,
                command=tuple(command),
                languages=tuple(langs),
                initialization_options=table.get("initialization_options"),
                settings=settings,
                **ints,
            )
        )
    return tuple(specs)


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
    import tomllib  # only when there is a file to read (~10 ms of a query's start)

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
        if "db" in values:  # relative to the file that says it, not to the current directory
            values["db"] = anchored(values["db"], root.resolve())
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
