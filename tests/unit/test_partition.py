"""Shard ownership: a pure, process-independent function of the path."""

from __future__ import annotations

import subprocess
import sys

import pytest

from isgraph.index.partition import ShardError, in_shard, parse_shard, shard_of


def test_every_path_has_exactly_one_owner_and_shards_are_balanced() -> None:
    paths = [f"pkg/mod{i}.py" for i in range(4000)]
    for n in (1, 2, 3, 4, 7):
        owners = [shard_of(p, n) for p in paths]
        assert set(owners) == set(range(1, n + 1))
        assert min(owners.count(i) for i in range(1, n + 1)) > len(paths) / n * 0.85
        for p, o in zip(paths[:50], owners, strict=False):
            assert [i for i in range(1, n + 1) if in_shard(p, (i, n))] == [o]
    assert in_shard("anything.py", None)


def test_the_same_in_another_process() -> None:
    """Python's own hash() is salted per process; shard_of must not be."""
    code = "from isgraph.index.partition import shard_of; print(shard_of('a/b.py', 5))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert int(other.stdout) == shard_of("a/b.py", 5)


def test_parse_shard() -> None:
    assert parse_shard("2/4") == (2, 4) and parse_shard("1/1") == (1, 1)
    for bad in ("0/2", "3/2", "x", "1/0", "1/", "/2", "1-2"):
        with pytest.raises(ShardError, match="I/N"):
            parse_shard(bad)
