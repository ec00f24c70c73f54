"""`NameIndex`: its ranked answer equals ranking every name by brute force, a patched
index equals one built from the new counts, and a saved index loads back equal."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isgraph.store import names as names_module
from isgraph.store import ranking
from isgraph.store.names import NameIndex

names = st.text(alphabet="abAB_x1", min_size=1, max_size=7)
counts = st.dictionaries(names, st.integers(min_value=1, max_value=5), max_size=40)
queries = st.text(alphabet="abAB_x1", min_size=1, max_size=4)


def brute(index_counts: dict[str, int], q: str) -> list[tuple[int, int, str, int]]:
    out = []
    for name, count in index_counts.items():
        t = ranking.tier(name, q)
        if t is not None:
            out.append((t, len(name), name, count))
    return sorted(out)


@settings(max_examples=400, deadline=None)
@given(counts, queries, st.integers(min_value=1, max_value=12))
def test_ranked_takes_what_brute_force_takes(c: dict[str, int], query: str, limit: int) -> None:
    q = query.lower()
    got = NameIndex(c).ranked(q, limit)
    assert got == sorted(got)
    assert ranking.take(got, limit) == ranking.take(brute(c, q), limit)
    # whole groups only, and no more groups than needed
    assert set(got) <= set(brute(c, q))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(alphabet="abAB_xz1\u00e9", min_size=1, max_size=9), st.just(1)),
    st.text(alphabet="abxz1\u00e9", min_size=1, max_size=4),
)
def test_subsequences_from_the_rare_letters_lines_equal_a_full_pass(
    c: dict[str, int], q: str
) -> None:
    """The subsequence pass over only the lines holding the query's rarest letter finds what
    the pass over every name finds."""
    index = NameIndex(c)
    saved = names_module.RARE_LINES
    try:
        names_module.RARE_LINES = 10**9  # never rare: every line
        full = index._subsequences(q)
        names_module.RARE_LINES = 1  # always rare: only the lines of the letter picked
        picked = index._subsequences(q)
    finally:
        names_module.RARE_LINES = saved
    assert sorted(picked) == sorted(full)


@settings(max_examples=300, deadline=None)
@given(counts, st.dictionaries(names, st.integers(min_value=-6, max_value=4), max_size=12))
def test_patched_equals_rebuilt(c: dict[str, int], delta: dict[str, int]) -> None:
    after = Counter(c)
    for name, change in delta.items():
        after[name] += change
    rebuilt = NameIndex({n: k for n, k in after.items() if k > 0})
    base = NameIndex(c)
    for q in ("a", "x", "ab", "b_"):  # fill its caches (joined buckets): a patch keeps some
        base.ranked(q, 100)
    patched = base.patched(delta)
    assert patched == rebuilt
    for q in ("a", "x", "ab", "b_", "1"):
        assert patched.ranked(q, 100) == rebuilt.ranked(q, 100), q


def test_examples() -> None:
    index = NameIndex({"parse": 2, "Parser": 1, "parse_args": 1, "sparse": 1, "pagesize": 1})
    # exact, prefixes shortest first, substring; "pagesize" has no "r": no match at all
    assert [n for _, _, n, _ in index.ranked("parse", 20)] == [
        "parse",
        "Parser",
        "parse_args",
        "sparse",
    ]
    assert index.ranked("parse", 2) == [(0, 5, "parse", 2)]  # the first group holds 2
    assert index.ranked("pgsz", 5) == [(4, 8, "pagesize", 1)]
    assert index.ranked("", 5) == [] and index.ranked("a\nb", 5) == []
    assert index.ranked("p" * 100, 5) == []  # longer than every name: no regex at all


@settings(max_examples=200, deadline=None)
@given(counts, queries, st.integers(min_value=1, max_value=12))
def test_saved_index_loads_equal(
    tmp_path_factory: pytest.TempPathFactory, c: dict[str, int], query: str, limit: int
) -> None:
    """What `save` writes, `load` reads back equal, answering the same."""
    path = tmp_path_factory.mktemp("names") / "index.db-names"
    built = NameIndex(c)
    built.save(path, "g1")
    loaded = NameIndex.load(path, "g1")
    assert loaded == built and loaded.counts == built.counts
    q = query.lower()
    assert loaded.ranked(q, limit) == built.ranked(q, limit)


def _write_checked(path: Path, doc: object) -> None:
    """A saved index as `save` writes it (checksum line, then the JSON), with any content."""
    body = json.dumps(doc).encode()
    path.write_bytes(b"%08x\n" % zlib.crc32(body) + body)


def test_saved_index_of_another_generation_or_malformed_is_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "index.db-names"
    assert NameIndex.load(path, "g1") is None  # none saved
    NameIndex({"parse": 2, "Parse": 1, "x": 1}).save(path, "g1")
    assert NameIndex.load(path, "g2") is None
    head, _, body = path.read_bytes().partition(b"\n")
    doc = json.loads(body)
    assert NameIndex.load(path, "g1") is not None
    # Damaged: the checksum no longer matches (a spelling that is not a count, a flipped
    # byte, the JSON alone without its checksum line).
    damaged = body.replace(b"Parse\\t1", b"Parse\\tone")
    assert damaged != body
    for bad_bytes in (head + b"\n" + damaged, head + b"\n" + body[:-1] + b"]", body):
        path.write_bytes(bad_bytes)
        assert NameIndex.load(path, "g1") is None, bad_bytes
    # Checksummed but malformed: the buckets' shape is checked too.
    bad_docs = [
        {**doc, "format": 0},
        {**doc, "buckets": {**doc["buckets"], "5": "parse\nshort"}},  # not fixed width
        {**doc, "spells": {**doc["spells"], "5": "Parse\t1\nparse\t2"}},  # 2 lines for 1 name
        {**doc, "spells": {"1": doc["spells"]["1"]}},  # a bucket without spellings
        {**doc, "buckets": []},
    ]
    for bad in bad_docs:
        _write_checked(path, bad)
        assert NameIndex.load(path, "g1") is None, bad
    _write_checked(path, doc)
    assert NameIndex.load(path, "g1") is not None  # the helper writes what `save` does
    path.write_text("{not json")
    assert NameIndex.load(path, "g1") is None
