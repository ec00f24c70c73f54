"""The distinct entity names of a store, arranged so that ranked search never scans them all.

`NameIndex.ranked` returns the best-ranked names for a query in the tiers `store.ranking`
defines (exact, prefix, substring, camel-hump, subsequence), whole (tier, length) groups until
they hold ``limit`` entities. The names live in buckets by length, each sorted, so:

- exact: one dict lookup;
- prefix: one bisection per length, shortest first, stopping at the first length at which
  ``limit`` entities are reached (a 2-letter prefix of a common word stops after a few lengths
  instead of sorting thousands of names);
- substring: `str.find` over one newline-joined string per length (C speed); every line of a
  bucket has the same length, so a hit's name is found by arithmetic, and the scan also stops
  at the first length that completes ``limit``;
- camel-hump and subsequence: only when the tiers above hold fewer than ``limit`` entities, by
  one regular-expression pass over all names.

Immutable once built: `patched` returns a new index sharing what a write did not touch, so a
search running in another thread always sees one consistent version.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from isgraph.store import ranking

Ranked = tuple[int, int, str, int]  # tier, length, name, entity count


def one_line(name: object) -> str:
    """A name as the index holds it: one line, no tabs (its separators)."""
    return str(name).replace("\n", " ").replace("\t", " ")


class NameIndex:
    """Entity counts per distinct name, with the lookup structures of `ranked`."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts: dict[str, int] = {one_line(n): c for n, c in counts.items() if c > 0}
        originals: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for name in sorted(self.counts):
            originals[name.lower()].append((name, self.counts[name]))
        self._originals = dict(originals)
        buckets: dict[int, list[str]] = defaultdict(list)
        for low in self._originals:
            buckets[len(low)].append(low)
        self._buckets = {n: sorted(b) for n, b in buckets.items()}
        self._init_derived()

    def _init_derived(self) -> None:
        self._lengths = sorted(self._buckets)
        self._joined: dict[int, str] = {}  # length -> its bucket, one name a line (lazy)
        self._all: str | None = None  # every lowercase name, one a line, for regexes (lazy)

    def __len__(self) -> int:
        return len(self.counts)

    def __eq__(self, other: object) -> bool:
        """Same names, counts and lookup structures (a patched index equals a rebuilt one)."""
        if not isinstance(other, NameIndex):
            return NotImplemented
        return (self.counts, self._originals, self._buckets) == (
            other.counts,
            other._originals,
            other._buckets,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: compared, never hashed

    # -- updates -------------------------------------------------------------------------------
    def patched(self, delta: Mapping[str, int]) -> NameIndex:
        """A new index with each name's entity count changed by ``delta[name]``."""
        counts = dict(self.counts)
        touched: dict[str, set[str]] = defaultdict(set)  # lowercase -> spellings to recheck
        for raw, change in delta.items():
            name = one_line(raw)
            if not change:
                continue
            left = counts.get(name, 0) + change
            if left > 0:
                counts[name] = left
            else:
                counts.pop(name, None)
            touched[name.lower()].add(name)
        new = NameIndex.__new__(NameIndex)
        new.counts = counts
        new._originals = dict(self._originals)
        new._buckets = dict(self._buckets)
        for length in {len(low) for low in touched}:
            bucket = set(new._buckets.get(length, ()))
            for low, names in touched.items():
                if len(low) != length:
                    continue
                names |= {n for n, _ in self._originals.get(low, ())}
                spellings = sorted((n, counts[n]) for n in names if n in counts)
                if spellings:
                    new._originals[low] = spellings
                    bucket.add(low)
                else:
                    new._originals.pop(low, None)
                    bucket.discard(low)
            if bucket:
                new._buckets[length] = sorted(bucket)
            else:
                new._buckets.pop(length, None)
        new._init_derived()
        return new

    # -- search --------------------------------------------------------------------------------
    def ranked(self, q: str, limit: int) -> list[Ranked]:
        """(tier, length, name, entity count) of the names matching ``q`` (lowercase), sorted,
        in whole (tier, length) groups until they hold at least ``limit`` entities (or all)."""
        if not q or limit <= 0 or "\n" in q or "\t" in q:
            return []
        out: list[Ranked] = [(0, len(n), n, c) for n, c in self._originals.get(q, ())]
        total = sum(r[3] for r in out)
        if total >= limit:
            return sorted(out)
        longer = self._lengths[bisect.bisect_right(self._lengths, len(q)) :]
        for tier, matches in ((1, self._prefixed), (2, self._containing)):
            for length in longer:
                group = [
                    (tier, len(n), n, c)
                    for low in matches(q, length)
                    for n, c in self._originals[low]
                ]
                if group:
                    out += group
                    total += sum(r[3] for r in group)
                    if total >= limit:
                        return sorted(out)
        # A query at least as long as every name is no subsequence of any (but itself): skipping
        # it also keeps a hostile multi-megabyte query from compiling a gigantic regex.
        if longer:
            out += self._subsequences(q)
        return sorted(out)

    def _prefixed(self, q: str, length: int) -> Iterable[str]:
        bucket = self._buckets[length]
        i = bisect.bisect_left(bucket, q)
        while i < len(bucket) and bucket[i].startswith(q):
            yield bucket[i]
            i += 1

    def _containing(self, q: str, length: int) -> Iterable[str]:
        """Names of this length that contain ``q`` but do not start with it."""
        joined = self._joined.get(length)
        if joined is None:
            joined = self._joined[length] = "\n".join(self._buckets[length]) + "\n"
        bucket, step = self._buckets[length], length + 1
        pos = joined.find(q)
        while pos != -1:
            line = pos // step
            if not bucket[line].startswith(q):  # else a prefix match: tier 1 has it
                yield bucket[line]
            pos = joined.find(q, (line + 1) * step)

    def _subsequences(self, q: str) -> list[Ranked]:
        """Camel-hump (tier 3) and plain subsequence (tier 4) matches that are not substrings."""
        if self._all is None:
            self._all = "\n".join(self._originals)
        # Possessive gaps that skip to the next wanted letter match in linear time (lazy gaps
        # backtracked: 90 ms p50, 430 ms worst on 176k names).
        body = "".join(f"[^{re.escape(ch)}\n]*+{re.escape(ch)}" for ch in q)
        humps = _humps_pattern(q)
        out: list[Ranked] = []
        for m in re.finditer(f"^{body}[^\n]*", self._all, re.M):
            low = m.group(0)
            if q not in low:  # substring matches are ranked already
                # every camel-hump match is a subsequence match: only these are tried
                out += [
                    (3 if humps is not None and humps.match(_word_line(n)) else 4, len(n), n, c)
                    for n, c in self._originals[low]
                ]
        return out


def _humps_pattern(q: str) -> re.Pattern[str] | None:
    """A regex matching the "word word" line (`_word_line`) of a name that camel-hump matches
    ``q`` (see `ranking.humps`): the first letter starts a word; each next letter continues
    the word or starts a later one."""
    if not q.isalnum() or not q.isascii():  # words are letters and digits only
        return None
    steps = "".join(f"(?:{ch}|[^\n]* {ch})" for ch in q[1:])
    return re.compile(f"(?:[^\n]* )?{q[0]}{steps}")


@functools.lru_cache(maxsize=65536)
def _word_line(name: str) -> str:
    return " ".join(ranking.WORD.findall(name)).lower()
