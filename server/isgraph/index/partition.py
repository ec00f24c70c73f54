"""Which shard owns a file (``isgraph index --shard I/N``); see ``index/shard.py``."""

from __future__ import annotations

import hashlib


class ShardError(ValueError):
    """A malformed ``--shard`` value."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 1 <= I <= N."""
    i_s, sep, n_s = text.partition("/")
    try:
        i, n = int(i_s), int(n_s)
    except ValueError:
        i = n = 0
    if not sep or n < 1 or not 1 <= i <= n:
        raise ShardError(f"--shard must be I/N with 1 <= I <= N (e.g. 2/4), got {text!r}")
    return i, n


def shard_of(relpath: str, shards: int) -> int:
    """The shard (1-based) owning ``relpath`` among ``shards``."""
    digest = hashlib.blake2b(relpath.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards + 1


def in_shard(relpath: str, shard: tuple[int, int] | None) -> bool:
    return shard is None or shard_of(relpath, shard[1]) == shard[0]
