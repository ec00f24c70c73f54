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

_PIECES = re.compile(r"\w+|[^\w\s]")


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
