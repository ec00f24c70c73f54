"""`Page`: every list the query layer returns says how much there was and whether it was cut.

Agents' hosts reject over-long tool results and editors show what they get: a front must be
able to say "20 of 143" instead of silently showing 20. A page is the one place that rule
lives (``total``, ``truncated``, and an offset ``cursor`` where paging makes sense).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(slots=True, frozen=True)
class Page(Generic[T]):
    """One page of a longer list.

    ``truncated``: items follow this page (``cursor`` fetches them). ``total`` counts every
    item there was; when ``total_exact`` is False it is a lower bound
    (a ranked search stops looking once it has more than a page). ``cursor`` is the offset
    of the next page, None on the last one."""

    items: list[T]
    total: int
    truncated: bool
    cursor: int | None = None
    total_exact: bool = True

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        items = [fn(x) for x in self.items]
        return Page(items, self.total, self.truncated, self.cursor, self.total_exact)

    def record(self, fn: Callable[[T], Any]) -> dict[str, Any]:
        """The page as JSON: ``{"items": [...], "total", "truncated", "cursor"?}``."""
        out: dict[str, Any] = {
            "items": [fn(x) for x in self.items],
            "total": self.total,
            "truncated": self.truncated,
        }
        if self.cursor is not None:
            out["cursor"] = self.cursor
        if not self.total_exact:
            out["total_is_lower_bound"] = True
        return out


def paginate(items: Sequence[T], limit: int | None = None, cursor: int = 0) -> Page[T]:
    """``items[cursor : cursor + limit]`` as a page of all of ``items`` (``limit`` None: all)."""
    if cursor < 0:
        raise ValueError(f"cursor must be >= 0, got {cursor}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    end = len(items) if limit is None else min(len(items), cursor + limit)
    more = end < len(items)
    return Page(list(items[cursor:end]), len(items), more, end if more else None)
