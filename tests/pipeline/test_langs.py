"""One small multi-file project per language (tests/fixtures/langs/<language>/), indexed
through the real pipeline into a real CozoDB store; every entity and edge, with its
resolution, is compared with ``expected.txt`` beside the project.

``expected.txt`` is written out by hand-checked runs: set ``ISGRAPH_REGEN=1`` to rewrite it
from the current output, then read the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index import resolve
from isgraph.index.service import FULL_RESOLVE_SHARE, IndexService
from isgraph.model import Entity, is_external
from isgraph.store.base import Store
from isgraph.store.connect import open_store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "langs"
LANGS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def _short(key: str | None, keys: dict[str, str]) -> str:
    if key is None:
        return "-"
    return keys.get(key, key)


def dump(store: Store) -> str:
    """Entities then edges, one per line, sorted; keys shown as ``path:qualname``."""
    ents = [e for e in store.find_entities() if not is_external(e.path)]
    keys = {e.key: f"{e.path}:{e.qualname}" for e in ents}
    lines = [f"entity {e.kind} {e.path}:{e.qualname} {e.signature}".rstrip() for e in ents]
    lines.sort()
    edge_lines = []
    for edge in store.edges():
        if is_external(edge.path):
            continue
        edge_lines.append(
            f"{edge.kind} {_short(edge.src, keys)} -> {edge.target_name!r} = "
            f"{_short(edge.dst, keys)} [{edge.resolution}]"
        )
    return "\n".join([*lines, *sorted(edge_lines)]) + "\n"


@pytest.mark.parametrize("language", LANGS)
async def test_fixture_project(language: str, tmp_path: Path) -> None:
    root = tmp_path / language
    shutil.copytree(FIXTURES / language, root, ignore=shutil.ignore_patterns("expected.txt"))
    store = open_store("mem")
    try:
        async with IndexService(root, store, Config(jobs=1)) as service:
            summary = await service.index()
        assert summary.errors == []
        got = dump(store)
    finally:
        store.close()
    expected_file = FIXTURES / language / "expected.txt"
    if os.environ.get("ISGRAPH_REGEN"):
        expected_file.write_text(got)
    assert got == expected_file.read_text()


async def test_incremental_resolution_follows_a_new_and_a_removed_target(tmp_path: Path) -> None:
    """A file that appears (or goes) re-resolves the other files' edges that name what it
    defines, without re-parsing them."""
    root = tmp_path / "inc"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.ts").write_text(
        'import { later } from "./b";\nexport function f() {\n  return later();\n}\n'
    )
    (root / "go.mod").write_text("module example.com/m\n")
    (root / "p").mkdir()
    (root / "p" / "a.go").write_text("package p\n\nfunc F() int { return G() }\n")
    store = open_store("mem")

    def calls() -> dict[str, tuple[str | None, str]]:
        return {e.target_name: (e.dst, e.resolution) for e in store.edges(kind="calls")}

    try:
        async with IndexService(root, store, Config(jobs=1)) as service:
            await service.index()
            assert calls() == {"later": (None, "unresolved"), "G": (None, "unresolved")}
            (root / "src" / "b.ts").write_text("export function later() {\n  return 1;\n}\n")
            (root / "p" / "b.go").write_text("package p\n\nfunc G() int { return 1 }\n")
            summary = await service.index()
            assert summary.parsed == 2  # only the new files
            assert calls() == {
                "later": ("typescript:function:src/b.ts:later", "exact"),
                "G": ("go:function:p/b.go:G", "exact"),
            }
            (root / "src" / "b.ts").unlink()
            (root / "p" / "b.go").unlink()
            await service.index()
            assert calls() == {"later": (None, "unresolved"), "G": (None, "unresolved")}
    finally:
        store.close()


# A file whose definitions other files' edges name by something other than their own last
# dotted part: a Ruby class by `Foo.new`, a C header by its path, a Go package by its import path.
NEW_TARGETS = {
    "lib/foo.rb": "class Foo\nend\n",
    "src/util.h": "int helper(int x);\n",
    "q/q.go": "package q\n\nfunc F() {}\n",
}
CALLERS = {
    "lib/app.rb": "class App\n  def run\n    Foo.new\n  end\nend\n",
    "src/main.c": '#include "util.h"\n\nint main(void) { return 0; }\n',
    "go.mod": "module example.com/m\n",
    "app/main.go": 'package main\n\nimport "example.com/m/q"\n\nfunc main() { q.F() }\n',
    "tool/t.go": 'package tool\n\nimport "example.com/m/q"\n\nvar V = 1\n',
    # enough other files that three new ones are resolved incrementally, not all at once
    # (service.FULL_RESOLVE_SHARE)
    **{f"lib/other{i}.rb": f"def other{i}\n  puts 1\nend\n" for i in range(16)},
}
RESOLVED = {
    ("lib/app.rb", "Foo.new"): ("ruby:class:lib/foo.rb:Foo", "exact"),
    ("src/main.c", "src/util.h"): ("c:module:src/util.h:src.util", "exact"),
    ("app/main.go", "example.com/m/q"): ("go:module:q/q.go:q.q", "exact"),
    ("app/main.go", "q.F"): ("go:function:q/q.go:F", "exact"),
    ("tool/t.go", "example.com/m/q"): ("go:module:q/q.go:q.q", "exact"),  # an import alone
}
UNRESOLVED = dict.fromkeys(RESOLVED, (None, "unresolved"))


@pytest.mark.parametrize("how", ["index", "language server"])
async def test_incremental_resolution_finds_edges_by_their_candidates(
    tmp_path: Path, how: str
) -> None:
    """A new file re-resolves the edges of unchanged files that name it through a candidate:
    `Foo.new` (the class `Foo`), `#include "util.h"`, a Go import path; removing it unlinks
    them. Through a full incremental run, and as the language server runs it (only the
    changed path, written first, resolution owed and done after)."""
    root = tmp_path / "inc"
    for rel, text in CALLERS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    store = open_store("mem")

    def named() -> dict[tuple[str, str], tuple[str | None, str]]:  # (path, target) ->
        return {
            (e.path, e.target_name): (e.dst, e.resolution)
            for e in store.edges()
            if (e.path, e.target_name) in RESOLVED
        }

    try:
        async with IndexService(root, store, Config(jobs=1)) as service:

            async def reindex(paths: list[str]) -> None:
                if how == "index":
                    summary = await service.index()
                    assert summary.parsed == len([p for p in paths if (root / p).exists()])
                else:
                    await service.index(only=paths, resolve=False)
                    await service.resolve_owed()

            await service.index()
            assert named() == UNRESOLVED
            assert len(NEW_TARGETS) < FULL_RESOLVE_SHARE * len(store.file_states())
            for rel, text in NEW_TARGETS.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text)
            await reindex(list(NEW_TARGETS))
            assert named() == RESOLVED
            for rel in NEW_TARGETS:
                (root / rel).unlink()
            await reindex(list(NEW_TARGETS))
            assert named() == UNRESOLVED
    finally:
        store.close()


@pytest.mark.parametrize("language", ["java", "csharp"])
async def test_probing_long_candidate_lists_saves_fetch_rounds(
    language: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Java / C# edges try a name in every enclosing type, package and import: probing all of
    an edge's candidates at its first miss decides the same edges in fewer store fetches."""
    root = tmp_path / language
    shutil.copytree(FIXTURES / language, root, ignore=shutil.ignore_patterns("expected.txt"))
    store = open_store("mem")
    try:
        async with IndexService(root, store, Config(jobs=1)) as service:
            await service.index()
        edges = store.edges_from_paths(store.file_states())
        assert any(len(e.candidates) >= 4 for e in edges)

        def run(probe: frozenset[str]) -> tuple[list[tuple[str, str | None, str]], int]:
            monkeypatch.setattr(resolve, "PROBE_AHEAD", probe)
            fetches = 0
            fetch = store.entities_by_fqn

            def counted(fqns: Iterable[str]) -> dict[str, list[Entity]]:
                nonlocal fetches
                fetches += 1
                return fetch(fqns)

            monkeypatch.setattr(store, "entities_by_fqn", counted)
            decided = resolve.Resolver(store).decide(edges)
            verdicts = sorted((e.src + e.target_name, t and t.key, r) for e, t, r in decided)
            return verdicts, fetches

        probed, with_probe = run(frozenset({language}))
        plain, without = run(frozenset())
        assert probed == plain
        assert with_probe < without
    finally:
        store.close()
