"""What extraction reads besides the file it extracts, and which stored files to extract again
when that changes (incremental = clean, issue 18).

A file's rows are a function of its content and of a few facts of the tree around it:

- Python: which directories up from it hold an ``__init__.py`` (its module name:
  ``worker.python_module_name``);
- Go: the nearest ``go.mod`` (the package's import path); Rust: the nearest ``Cargo.toml``
  (the crate's name);
- JavaScript / TypeScript: the nearest ``tsconfig.json`` / ``jsconfig.json`` and the configs it
  ``extends`` (``paths``, ``baseUrl``), and which files exist where a config maps specifiers
  (``tsconfig.map_specifier`` takes the first target that exists).

A run that sees one of these change — a project file created, edited or deleted; an
``__init__.py`` created or deleted; a JS/TS file created or deleted where a config maps
specifiers — extracts again the stored files that read it (``dependents``), so a file whose
own content did not change still gets what a clean index would give it. Project files are not
indexed: their content hashes are kept in store meta (``CONTEXT_META``), which is how a full
run tells an edit made between runs. Worker processes cache these facts per process;
``forget_tree`` empties the caches at the start of each run (a server's pool outlives runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections.abc import Collection, Iterable, Mapping

from isgraph.index.extract.lang import project, tsconfig
from isgraph.index.languages import language_for
from isgraph.model import FileState

# Store meta: {repo-relative path: content hash} of the project files of the tree.
CONTEXT_META = "context_files"

JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
# Project file name -> the languages whose extraction reads it.
_PROJECT_FILES: dict[str, frozenset[str]] = {
    "go.mod": frozenset({"go"}),
    "Cargo.toml": frozenset({"rust"}),
}
PACKAGE_MARKER = "__init__.py"


def is_project_file(relpath: str) -> bool:
    """A file extraction of other files reads (``go.mod``, ``Cargo.toml``, a ``tsconfig*.json``
    or ``jsconfig*.json``, which another config may ``extends``)."""
    name = posixpath.basename(relpath)
    return name in _PROJECT_FILES or _is_js_config(name)


def _is_js_config(name: str) -> bool:
    return name.startswith(("tsconfig", "jsconfig")) and name.endswith(".json")


def fingerprints(root: str, relpaths: Iterable[str]) -> dict[str, str]:
    """Content hash of each project file that can be read (an unreadable one is absent)."""
    out: dict[str, str] = {}
    for rel in relpaths:
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                data = fh.read(1 << 20)
        except OSError:
            continue
        out[rel] = hashlib.blake2b(data, digest_size=16).hexdigest()
    return out


def load(meta: str | None) -> dict[str, str]:
    """The stored fingerprints (``CONTEXT_META``); none stored reads as none there."""
    try:
        data = json.loads(meta) if meta else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def dump(prints: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(prints.items())), separators=(",", ":"))


def changed(old: Mapping[str, str], new: Mapping[str, str]) -> set[str]:
    """Project files created, edited or deleted between two fingerprint maps."""
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


def dependents(
    root: str,
    states: Mapping[str, FileState],
    project_changed: Collection[str],
    created: Collection[str],
    deleted: Collection[str],
    configs: Collection[str],
) -> set[str]:
    """Stored files whose extraction read something that changed: ``project_changed`` (project
    files), ``created`` / ``deleted`` (indexed files). ``configs``: the tree's JS/TS configs
    now (to find those that extend a changed one or map specifiers onto a created file)."""
    scopes: list[tuple[str, frozenset[str]]] = []  # (directory, languages) to extract again
    configs = [c for c in configs if _is_js_config(posixpath.basename(c))]
    for path in project_changed:
        name = posixpath.basename(path)
        if name in _PROJECT_FILES:
            scopes.append((posixpath.dirname(path), _PROJECT_FILES[name]))
        elif _is_js_config(name):
            scopes.append((posixpath.dirname(path), JS_FAMILY))
            scopes.extend(
                (posixpath.dirname(c), JS_FAMILY)
                for c in configs
                if path in tsconfig.chain_paths(root, c)
            )
    js_touched = [p for p in (*created, *deleted) if language_for(p) in JS_FAMILY]
    for path in (*created, *deleted):
        if posixpath.basename(path) == PACKAGE_MARKER:
            scopes.append((posixpath.dirname(path), frozenset({"python"})))
    if js_touched:
        for config in configs:
            prefixes = tsconfig.mapped_prefixes(root, config)
            if any(p.startswith(prefixes) for p in js_touched):
                scopes.append((posixpath.dirname(config), JS_FAMILY))
    if not scopes:
        return set()
    return {
        path
        for path, state in states.items()
        if any(state.language in langs and _under(path, d) for d, langs in scopes)
    }


def _under(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")


def forget_tree() -> None:
    """Empty the per-process caches of tree facts (called by a worker when a new run starts)."""
    project.forget()
    tsconfig.forget()
