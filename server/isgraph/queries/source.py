"""Source text of entities, read from the workspace (never from outside it)."""

from __future__ import annotations

from pathlib import Path

from isgraph.model import Entity, is_external


def read_lines(root: Path, entity: Entity, max_lines: int) -> tuple[str, bool] | None:
    """The entity's lines (at most ``max_lines``) and whether they were cut; None for a stub
    or a file that cannot be read or leads out of the root (as discovery, never followed).
    Lines are the index's: while the file has an edit pending they may be off."""
    if is_external(entity.path):
        return None
    try:
        real = (root / entity.path).resolve()
        if not real.is_relative_to(root.resolve()):
            return None
        with open(real, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    start = max(entity.start_line - 1, 0)
    end = max(entity.end_line, start + 1)
    cut = end - start > max_lines
    return "\n".join(lines[start : start + max_lines if cut else end]), cut
