"""Workspace discovery: a lazy, deterministic, gitignore-aware walk.

Order
    Each directory is listed once (``os.scandir``), its entries sorted by name, and walked depth
    first in that order: a subdirectory's contents come where its name sorts, so the output is
    sorted by path components (``a/z.py`` before ``a.py``, since ``a`` < ``a.py``). Only the
    directories on the current path are held in memory, never the whole file list.

Ignore rules (matching is pathspec's ``GitIgnoreSpec``; precedence and pruning are git's)
    For a path, the first source below with a matching pattern decides, and within a source the
    last matching pattern wins:

    1. the configured ``excludes`` (relative to the root; like git's command-line excludes,
       they beat every ``.gitignore``, and a ``!`` there can re-include);
    2. the ``.gitignore`` files of the path's directories, deepest first, each relative to its
       own directory;
    3. the root's ``.git/info/exclude``.

    An ignored directory is not listed, so nothing under it can be re-included (as in git).
    ``.git`` (at any depth) and the index directory are always skipped. A ``.gitignore`` that is
    a symlink is not followed (as git does not).

Symlinks
    A symlinked file whose real path is inside the root is yielded under its own path (it is a
    distinct path of the workspace). A symlinked directory is followed only where that cannot
    visit a directory twice: each directory walked is remembered by ``(st_dev, st_ino)``, and a
    link into a part of the workspace that the walk reaches at its real path (anything not
    ignored) is skipped, so files are indexed at their real paths and never twice. A link whose
    real path is outside the root, into ``.git`` or the index, broken, or leading back to an
    ancestor is reported as a ``Skip`` and not followed. Links without a source-file name that
    do not point to a directory are not reported (like any non-source file).

Errors
    A directory that cannot be listed (permission denied, vanished) is a ``Skip`` with the
    ``OSError``'s reason and the walk goes on; a file that vanishes between listing and use is
    simply not yielded. A root that does not exist, is not a directory or cannot be listed
    raises: an empty walk would look like an empty workspace.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from pathspec import GitIgnoreSpec

from isgraph.index.languages import LANGUAGES, language_for

GITIGNORE = ".gitignore"
INFO_EXCLUDE = ".git/info/exclude"
DEFAULT_INDEX_DIR = ".isgraph"
ALWAYS_SKIPPED = frozenset({".git"})

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_MARK = "ps_d"  # the regex group pathspec (0.12 and 1.x) names its directory mark
_by_name = attrgetter("name")

# (directory relative to the root, its compiled .gitignore), shallowest first
_Chain = tuple[tuple[str, "_Patterns"], ...]
# a directory's identity: (st_dev, st_ino), or its real path where the inode is unknown (0)
_Key = tuple[int, int] | str


@dataclass(frozen=True, slots=True)
class Found:
    relpath: str  # root-relative, POSIX separators
    abspath: str  # the root's real path joined with relpath
    language: str  # a tree-sitter-language-pack grammar name


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A file other files' extraction reads (``go.mod``, ``tsconfig.json``: `index.context`),
    yielded when ``discover(project_files=…)`` asks for them; not indexed itself."""

    relpath: str
    abspath: str


@dataclass(frozen=True, slots=True)
class Skip:
    relpath: str  # root-relative, POSIX separators; "." for the root
    reason: str


class IgnoreRules:
    """Whether a path under ``root`` is ignored, with exactly ``discover``'s semantics.

    Meant for file watchers: ``.gitignore`` files are compiled once per directory and each
    directory's verdict is remembered, so a call only matches the path itself against the
    rules files that apply to it. After a change to a rules file, call :meth:`refresh`.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        excludes: Sequence[str] = (),
        index_dir: Path | str | None = None,
    ) -> None:
        if isinstance(excludes, str):
            raise TypeError("excludes must be a sequence of patterns, not one string")
        self.root = Path(os.path.realpath(root))
        self._root = str(self.root)
        self._top = _compile(list(excludes))
        self._bottom = _load_spec(os.path.join(self._root, *INFO_EXCLUDE.split("/")))
        self._index_rels = _index_rels(os.path.abspath(root), self._root, index_dir)
        self._specs: dict[str, _Patterns | None] = {}
        self._dirs: dict[str, tuple[bool, _Chain]] = {}

    def is_ignored(self, relpath: str, is_dir: bool = False) -> bool:
        """Whether ``relpath`` (root-relative, POSIX; a trailing ``/`` means a directory) is
        ignored, by the rules or because an ancestor directory is. A path that leaves the root
        (``../x``) counts as ignored; the root itself is not."""
        rel = _normalize(relpath)
        if rel is None:
            return True
        if not rel:
            return False
        parent = rel.rpartition("/")[0]
        ignored, chain = self._dir(parent)
        return ignored or self._decide(chain, rel, is_dir or relpath.endswith("/"))

    def refresh(self, relpath: str) -> bool:
        """Forget what a changed ``relpath`` invalidates. True if it is a rules file (a
        ``.gitignore`` or ``.git/info/exclude``): the ignored set may have changed."""
        rel = _normalize(relpath)
        if rel == INFO_EXCLUDE:
            self._bottom = _load_spec(os.path.join(self._root, *INFO_EXCLUDE.split("/")))
        elif rel is not None and rel.rpartition("/")[2] == GITIGNORE:
            self._specs.pop(rel.rpartition("/")[0], None)
        else:
            return False
        self._dirs.clear()
        return True

    # -- shared with the walk -------------------------------------------------------------

    def _decide(self, chain: _Chain, relpath: str, is_dir: bool) -> bool:
        """Ignored by the rules alone, given that no ancestor directory is ignored; ``chain``
        holds the ``.gitignore`` files of the path's directories."""
        if relpath.rpartition("/")[2] in ALWAYS_SKIPPED or relpath in self._index_rels:
            return True
        probe = relpath + "/" if is_dir else relpath  # pathspec's mark for a directory
        if self._top is not None:
            hit = self._top.verdict(probe, is_dir)
            if hit is not None:
                return hit
        for base, rules in reversed(chain):  # deeper files override shallower ones
            hit = rules.verdict(probe[len(base) + 1 :] if base else probe, is_dir)
            if hit is not None:
                return hit
        return self._bottom is not None and bool(self._bottom.verdict(probe, is_dir))

    def _private(self, relpath: str) -> bool:
        """Inside ``.git`` or the index directory (never read, not even through a link)."""
        if any(part in ALWAYS_SKIPPED for part in relpath.split("/")):
            return True
        return any(relpath == d or relpath.startswith(d + "/") for d in self._index_rels)

    def _dir(self, reldir: str) -> tuple[bool, _Chain]:
        """Whether a directory is ignored (itself or an ancestor), and the rules inside it."""
        known = self._dirs.get(reldir)
        if known is not None:
            return known
        if reldir:
            parent_ignored, chain = self._dir(reldir.rpartition("/")[0])
            ignored = parent_ignored or self._decide(chain, reldir, True)
        else:
            ignored, chain = False, ()
        if not ignored:  # like the walk, never read rules inside an ignored directory
            spec = self._spec(reldir)
            if spec is not None:
                chain = (*chain, (reldir, spec))
        self._dirs[reldir] = (ignored, chain)
        return ignored, chain

    def _spec(self, reldir: str) -> _Patterns | None:
        if reldir not in self._specs:
            parts = reldir.split("/") if reldir else []
            self._specs[reldir] = _load_spec(os.path.join(self._root, *parts, GITIGNORE))
        return self._specs[reldir]


def discover(
    root: Path,
    *,
    excludes: Sequence[str] = (),
    index_dir: Path | None = None,
    languages: Collection[str] | None = None,
    project_files: Callable[[str], bool] | None = None,
) -> Iterator[Found | Skip | ProjectFile]:
    """Yield the source files under ``root`` (``Found``) and what was skipped and why.

    ``excludes`` are gitignore patterns relative to the root; ``index_dir`` (absolute, or
    relative to the root; default ``<root>/.isgraph``) is never walked; ``languages`` limits
    the languages yielded. Arguments and the root are checked at the call (``ValueError``,
    ``TypeError``, ``OSError``); the walk itself is lazy: nothing is listed before the first
    ``next()``, and each ``next()`` lists at most the directories it needs.
    ``project_files(name)``: also yield the files it accepts as ``ProjectFile`` (in every
    directory walked, ignored or not: extraction reads them whatever the ignore rules say).
    """
    wanted: frozenset[str] | None = None
    if languages is not None:
        if isinstance(languages, str):
            raise TypeError("languages must be a collection of names, not one string")
        wanted = frozenset(languages)
        if unknown := wanted - LANGUAGES:
            raise ValueError(f"unknown languages: {', '.join(sorted(unknown))}")
    rules = IgnoreRules(root, excludes=excludes, index_dir=index_dir)
    root_stat = os.stat(rules.root)
    if not stat.S_ISDIR(root_stat.st_mode):
        raise NotADirectoryError(f"not a directory: {root}")
    return _Walk(rules, wanted, project_files).run(root_stat)


@dataclass(slots=True)
class _Frame:
    rel: str
    chain: _Chain
    entries: list[os.DirEntry[str]]
    pos: int = 0


class _Walk:
    def __init__(
        self,
        rules: IgnoreRules,
        languages: frozenset[str] | None,
        project_files: Callable[[str], bool] | None = None,
    ) -> None:
        self.rules = rules
        self.project_files = project_files
        self.root = rules._root
        self.languages = languages
        self.visited: dict[_Key, str] = {}  # every directory walked -> the path it was walked at

    def language(self, name: str) -> str | None:
        language = language_for(name)
        if language is None or (self.languages is not None and language not in self.languages):
            return None
        return language

    def _is_project_file(self, name: str) -> bool:
        return self.project_files is not None and self.project_files(name)

    def run(self, root_stat: os.stat_result) -> Iterator[Found | Skip | ProjectFile]:
        entries = _listdir(self.root)  # the root's errors propagate
        self.visited[_key(root_stat, self.root)] = ""
        stack = [_Frame("", self._chain((), "", self.root, entries), entries)]
        decide = self.rules._decide
        while stack:
            frame = stack[-1]
            if frame.pos == len(frame.entries):
                stack.pop()
                continue
            entry = frame.entries[frame.pos]
            frame.pos += 1
            name = entry.name
            if name in ALWAYS_SKIPPED:
                continue
            rel = f"{frame.rel}/{name}" if frame.rel else name
            try:
                if entry.is_symlink():
                    item = self._link(entry, rel, frame.chain)
                elif entry.is_dir(follow_symlinks=False):
                    if decide(frame.chain, rel, True):
                        continue
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError as exc:  # vanished since the listing
                        item = _skip(rel, f"cannot list directory: {_why(exc)}")
                    else:
                        item = self._enter(rel, entry.path, st, frame)
                else:
                    language = self.language(name)
                    if language is None:
                        if self._is_project_file(name) and entry.is_file(follow_symlinks=False):
                            yield ProjectFile(rel, entry.path)
                        continue
                    if decide(frame.chain, rel, False):
                        continue
                    if entry.is_file(follow_symlinks=False):
                        item = _found(rel, entry.path, language)
                    elif os.path.lexists(entry.path):
                        item = _skip(rel, "not a regular file")
                    else:
                        continue  # vanished since the listing: nothing to index
            except OSError as exc:
                item = _skip(rel, f"cannot read: {_why(exc)}")
            if isinstance(item, _Frame):
                stack.append(item)
            elif item is not None:
                yield item

    def _enter(
        self, rel: str, path: str, st: os.stat_result, parent: _Frame, link: bool = False
    ) -> _Frame | Skip:
        """The frame for a directory about to be walked, or why it is not."""
        key = _key(st, path)
        seen = self.visited.get(key)
        if seen is not None:
            if seen == "" or rel.startswith(seen + "/"):
                kind = "symlink loop" if link else "directory loop"
                return _skip(rel, f"{kind}: leads back to {seen or '.'}")
            return _skip(rel, f"already visited via {seen}")
        try:
            entries = _listdir(path)
        except OSError as exc:
            return _skip(rel, f"cannot list directory: {_why(exc)}")
        self.visited[key] = rel
        return _Frame(rel, self._chain(parent.chain, rel, path, entries), entries)

    def _chain(self, chain: _Chain, rel: str, path: str, entries: list[os.DirEntry[str]]) -> _Chain:
        if any(e.name == GITIGNORE for e in entries):
            spec = _load_spec(os.path.join(path, GITIGNORE))
            if spec is not None:
                return (*chain, (rel, spec))
        return chain

    def _link(
        self, entry: os.DirEntry[str], rel: str, chain: _Chain
    ) -> Found | Skip | _Frame | None:
        path = entry.path
        language = self.language(entry.name)
        try:
            st = os.stat(path)
        except OSError as exc:  # dangling, or links that loop among themselves
            if language is None or self.rules._decide(chain, rel, False):
                return None
            return _skip(rel, f"broken symlink: {_why(exc)}")
        is_dir = stat.S_ISDIR(st.st_mode)
        if (not is_dir and language is None) or self.rules._decide(chain, rel, is_dir):
            return None
        target = os.path.realpath(path)
        if target == self.root:
            target_rel = ""
        elif target.startswith(self.root + os.sep):
            target_rel = target[len(self.root) + 1 :].replace(os.sep, "/")
        else:
            return _skip(rel, f"symlink points outside the workspace: {target}")
        if self.rules._private(target_rel):
            return _skip(rel, f"symlink into a directory never indexed: {target_rel}")
        if not is_dir:
            if not stat.S_ISREG(st.st_mode):
                return _skip(rel, "not a regular file")
            assert language is not None
            return _found(rel, path, language)
        seen = self.visited.get(_key(st, target))
        if seen is None and not self.rules.is_ignored(target_rel, is_dir=True):
            # The walk reaches (or reached) it at its real path: index it there, once.
            return _skip(rel, f"symlink to {target_rel}, indexed at its real path")
        parent = _Frame(rel.rpartition("/")[0], chain, [])
        return self._enter(rel, path, st, parent, link=True)


def _listdir(path: str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as it:  # read it all and close: no descriptor held across yields
        entries = list(it)
    entries.sort(key=_by_name)
    return entries


def _key(st: os.stat_result, path: str) -> _Key:
    return (st.st_dev, st.st_ino) if st.st_ino else os.path.realpath(path)


def _found(rel: str, path: str, language: str) -> Found | Skip:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in a name (os.fsdecode's surrogates)
        return _skip(rel, "file name is not valid UTF-8")
    return Found(rel, path, language)


def _skip(rel: str, reason: str) -> Skip:
    # Reports are JSON: keep undecodable bytes of a name visible but encodable.
    return Skip(rel.encode("utf-8", "backslashreplace").decode("utf-8"), reason)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _Patterns:
    """One rules file (or the configured excludes), compiled by pathspec's ``GitIgnoreSpec``.

    ``GitIgnoreSpec.check_file`` answers for a whole path, folding in its parent directories
    with pathspec's own priorities, which differs from git once directories are pruned (as
    git does and this walk must): it calls ``a/`` ignored under ``*`` + ``!*/`` + ``!*.py``
    and keeps ``build/keep.py`` under ``build/`` + ``!build/keep.py``. So each compiled
    pattern is asked whether it matches the path itself, and git's rule decides: the last
    matching pattern wins.
    """

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[re.Pattern[str], bool]]) -> None:
        self._items = items  # (regex, ignore?) in reverse order: the first match wins

    def verdict(self, probe: str, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included (``!``), None if no pattern matches."""
        for regex, include in self._items:
            if _matches_itself(regex, probe, is_dir):
                return include
        return None


def _matches_itself(regex: re.Pattern[str], probe: str, is_dir: bool) -> bool:
    """Whether a pathspec pattern matches the path itself, not only a parent directory.

    pathspec compiles a pattern to a regex anchored at the start (``^``) that ends with the
    directory mark (a ``/`` that matches a directory and lets everything inside it match),
    with that mark optional, or as a plain prefix (``x/**``, which matches what is inside x);
    ``*``, ``**``, ``*/`` and ``**/`` have shortcut regexes that match any path or any
    directory. ``probe`` ends with ``/`` for a directory.
    """
    if regex.pattern.startswith("^"):
        if regex.fullmatch(probe) is not None:
            return True
        if _DIR_MARK in regex.groupindex:
            return False  # only a parent directory matched
        found = regex.search(probe)  # a prefix pattern: must leave something inside
        return found is not None and found.end() < len(probe)
    return regex.search(probe) is not None and (is_dir or _DIR_MARK not in regex.groupindex)


def _compile(lines: list[str]) -> _Patterns | None:
    lines = [_trailing_globstar(line) for line in lines]
    try:
        patterns = list(GitIgnoreSpec.from_lines(lines).patterns)
    except (ValueError, re.error):  # git skips a bad pattern; do the same, line by line
        patterns = []
        for line in lines:
            try:
                patterns.extend(GitIgnoreSpec.from_lines([line]).patterns)
            except (ValueError, re.error):
                continue
    items = [
        (_without_tail(p.regex), bool(p.include))
        for p in reversed(patterns)
        if p.include is not None and p.regex is not None
    ]
    return _Patterns(items) if items else None


# pathspec 0.12 lets the directory mark swallow the rest of the path ("/.*"); 1.x ends the
# regex there (and matches with search). Bring 0.12's to 1.x's form, which _matches_itself reads.
_TAILS_012 = (
    (f"(?:(?P<{_DIR_MARK}>/).*)?$", f"(?:(?P<{_DIR_MARK}>/)|$)"),
    (f"(?P<{_DIR_MARK}>/).*$", f"(?P<{_DIR_MARK}>/)"),
)


def _without_tail(regex: re.Pattern[str]) -> re.Pattern[str]:
    for tail, replacement in _TAILS_012:
        if regex.pattern.endswith(tail):
            return re.compile(regex.pattern[: -len(tail)] + replacement, regex.flags)
    return regex


def _trailing_globstar(line: str) -> str:
    """Work around pathspec reading ``x/**`` (and ``x/**/``) as matching the directory ``x``
    itself: git matches only what is inside (``x/**`` + ``!x/keep.py`` keeps ``x/keep.py``).
    By git's definition ``x/**`` is ``x/**/*`` (and ``x/**/`` is ``x/**/*/``), which pathspec
    reads right."""
    body = line.rstrip(" ")
    if body.endswith("/**"):
        return body + "/*"
    if body.endswith("/**/"):
        return body + "*/"
    return line


def _load_spec(path: str) -> _Patterns | None:
    """An ignore file's compiled patterns; None if it is missing, unreadable, a symlink (git
    does not follow those either) or holds no patterns."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW)
    except OSError:
        return None
    try:
        with open(fd, "rb") as f:
            data = f.read()
    except OSError:  # e.g. a directory named .gitignore
        return None
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    return _compile([line.removesuffix("\r") for line in text.split("\n")])


def _index_rels(given_root: str, real_root: str, index_dir: Path | str | None) -> frozenset[str]:
    """The index directory's path(s) relative to the root: as written, and its real path."""
    if index_dir is None:
        return frozenset({DEFAULT_INDEX_DIR})
    written = os.path.join(given_root, index_dir)  # an absolute index_dir stays as it is
    rels: set[str] = set()
    for path, base in (
        (os.path.abspath(written), given_root),
        (os.path.realpath(written), real_root),
    ):
        rel = os.path.relpath(path, base)
        if rel != os.curdir and rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            rels.add(rel.replace(os.sep, "/"))
    return frozenset(rels)


def _normalize(relpath: str) -> str | None:
    """``relpath`` as a clean root-relative POSIX path; "" for the root, None if outside."""
    if relpath.startswith("/"):
        raise ValueError(f"expected a path relative to the root: {relpath!r}")
    rel = posixpath.normpath(relpath)
    if rel == ".":
        return ""
    if rel == ".." or rel.startswith("../"):
        return None
    return rel
