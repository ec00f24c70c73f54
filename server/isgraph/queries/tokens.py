"""Token estimates for budgets, without a tokenizer.

tiktoken downloads its encodings at first use (and this project runs offline), and a
budget only needs an upper-leaning estimate: hosts reject a tool result that is too long,
so over-counting a little is safe and under-counting is not. Byte-pair encoders spend about
one token per 3.5-4 bytes of code or English and one per punctuation mark in JSON; the
estimate takes the larger of bytes / 3 and the count of words plus punctuation marks.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

_PIECES = re.compile(r"\w+|[^\w\s]")
_CHUNK = 16  # items `fit` measures at once while it drops the tail of a page


def estimate_tokens(text: str) -> int:
    """An estimate of the tokens a BPE tokenizer makes of ``text``, leaning high."""
    if not text:
        return 0
    return max(
        math.ceil(len(text.encode("utf-8", "surrogatepass")) / 3), len(_PIECES.findall(text))
    )


def json_tokens(value: object) -> int:
    """`estimate_tokens` of ``value`` as compact JSON (as a tool result carries it)."""
    return estimate_tokens(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def fit(record: dict[str, Any], max_tokens: int) -> bool:
    """Cut ``record`` (a JSON answer) to about ``max_tokens``: items are dropped from the end
    of its longest innermost page (any ``{"items": [...], "truncated": ...}`` inside it
    holding no page with items itself: a target's callers go before the target), which is
    then marked truncated; when no page has items left, the longest string is halved. True when
    anything was cut. Pages keep their ``total``, so the answer still says how much there
    was."""
    pages = list(_pages(record))
    cut = False
    while (size := json_tokens(record)) > max_tokens:
        full = [p for p in pages if p["items"]]
        if full:
            leaves = [p for p in full if not any(q["items"] for q in _pages(p["items"]))]
            page = max(leaves or full, key=lambda p: len(p["items"]))
            # drop about the excess at once, then measure again: a few passes, not one per
            # item. The tail is measured a chunk at a time (a chunk's tokens are about its
            # items' plus one per separator), the last chunk item by item: one estimate per
            # ~16 items instead of one each (600 of them for a 20k-token impact answer).
            excess, dropped = size - max_tokens, 0
            items = page["items"]
            while items and dropped < excess:
                k = min(_CHUNK, len(items))
                chunk = json_tokens(items[-k:]) if k > 1 else excess + 1
                if dropped + chunk <= excess:
                    del items[-k:]
                    dropped += chunk
                else:
                    dropped += json_tokens(items.pop()) + 1
            page["truncated"] = True
            page.pop("cursor", None)
            cut = True
            continue
        found = _longest_string(record)
        if found is None or len(found[0][found[1]]) < 64:
            break
        holder, key = found
        text = holder[key]
        holder[key] = text[: len(text) // 2] + "\n…"
        cut = True
    return cut


def _pages(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if isinstance(value.get("items"), list) and "truncated" in value:
            yield value
        for v in value.values():
            yield from _pages(v)
    elif isinstance(value, list):
        for v in value:
            yield from _pages(v)


def _longest_string(value: Any) -> tuple[Any, Any] | None:
    best: tuple[Any, Any] | None = None
    size = -1
    stack = [value]
    while stack:
        v = stack.pop()
        pairs = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
        for k, x in pairs:
            if isinstance(x, str) and len(x) > size:
                best, size = (v, k), len(x)
            elif isinstance(x, (dict, list)):
                stack.append(x)
    return best
