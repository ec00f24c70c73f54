"""Workspace discovery: a lazy, deterministic, gitignore-aware walk.

Ignore rules are git's (pathspec's ``GitIgnoreSpec``): every ``.gitignore`` applies relative to
its directory and deeper files override shallower ones; ``.git/info/exclude`` and configured
excludes apply from the root. An ignored directory is not even listed.

Symlinks are never followed: one that points outside the root would read outside the
workspace, one that points inside is indexed at its real path anyway (and following it could
loop). Each is reported as a ``Skip`` with the reason, as is any directory that cannot be
listed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from isgraph.index.languages import language_for

ALWAYS_SKIPPED = frozenset({".git"})


@dataclass(frozen=True, slots=True)
class Found:
    relpath: str  # repo-relative POSIX path
    abspath: str
    language: str


@dataclass(frozen=True, slots=True)
class Skip:
    relpath: str
    reason: str


class IgnoreRules:
    """The ignore decision for any path under ``root``; specs are read once per directory."""

    def __init__(
        self, root: Path, *, excludes: Sequence[str] = (), index_dir: Path | None = None
    ) -> None:
        self.root = root
        base_lines = list(excludes)
        info_exclude = root / ".git" / "info" / "exclude"
        if info_exclude.is_file():
            base_lines += _read_lines(info_exclude)
        self._base = GitIgnoreSpec.from_lines(base_lines) if base_lines else None
        index = index_dir if index_dir is not None else root / ".isgraph"
        try:
            self._index_rel: str | None = index.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            self._index_rel = None  # the index lives outside the root: nothing to skip
        self._specs: dict[str, GitIgnoreSpec | None] = {}

    def _spec(self, reldir: str) -> GitIgnoreSpec | None:
        if reldir not in self._specs:
            path = self.root / reldir / ".gitignore" if reldir else self.root / ".gitignore"
            lines = _read_lines(path) if path.is_file() else []
            self._specs[reldir] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[reldir]

    def ignored_here(self, relpath: str, is_dir: bool) -> bool:
        """Ignored by the rules alone, given that no ancestor directory is ignored."""
        name = relpath.rsplit("/", 1)[-1]
        if name in ALWAYS_SKIPPED or relpath == self._index_rel:
            return True
        probe = relpath + "/" if is_dir else relpath
        decision: bool | None = None
        if self._base is not None:
            decision = self._base.check_file(probe).include
        parts = relpath.split("/")
        for depth in range(len(parts)):  # root's .gitignore first, deeper ones override
            reldir = "/".join(parts[:depth])
            spec = self._spec(reldir)
            if spec is None:
                continue
            sub = probe[len(reldir) + 1 :] if reldir else probe
            hit = spec.check_file(sub).include
            if hit is not None:
                decision = hit
        return bool(decision)

    def is_ignored(self, relpath: str, is_dir: bool = False) -> bool:
        """Whether a path is ignored, its ancestors' ignores included (for file watchers)."""
        parts = relpath.split("/")
        for i in range(1, len(parts)):
            if self.ignored_here("/".join(parts[:i]), True):
                return True
        return self.ignored_here(relpath, is_dir)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def discover(
    root: Path,
    *,
    excludes: Sequence[str] = (),
    index_dir: Path | None = None,
    languages: Collection[str] | None = None,
) -> Iterator[Found | Skip]:
    """Yield source files under ``root`` and the reasons for skips.

    Order is deterministic: a directory's files (sorted by name), then its subdirectories
    (sorted), depth first.
    """
    root = root.resolve()
    rules = IgnoreRules(root, excludes=excludes, index_dir=index_dir)
    real_root = os.path.realpath(root)
    stack: list[str] = [""]
    while stack:
        reldir = stack.pop()
        absdir = os.path.join(real_root, reldir) if reldir else real_root
        try:
            with os.scandir(absdir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Skip(reldir or ".", f"cannot list directory: {exc.strerror or exc}")
            continue
        subdirs: list[str] = []
        for entry in entries:
            rel = f"{reldir}/{entry.name}" if reldir else entry.name
            try:
                if entry.is_symlink():
                    skip = _symlink_skip(entry.path, rel, real_root, languages)
                    if skip is not None and not rules.is_ignored(rel):
                        yield skip
                    continue
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:  # vanished between listing and stat
                yield Skip(rel, f"cannot stat: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(mode):
                if not rules.ignored_here(rel, True):
                    subdirs.append(rel)
                continue
            language = language_for(entry.name)
            if language is None or (languages is not None and language not in languages):
                continue
            if rules.ignored_here(rel, False):
                continue
            if not stat.S_ISREG(mode):
                yield Skip(rel, "not a regular file")
                continue
            yield Found(rel, entry.path, language)
        stack.extend(reversed(subdirs))  # pop() then visits them in sorted order


def _symlink_skip(
    path: str, rel: str, real_root: str, languages: Collection[str] | None
) -> Skip | None:
    """Why a symlink is not followed; None for a link that could not matter (non-source)."""
    target = os.path.realpath(path)
    is_dir = os.path.isdir(target)
    language = language_for(rel)
    if not is_dir and (language is None or (languages is not None and language not in languages)):
        return None
    inside = target == real_root or target.startswith(real_root + os.sep)
    if not inside:
        return Skip(rel, f"symlink points outside the workspace: {target}")
    if not os.path.exists(target):
        return Skip(rel, "broken symlink")
    target_rel = os.path.relpath(target, real_root).replace(os.sep, "/")
    link_dir = os.path.dirname(os.path.join(real_root, rel))
    if is_dir and (link_dir == target or link_dir.startswith(target + os.sep)):
        return Skip(rel, f"symlink loop: points to its own ancestor {target_rel or '.'}")
    return Skip(rel, f"symlink inside the workspace: indexed at its real path {target_rel}")
