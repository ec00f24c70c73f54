"""Search after writes: every backend answers from the current names; CozoStore patches its
cache of names for its own small writes and drops it when another process wrote between."""

from __future__ import annotations

from pathlib import Path

from isgraph.model import FileResult
from isgraph.store.base import Store
from isgraph.store.connect import open_store
from isgraph.store.cozo import CozoStore

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


def fresh_cache(store: CozoStore) -> tuple[object, ...]:
    """The cache as a reload builds it (order of dict keys and lines included)."""
    store._names = None
    haystack, words, originals = store._name_cache()
    return (set(haystack.split("\n")), set(words.split("\n")), originals)


def as_sets(store: CozoStore) -> tuple[object, ...]:
    assert store._names is not None
    haystack, words, originals = store._names
    return (set(haystack.split("\n")), set(words.split("\n")), originals)


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
        patched = as_sets(store)
        assert patched == fresh_cache(store)
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
