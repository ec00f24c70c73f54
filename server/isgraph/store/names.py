"""The distinct entity names of a store, arranged so that ranked search never scans them all.

`NameIndex.ranked` returns the best-ranked names for a query in the tiers `store.ranking`
defines (exact, prefix, substring, camel-hump, subsequence), whole (tier, length) groups until
they hold ``limit`` entities. The names live in buckets by length, each sorted, so:

- exact: one bisection in the query's length;
- prefix: one bisection per length, shortest first, stopping at the first length at which
  ``limit`` entities are reached (a 2-letter prefix of a common word stops after a few lengths
  instead of sorting thousands of names);
- substring: `str.find` over one newline-joined string per length (C speed); every line of a
  bucket has the same length, so a hit's name is found by arithmetic, and the scan also stops
  at the first length that completes ``limit``;
- camel-hump and subsequence: only when the tiers above hold fewer than ``limit`` entities, by
  one regular-expression pass over all names.

Each bucket is a sorted list of lowercase names and a parallel list of their spellings
("Name\\tcount", several tab-joined when names differ only in case): plain strings, so the
index is saved as a small JSON document and loaded in milliseconds (`save` / `load`), where
building it from the store costs a scan of every entity (~300 ms on the stdlib). A one-shot
query process (the CLI) reads the saved copy instead of the store's names.

Immutable once built: `patched` returns a new index sharing what a write did not touch, so a
search running in another thread always sees one consistent version.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import os
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from isgraph.store import ranking

log = logging.getLogger(__name__)

Ranked = tuple[int, int, str, int]  # tier, length, name, entity count
FORMAT = 2  # of a saved index: bumped when the document's shape changes
SUFFIX = "-names"  # the saved index of an embedded store lives beside it: PATH-names


def one_line(name: object) -> str:
    """A name as the index holds it: one line, no tabs (its separators)."""
    return str(name).replace("\n", " ").replace("\t", " ")


class NameIndex:
    """Entity counts per distinct name, with the lookup structures of `ranked`."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        kept: dict[str, int] = {one_line(n): c for n, c in counts.items() if c > 0}
        spellings: dict[str, list[str]] = defaultdict(list)  # lowercase -> "Name\tcount"
        for name in sorted(kept):
            spellings[name.lower()].append(f"{name}\t{kept[name]}")
        by_length: dict[int, list[str]] = defaultdict(list)
        for low in spellings:
            by_length[len(low)].append(low)
        buckets: dict[int, list[str]] = {}
        spells: dict[int, list[str]] = {}
        for length, lows in by_length.items():
            lows.sort()
            buckets[length] = lows
            spells[length] = ["\t".join(spellings[low]) for low in lows]
        self._set(buckets, spells, kept)

    def _set(
        self,
        buckets: Mapping[int, list[str]],
        spells: Mapping[int, list[str]],
        counts: dict[str, int] | None,
    ) -> None:
        self._buckets = buckets  # length -> sorted lowercase names of that length
        self._spells = spells  # length -> their spellings, parallel to the bucket
        self._counts = counts  # name -> entity count (derived from the spells when loaded)
        self._lengths = sorted(buckets)
        self._joined: dict[int, str] = {}  # length -> its bucket, one name a line (lazy)

    @property
    def counts(self) -> dict[str, int]:
        """Entity count per name (spelled as written)."""
        if self._counts is None:
            counts: dict[str, int] = {}
            for lines in self._spells.values():  # name, count, name, count... in one split
                parts = "\t".join(lines).split("\t")
                counts.update(zip(parts[0::2], map(int, parts[1::2]), strict=True))
            self._counts = counts
        return self._counts

    def __len__(self) -> int:
        return len(self.counts)

    def __eq__(self, other: object) -> bool:
        """Same names, counts and lookup structures (a patched index equals a rebuilt one)."""
        if not isinstance(other, NameIndex):
            return NotImplemented
        return (self._buckets, self._spells) == (other._buckets, other._spells)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: compared, never hashed

    # -- saved copy ----------------------------------------------------------------------------
    def save(self, path: Path, generation: str) -> None:
        """Write the index to ``path`` for a store at ``generation`` (atomically: a reader sees
        the old file or the new one). A failure (a read-only directory) only logs: the copy
        is a cache. The first line is the CRC-32 of the JSON document after it: `load`
        checks it instead of every spelling line (a regular expression over every line cost
        ~15 ms of a ~100 ms CLI search on the stdlib; the checksum costs ~1 ms)."""
        doc = {
            "format": FORMAT,
            "generation": generation,
            "buckets": {str(n): "\n".join(b) for n, b in self._buckets.items()},
            "spells": {str(n): "\n".join(s) for n, s in self._spells.items()},
        }
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(b"%08x\n" % zlib.crc32(body) + body)
            os.replace(tmp, path)
        except OSError as exc:
            log.info("names not saved to %s: %s", path, exc)
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, generation: str) -> NameIndex | None:
        """The index saved at ``path`` for ``generation``; None when there is none, it is of
        another generation or format, or it is damaged or malformed (checked whole, by its
        checksum and its buckets' shape: a bad copy must not fail a search later)."""
        try:
            head, _, body = path.read_bytes().partition(b"\n")
            if len(head) != 8 or int(head, 16) != zlib.crc32(body):
                return None
            doc = json.loads(body)
        except (OSError, ValueError):
            return None
        if not (
            isinstance(doc, dict)
            and doc.get("format") == FORMAT
            and doc.get("generation") == generation
        ):
            return None
        try:
            return cls._from_doc(doc["buckets"], doc["spells"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.info("names at %s ignored: %s", path, exc)
            return None

    @classmethod
    def _from_doc(cls, saved_buckets: Any, saved_spells: Any) -> NameIndex:
        """The index of a saved document, its shape checked whole without splitting it: the
        lines of a bucket are split when a search first needs them (splitting all 80k names
        and spellings of the stdlib cost more than the rest of a CLI search)."""
        buckets: dict[int, str] = {}
        spells: dict[int, str] = {}
        joins: dict[int, str] = {}
        if set(saved_buckets) != set(saved_spells):
            raise ValueError("buckets and spellings differ")
        for key, joined in saved_buckets.items():
            length, text = int(key), saved_spells[key]
            if not isinstance(joined, str) or not isinstance(text, str):
                raise ValueError(f"bucket {key} is not text")
            lines = (len(joined) + 1) // (length + 1) if length >= 0 else 0
            # every name of the bucket is `length` long: a newline after each, nothing between
            if (
                length < 0
                or len(joined) != lines * (length + 1) - 1
                or joined[length :: length + 1] != "\n" * (lines - 1)
                or text.count("\n") != lines - 1
            ):
                raise ValueError(f"bucket {length} is malformed")
            buckets[length], spells[length] = joined, text
            joins[length] = joined + "\n"
        new = cls.__new__(cls)
        new._set(_Split(buckets), _Split(spells), None)
        new._joined = joins  # as `_containing` joins them: the saved text is that already
        return new

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
        buckets, spells = dict(self._buckets), dict(self._spells)
        for length in {len(low) for low in touched}:  # (as `changed` below)
            lines = dict(zip(buckets.get(length, ()), spells.get(length, ()), strict=True))
            for low, names in touched.items():
                if len(low) != length:
                    continue
                if low in lines:
                    names |= {n for n, _ in _spelled(lines[low])}
                spelled = [f"{n}\t{counts[n]}" for n in sorted(names) if n in counts]
                if spelled:
                    lines[low] = "\t".join(spelled)
                else:
                    lines.pop(low, None)
            if lines:
                buckets[length] = sorted(lines)
                spells[length] = [lines[low] for low in buckets[length]]
            else:
                buckets.pop(length, None)
                spells.pop(length, None)
        new = NameIndex.__new__(NameIndex)
        new._set(buckets, spells, counts)
        changed = {len(low) for low in touched}
        new._joined = {n: j for n, j in self._joined.items() if n not in changed}
        return new

    # -- search --------------------------------------------------------------------------------
    def ranked(self, q: str, limit: int) -> list[Ranked]:
        """(tier, length, name, entity count) of the names matching ``q`` (lowercase), sorted,
        in whole (tier, length) groups until they hold at least ``limit`` entities (or all)."""
        if not q or limit <= 0 or "\n" in q or "\t" in q:
            return []
        out: list[Ranked] = [(0, len(n), n, c) for n, c in self._spellings(q)]
        total = sum(r[3] for r in out)
        if total >= limit:
            return sorted(out)
        longer = self._lengths[bisect.bisect_right(self._lengths, len(q)) :]
        for tier, matches in ((1, self._prefixed), (2, self._containing)):
            for length in longer:
                group = [
                    (tier, len(n), n, c)
                    for i in matches(q, length)
                    for n, c in _spelled(self._spells[length][i])
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

    def _spellings(self, low: str) -> list[tuple[str, int]]:
        """(name, count) of every spelling of the lowercase name ``low``."""
        if len(low) not in self._buckets:
            return []
        bucket = self._view(len(low))
        i = bisect.bisect_left(bucket, low)
        if i == len(bucket) or bucket[i] != low:
            return []
        return _spelled(self._spells[len(low)][i])

    def _prefixed(self, q: str, length: int) -> Iterable[int]:
        bucket = self._view(length)
        i = bisect.bisect_left(bucket, q)
        while i < len(bucket) and bucket[i].startswith(q):
            yield i
            i += 1

    def _containing(self, q: str, length: int) -> Iterable[int]:
        """Positions of the names of this length that contain ``q`` but do not start with it."""
        joined = self._joined_of(length)
        step = length + 1
        pos = joined.find(q)
        while pos != -1:
            line = pos // step
            if not joined.startswith(q, line * step):  # else a prefix match: tier 1 has it
                yield line
            pos = joined.find(q, (line + 1) * step)

    def _joined_of(self, length: int) -> str:
        """The bucket of ``length``, one name a line (each line ``length + 1`` long)."""
        joined = self._joined.get(length)
        if joined is None:
            joined = self._joined[length] = "\n".join(self._buckets[length]) + "\n"
        return joined

    def _view(self, length: int) -> _Fixed:
        """The bucket of ``length`` as a sequence over its joined text (no split needed)."""
        return _Fixed(self._joined_of(length), length)

    def _subsequences(self, q: str) -> list[Ranked]:
        """Camel-hump (tier 3) and plain subsequence (tier 4) matches that are not substrings:
        only among names longer than ``q`` (one as long holding it would be ``q`` itself)."""
        longer = [n for n in self._lengths if n > len(q)]
        names = _lines_with(
            "".join(self._joined_of(n) for n in longer),
            set(q),
            sum(len(self._joined_of(n)) // (n + 1) for n in longer),
        )
        # Possessive gaps that skip to the next wanted letter match in linear time (lazy gaps
        # backtracked: 90 ms p50, 430 ms worst on 176k names).
        body = "".join(f"[^{re.escape(ch)}\n]*+{re.escape(ch)}" for ch in q)
        humps = _humps_pattern(q)
        out: list[Ranked] = []
        # Anchored on a literal newline, not `^` under re.M: the engine then jumps between
        # newlines instead of trying the pattern at every position (half the time, measured).
        for m in re.finditer(f"\n({body}[^\n]*)", "\n" + names):
            low = m.group(1)
            if q not in low:  # substring matches are ranked already
                # every camel-hump match is a subsequence match: only these are tried
                out += [
                    (3 if humps is not None and humps.match(_word_line(n)) else 4, len(n), n, c)
                    for n, c in self._spellings(low)
                ]
        return out


class _Split(Mapping[int, list[str]]):
    """Saved buckets (one text per length, a line per name) split into lines on first use."""

    def __init__(self, texts: dict[int, str]) -> None:
        self._texts = texts
        self._lines: dict[int, list[str]] = {}

    def __getitem__(self, length: int) -> list[str]:
        lines = self._lines.get(length)
        if lines is None:
            lines = self._lines[length] = self._texts[length].split("\n")
        return lines

    def __iter__(self) -> Iterator[int]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, length: object) -> bool:
        return length in self._texts


class _Fixed(Sequence[str]):
    """The names of one bucket read in place from its joined text (every line ``length + 1``
    long), for `bisect` without a list of them."""

    def __init__(self, joined: str, length: int) -> None:
        self._joined, self._length, self._step = joined, length, length + 1
        self._count = len(joined) // self._step

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> str:  # type: ignore[override]  # ints only: bisect's use
        if not 0 <= i < self._count:
            raise IndexError(i)
        start = i * self._step
        return self._joined[start : start + self._length]


# A letter on fewer than 1 name in this many is rare enough to pick out its lines first.
RARE_LINES = 8
# Letters of names from the most common to the least (the stdlib's 80k names): a guess of a
# query's rarest letter that costs nothing (counting them costs ~1 ms a letter). Any choice
# finds the same names; a rarer one only finds them faster.
_COMMON = "te_sarinocldpmugfhbywkvx2z1q03j486597"


def _lines_with(names: str, letters: set[str], lines: int) -> str:
    """The lines of ``names`` (``lines`` of them, one name a line, each ending in a newline)
    that a subsequence of ``letters`` could match: those holding the rarest of them, picked
    out by `str.find` at C speed, so that the regular expression runs over a few lines
    instead of all (~20 ms of a search for ``jsondec`` on the stdlib); all of them when that
    letter is not rare after all."""
    rare = max(letters, key=lambda ch: _COMMON.find(ch) if ch in _COMMON else len(_COMMON))
    most = lines // RARE_LINES
    kept: list[str] = []
    pos = names.find(rare)
    while pos != -1:
        if len(kept) >= most:
            return names
        start = names.rfind("\n", 0, pos) + 1
        end = names.index("\n", pos) + 1
        kept.append(names[start:end])
        pos = names.find(rare, end)
    return "".join(kept)


def _spelled(line: str) -> list[tuple[str, int]]:
    """The (name, count) pairs of one line of spellings."""
    parts = line.split("\t")
    return [(parts[i], int(parts[i + 1])) for i in range(0, len(parts), 2)]


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
