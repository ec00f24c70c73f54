"""Changes: from the git working tree or a revision range to the symbols changed, what they
impact (with provenance) and the tests that reach them.

Changed lines are mapped onto the index, which holds the working tree: for a range that ends
before the working tree, files edited since map approximately (the answer says which).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from isgraph.model import Entity, is_test_file
from isgraph.queries import impact as impacts
from isgraph.queries.detail import brief
from isgraph.queries.graph import Reached
from isgraph.queries.lookup import QueryError, innermost
from isgraph.queries.page import Page, paginate
from isgraph.store.base import Store
from isgraph.store.connect import INDEX_DIR_NAME

GIT_TIMEOUT_S = 30
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "testing"})
_SAFE_REV = re.compile(r"^[A-Za-z0-9_./~^@{}:\-]+$")


def is_test_path(path: str) -> bool:
    """A file that holds tests by the common conventions (test_*.py, *_test.go, *.spec.ts,
    FooTest.java, a tests/ directory…)."""
    p = PurePosixPath(path)
    return is_test_file(path) or any(d in _TEST_DIRS for d in p.parts[:-1])


@dataclass(slots=True, frozen=True)
class FileChange:
    path: str
    lines: list[tuple[int, int]]  # changed line ranges on the new side (1-based, inclusive)
    removed: bool = False


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            errors="replace",
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise QueryError(f"git failed: {exc}") from exc
    if proc.returncode != 0:
        raise QueryError(f"git {' '.join(args[:2])}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


def git_changes(root: Path, rev: str | None = None) -> list[FileChange]:
    """The files a diff touches: ``rev`` None is the working tree (staged, unstaged and
    untracked) against HEAD; else a revision or range as `git diff` takes it (``main``,
    ``HEAD~3..HEAD``)."""
    if rev is not None and (not rev or rev.startswith("-") or not _SAFE_REV.match(rev)):
        raise QueryError(f"not a revision or range: {rev!r}")
    # --relative: paths relative to the root (a workspace may be a subdirectory of its
    # repository), changes outside it left out, as the index leaves them out
    args = ("diff", "--relative", "--unified=0", "--no-color", "--no-ext-diff", "-M")
    text = _git(root, *args, rev or "HEAD")
    out: dict[str, FileChange] = {}
    path: str | None = None
    old: str | None = None
    for line in text.splitlines():
        if line.startswith("--- "):
            old = line[6:] if line.startswith("--- a/") else None
        elif line.startswith("+++ "):
            if line == "+++ /dev/null":
                path = None
                if old is not None:
                    out[old] = FileChange(old, [], removed=True)
            else:
                path = line[6:] if line.startswith("+++ b/") else line[4:]
                out.setdefault(path, FileChange(path, []))
        elif path is not None and (m := _HUNK.match(line)):
            start, count = int(m[1]), int(m[2]) if m[2] is not None else 1
            # count 0: lines removed after `start`; the code around them changed
            out[path].lines.append((max(start, 1), max(start + count - 1, start, 1)))
    if rev is None:
        for new in _git(root, "ls-files", "--others", "--exclude-standard").splitlines():
            if new and not new.startswith(f"{INDEX_DIR_NAME}/"):
                out[new] = FileChange(new, [(1, 1 << 30)])
    return sorted(out.values(), key=lambda c: c.path)


def changed_entities(store: Store, change: FileChange) -> list[Entity]:
    """The innermost entities holding the changed lines (the module for top-level lines of
    a hunk that touches no definition)."""
    ents = store.find_entities(path=change.path)
    if not ents or change.removed:
        return []
    found: dict[str, Entity] = {}
    last = max(e.end_line for e in ents)
    for lo, hi in change.lines:
        hit = [e for e in ents if e.start_line <= hi and e.end_line >= lo]
        inner = [e for e in hit if e.kind != "module"]
        # a hunk that touches definitions is about them (blank lines around a new function
        # are no change of the module); one that touches none changes the module's own lines
        for line in range(lo, min(hi, last) + 1):
            e = innermost(inner or hit, line)
            if e is not None:
                found.setdefault(e.key, e)
    return sorted(found.values(), key=lambda e: (e.start_line, -e.end_line, e.key))


@dataclass(slots=True, frozen=True)
class ChangedSymbol:
    entity: Entity
    impact: impacts.Impact

    def record(self) -> dict[str, Any]:
        i = self.impact
        return {
            **brief(self.entity),
            "certain": i.certain.total,
            "possible": i.possible.total,
            "unresolved_frontier": i.frontier.total,
        }


@dataclass(slots=True, frozen=True)
class Changes:
    files: list[FileChange]
    symbols: Page[ChangedSymbol]
    impacted: Page[Reached]  # certain first, then possible
    impacted_possible: set[str]
    tests: Page[Entity]
    unindexed: list[str]  # changed files the index holds nothing of

    def record(self) -> dict[str, Any]:
        def reached(r: Reached) -> dict[str, Any]:
            how = "possible" if r.entity.key in self.impacted_possible else "certain"
            return {**brief(r.entity), "depth": r.depth, "via": how, "from": r.target}

        return {
            "files": [
                {"path": f.path, "lines": [list(x) for x in f.lines], "removed": f.removed}
                for f in self.files
            ],
            "symbols": self.symbols.record(lambda s: s.record()),
            "impacted": self.impacted.record(reached),
            "tests": self.tests.record(brief),
            "unindexed": self.unindexed,
        }


def changes(store: Store, files: list[FileChange], *, depth: int = 3, limit: int = 50) -> Changes:
    """Changed symbols of ``files``, the union of their impacts and the tests among them."""
    symbols: list[ChangedSymbol] = []
    unindexed: list[str] = []
    for f in files:
        ents = changed_entities(store, f)
        if not ents and not f.removed:
            unindexed.append(f.path)
        symbols += [ChangedSymbol(e, impacts.impact(store, e, depth)) for e in ents]
    best: dict[str, tuple[bool, int, Reached]] = {}
    changed = {s.entity.key for s in symbols}
    for s in symbols:
        for possible, page in ((False, s.impact.certain), (True, s.impact.possible)):
            for r in page.items:
                have = best.get(r.entity.key)
                rank = (possible, r.depth)
                if r.entity.key not in changed and (have is None or rank < have[:2]):
                    best[r.entity.key] = (possible, r.depth, r)
    ordered = sorted(best.values(), key=lambda t: (t[0], t[1], t[2].entity.path))
    impacted = [t[2] for t in ordered]
    possible_keys = {t[2].entity.key for t in ordered if t[0]}
    tests = [
        e
        for e in [s.entity for s in symbols] + [r.entity for r in impacted]
        if is_test_path(e.path) and e.kind in ("function", "method", "class")
    ]
    return Changes(
        files,
        paginate(symbols, limit),
        paginate(impacted, limit),
        possible_keys,
        paginate(list({e.key: e for e in tests}.values()), limit),
        unindexed,
    )
