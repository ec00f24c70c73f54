"""Source text of entities, read from the workspace (never from outside it), and positions
in it: where an entity's name is, UTF-16 (LSP) and UTF-8 (tree-sitter) columns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from isgraph.model import Entity, is_external


def file_lines(root: Path, path: str) -> list[str] | None:
    """The lines of a workspace file; None for a stub or a file that cannot be read or leads
    out of the root (as discovery, never followed)."""
    if is_external(path):
        return None
    try:
        real = (root / path).resolve()
        if not real.is_relative_to(root.resolve()) or not real.is_file():
            return None
        with open(real, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return None


def read_lines(root: Path, entity: Entity, max_lines: int) -> tuple[str, bool] | None:
    """The entity's lines (at most ``max_lines``) and whether they were cut; None for a stub
    or a file that cannot be read or leads out of the root (as discovery, never followed).
    Lines are the index's: while the file has an edit pending they may be off."""
    lines = file_lines(root, entity.path)
    if lines is None:
        return None
    start = max(entity.start_line - 1, 0)
    end = max(entity.end_line, start + 1)
    cut = end - start > max_lines
    return "\n".join(lines[start : start + max_lines if cut else end]), cut


def name_position(lines: Sequence[str], e: Entity) -> tuple[int, int] | None:
    """(0-based line, UTF-16 character) of the entity's name at its definition: the first
    whole-word occurrence from the entity's start (``def NAME``, ``class NAME``, ``int NAME(``),
    looking at most 5 lines down (a long decorator-free signature head)."""
    if e.kind == "module" or not e.name or e.start_line < 1:
        return None
    word = re.compile(rf"(?<![\w$]){re.escape(e.name)}(?![\w$])")
    for n in range(e.start_line - 1, min(len(lines), e.end_line, e.start_line + 4)):
        line = lines[n]
        start = 0
        if n == e.start_line - 1:  # the column is in UTF-8 bytes, as tree-sitter counts
            start = len(line.encode()[: e.start_col].decode(errors="ignore"))
        found = word.search(line, start)
        if found:
            return n, utf16_len(line[: found.start()])
    return None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (LSP's default position encoding)."""
    return len(text.encode("utf-16-le")) // 2


def char_index(line: str, utf16: int) -> int:
    """The ``str`` index of a UTF-16 position within a line."""
    units = 0
    for i, ch in enumerate(line):
        if units >= utf16:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def byte_to_index(line: str, col: int) -> int:
    """The ``str`` index of a UTF-8 byte column (tree-sitter's) within a line."""
    return len(line.encode()[:col].decode(errors="ignore"))
