"""Search after writes: every backend answers from the current names; CozoStore patches its
cache of names for its own small writes and drops it when another process wrote between; a
new process reads the names saved beside an embedded store when they are of its generation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from isgraph.model import FileResult, make_key
from isgraph.store import cozo, ranking
from isgraph.store.base import Store
from isgraph.store.connect import open_store
from isgraph.store.cozo import CozoStore
from isgraph.store.names import SUFFIX as NAMES_SUFFIX
from isgraph.store.names import NameIndex

from .conftest import url_for
from .test_contract import SEARCH, ent, found, mod


def t_file(*quals: str) -> FileResult:
    ents = [mod("t.py"), *(ent("t.py", q, line=3 * i + 2) for i, q in enumerate(quals))]
    return FileResult("t.py", "python", "indexed", "h-" + "-".join(quals), 1, 1, None, ents)


def s_file() -> FileResult:
    return FileResult("s.py", "python", "indexed", "h", 1, 1, None, SEARCH)


def test_search_follows_small_writes(store: Store) -> None:
    store.write_files([s_file(), t_file("alpha_one", "parse")])
    assert found(store, "alpha") == ["alpha_one"]  # loads any cache
    assert found(store, "parse")[:1] == ["parse"]
    store.write_files([t_file("alpha_two", "beta_new")])  # t.py replaced
    assert found(store, "alpha") == ["alpha_two"]
    assert found(store, "beta") == ["beta_new"]
    assert {e.path for e in store.search("parse", 20) if e.name == "parse"} == {"s.py"}
    store.write_files([], removed=["t.py"])
    assert found(store, "beta") == [] and found(store, "alpha") == []
    assert found(store, "parse")[:1] == ["parse"]


def fresh_index(store: CozoStore) -> NameIndex:
    """The index of names as a reload builds it."""
    store._names = None
    return store._name_index()


def test_cozo_patches_its_cache_for_its_own_writes(tmp_path: Path) -> None:
    store = open_store(url_for("sqlite", tmp_path))
    assert isinstance(store, CozoStore)
    try:
        store.write_files([s_file(), t_file("alpha_one", "parse", "parse")])
        found(store, "alpha")
        loaded = store._names
        store.write_files([t_file("alpha_two", "Parse")])
        assert store._names is not None and store._names is not loaded  # patched, not dropped
        assert store._names_generation == store.get_meta("generation")
        patched = store._names
        assert patched == fresh_index(store)
        assert found(store, "alpha") == ["alpha_two"]
    finally:
        store.close()


def test_cozo_drops_its_cache_when_another_process_wrote(tmp_path: Path) -> None:
    url = url_for("sqlite", tmp_path)
    mine, other = open_store(url), open_store(url)  # two connections: two caches
    assert isinstance(mine, CozoStore)
    try:
        mine.write_files([s_file()])
        assert found(mine, "alpha") == []  # cache loaded
        other.write_files([t_file("alpha_from_other")])
        mine.write_files([FileResult("u.py", "python", "indexed", "h", 1, 1, None, [mod("u.py")])])
        assert mine._names is None  # its base was not the store's state before its write
        assert found(mine, "alpha") == ["alpha_from_other"]
    finally:
        mine.close()
        other.close()


def run_file(path: str, lines: list[int]) -> FileResult:
    """A file with a module and one function named `run` per line given (redefinitions get
    ordinal keys, as the extractor gives them)."""
    runs = [
        dataclasses.replace(
            ent(path, "run", line=n), key=make_key("python", "function", path, "run", i)
        )
        for i, n in enumerate(lines)
    ]
    return FileResult(path, "python", "indexed", f"h{lines}", 1, 1, None, [mod(path), *runs])


def test_heavy_names_rank_like_a_full_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with more entities than HEAVY_NAME is ranked from cached order keys, patched
    for the store's own writes: the answers equal ranking every entity (ranking.order)."""
    store = open_store(url_for("sqlite", tmp_path))
    assert isinstance(store, CozoStore)
    files = [run_file(f"pkg/m{i}.py", [5 - i % 3]) for i in range(6)]
    files.append(
        FileResult(
            "@typeshed/r.pyi",
            "python",
            "indexed",
            "s",
            1,
            1,
            None,
            [ent("@typeshed/r.pyi", "run", line=1)],
        )
    )
    files.append(
        FileResult(
            "a.py",
            "python",
            "indexed",
            "a",
            1,
            1,
            None,
            [mod("a.py"), ent("a.py", "C.run", "method", line=2), ent("a.py", "rung")],
        )
    )

    def expected(q: str, limit: int) -> list[str]:
        every = [e for r in files for e in r.entities if ranking.tier(e.name, q) is not None]
        return [e.key for e in ranking.order(every, q)][:limit]

    def keys(q: str, limit: int) -> list[str]:
        return [e.key for e in store.search(q, limit)]

    try:
        store.write_files(files)
        for heavy in (10**6, 2):  # every name read whole; then "run" (8 entities) is heavy
            monkeypatch.setattr(cozo, "HEAVY_NAME", heavy)
            store._names = None
            for q, limit in (("run", 3), ("run", 8), ("run", 20), ("un", 5), ("ru", 9)):
                assert keys(q, limit) == expected(q, limit), (heavy, q, limit)
        assert "run" in store._heavy  # the heavy path was taken
        files[1] = run_file("pkg/m1.py", [1, 9])  # a small write: names and keys patched
        store.write_files([files[1]])
        files = [f for f in files if f.path != "pkg/m2.py"]
        store.write_files([], removed=["pkg/m2.py"])
        assert store._names is not None and "run" in store._heavy
        for q, limit in (("run", 3), ("run", 20), ("ru", 9)):
            assert keys(q, limit) == expected(q, limit), (q, limit)
        patched = dict(store._heavy)
        store._names = None  # reload: the cache of keys is rebuilt from the store
        keys("run", 3)
        assert store._heavy == patched
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "rocksdb"])
def test_a_new_process_searches_from_the_saved_names(tmp_path: Path, backend: str) -> None:
    """The first search of a store (a CLI query's process) reads the names saved beside it for
    the store's generation instead of every entity; a store written since builds them anew."""
    url = url_for(backend, tmp_path)
    first = open_store(url)
    assert isinstance(first, CozoStore)
    saved = Path(first.path + NAMES_SUFFIX)
    try:
        first.write_files([s_file()])
        assert not saved.exists()
        assert found(first, "parse_a") == ["parse_args"]  # built from the store, and saved
    finally:
        first.close()
    assert saved.exists()
    # Doctor the saved copy: a name only it has, so that an answer shows where names came from.
    generation = json.loads(saved.read_bytes().partition(b"\n")[2])["generation"]
    NameIndex({**NameIndex.load(saved, generation).counts, "parse_alone": 1}).save(  # type: ignore[union-attr]
        saved, generation
    )
    second = open_store(url)
    try:
        assert [r[2] for r in second._name_index().ranked("parse_al", 5)] == ["parse_alone"]
        second.write_files([t_file("parse_again")])  # a new generation: the copy is stale
        second._names = None
        assert found(second, "parse_a") == ["parse_args", "parse_again"]  # no parse_alone
        assert NameIndex.load(saved, second.get_meta("generation") or "") == second._names
    finally:
        second.close()
    third = open_store(url)  # reads what the second saved for this generation
    try:
        assert found(third, "parse_a") == ["parse_args", "parse_again"]
        assert NameIndex.load(saved, third.get_meta("generation") or "") == third._names
    finally:
        third.close()


def test_a_malformed_saved_copy_is_rebuilt(tmp_path: Path) -> None:
    store = open_store(url_for("sqlite", tmp_path))
    assert isinstance(store, CozoStore)
    try:
        store.write_files([s_file()])
        saved = Path(store.path + NAMES_SUFFIX)
        bad = {"format": 1, "generation": store.get_meta("generation"), "buckets": {"3": "x"}}
        saved.write_text(json.dumps(bad))
        assert found(store, "parse_a") == ["parse_args"]
        assert NameIndex.load(saved, store.get_meta("generation") or "") == store._names
    finally:
        store.close()


def test_first_search_reads_only_its_heavy_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CLI query is one search: it reads the order keys of the heavy names it ranks, not
    of every heavy name; a process that searches again reads the rest at once."""
    monkeypatch.setattr(cozo, "HEAVY_NAME", 2)
    store = open_store(url_for("sqlite", tmp_path))
    assert isinstance(store, CozoStore)
    try:
        store.write_files(
            [run_file(f"pkg/m{i}.py", [1, 5, 9]) for i in range(2)]  # `run` x6
            + [t_file("walk", "walk_far"), s_file()]  # `parse`-like names: light
            + [
                FileResult(
                    f"w{i}.py",
                    "python",
                    "indexed",
                    "h",
                    1,
                    1,
                    None,
                    [mod(f"w{i}.py"), ent(f"w{i}.py", "walk"), ent(f"w{i}.py", "go", line=5)],
                )
                for i in range(3)
            ]  # `walk` x4, `go` x3
        )
        assert [e.name for e in store.search("run", 2)] == ["run", "run"]
        assert set(store._heavy) == {"run"}
        assert [e.name for e in store.search("walk", 2)] == ["walk", "walk"]
        assert set(store._heavy) == {"run", "walk", "go"}  # the rest at once
        assert (
            store._heavy["walk"] == sorted(store._heavy["walk"]) and len(store._heavy["walk"]) == 4
        )
    finally:
        store.close()
