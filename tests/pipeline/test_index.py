"""End-to-end index runs on a fixture project: entities, resolved edges, incremental runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index.service import IndexService, IndexSummary
from isgraph.model import Edge
from isgraph.store.base import Store
from isgraph.store.connect import open_store

from .conftest import write_tree


async def index(root: Path, store: Store, **cfg: object) -> IndexSummary:
    async with IndexService(root, store, Config(jobs=2, **cfg)) as service:  # type: ignore[arg-type]
        return await service.index()


def edge_map(store: Store, kind: str = "calls") -> dict[tuple[str, str], Edge]:
    return {(e.src.rsplit(":", 1)[1], e.target_name): e for e in store.edges(kind=kind)}


def target(edge: Edge) -> str | None:
    return edge.dst.rsplit(":", 1)[1] if edge.dst else None


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:{tmp_path / 'db' / 'index.db'}")
    yield s
    s.close()


async def test_cold_index_resolves_across_files(project: Path, store: Store) -> None:
    summary = await index(project, store)
    assert summary.errors == []
    paths = sorted(store.file_states())
    # .gitignore'd files are not indexed; typeshed's builtins stub is, as an external file
    assert paths == [
        "@typeshed/stdlib/builtins.pyi",
        "app.py",
        "pkg/__init__.py",
        "pkg/core.py",
        "pkg/util.py",
    ]
    assert summary.files == 4 and summary.parsed == 4 and summary.stubs == 1

    calls = edge_map(store)
    expect = {
        ("Base.start", "self.helper"): ("Base.helper", "exact"),
        ("Engine.run", "self.start"): ("Base.start", "exact"),  # inherited method
        ("Engine.run", "make"): ("make", "exact"),
        ("make", "Engine"): ("Engine", "exact"),  # Class() -> the class
        ("go", "Engine"): ("Engine", "exact"),  # through the package's re-export
        ("go", "mk"): ("make", "exact"),  # from .core import make as mk
        ("go", "pkg.core.make"): ("make", "exact"),  # import pkg.core
        ("main", "go"): ("go", "exact"),
        ("go", "e.run"): ("Engine.run", "exact"),  # e = Engine(), e's only binding
        ("go", "len"): ("len", "exact"),  # builtins, from typeshed's stub
        ("go", "pkg.extra.later"): (None, "unresolved"),
    }
    got = {k: (target(calls[k]), calls[k].resolution) for k in expect if k in calls}
    assert got == expect
    assert calls[("go", "len")].dst == "python:function:@typeshed/stdlib/builtins.pyi:len"
    # the call in make() lands on the class defined in pkg/core.py, not a same-named elsewhere
    assert calls[("go", "Engine")].dst == "python:class:pkg/core.py:Engine"

    inherits = edge_map(store, "inherits")
    assert target(inherits[("Engine", "Base")]) == "Base"
    imports = {e.target_name: e for e in store.edges(kind="imports")}
    assert imports["pkg.core"].dst == "python:module:pkg/core.py:pkg.core"
    assert imports["pkg.Engine"].dst == "python:class:pkg/core.py:Engine"
    stats = store.stats()
    assert stats.entities == summary.entities  # both count the workspace, not the stubs
    stub = store.find_entities(path="@typeshed/stdlib/builtins.pyi")
    assert store.stats(stubs=True).entities == summary.entities + len(stub)
    assert summary.entities == 12 and summary.resolution.edges == summary.edges == 17
    assert sum(stats.edges_by_resolution.values()) == stats.edges


async def test_graph_queries_over_indexed_project(project: Path, store: Store) -> None:
    await index(project, store)
    make = "python:function:pkg/core.py:make"
    callers = {r.key.rsplit(":", 1)[1]: r.depth for r in store.callers(make, depth=2)}
    assert callers == {"Engine.run": 1, "go": 1, "main": 2}
    impact = {r.key.rsplit(":", 1)[1] for r in store.impact(make, depth=5)}
    assert {"Engine.run", "go", "main"} <= impact


async def test_rerun_with_nothing_changed_parses_nothing(project: Path, store: Store) -> None:
    await index(project, store)
    before = store.stats()
    again = await index(project, store)
    assert again.parsed == 0 and again.unchanged == 4 and again.removed == 0
    assert store.stats() == before
    # touching a file without changing it costs a hash, not a parse
    p = project / "app.py"
    p.write_text(p.read_text())
    import os

    os.utime(p, ns=(1, 1))
    third = await index(project, store)
    assert third.parsed == 0 and third.unchanged == 4


async def test_a_run_that_parses_nothing_starts_no_parser_processes(
    project: Path, store: Store
) -> None:
    """The pool (a forkserver importing every extractor and grammar, then workers) starts
    when a file needs parsing: a no-change rerun starts none; an edited file does."""
    await index(project, store)
    async with IndexService(project, store, Config(jobs=2)) as service:
        again = await service.index()
        assert again.parsed == 0 and again.unchanged == 4
        assert service._pool is None
        (project / "app.py").write_text((project / "app.py").read_text() + "\nX = 1\n")
        third = await service.index()
        assert third.parsed == 1 and service._pool is not None


async def test_incremental_change_delete_and_dependent_resolution(
    project: Path, store: Store
) -> None:
    await index(project, store)
    # A new file makes a previously unresolved call in another, unchanged file resolvable.
    write_tree(project, {"pkg/extra.py": "def later():\n    return 2\n"})
    s = await index(project, store)
    assert s.parsed == 1
    assert target(edge_map(store)[("go", "pkg.extra.later")]) == "later"

    # Rename a method: its caller in the same file follows, keys of untouched entities stay.
    core = project / "pkg/core.py"
    core.write_text(core.read_text().replace("helper", "assist"))
    key_before = {e.key for e in store.find_entities(path="pkg/util.py")}
    s = await index(project, store)
    assert s.parsed == 1
    calls = edge_map(store)
    assert ("Base.start", "self.helper") not in calls
    assert target(calls[("Base.start", "self.assist")]) == "Base.assist"
    assert {e.key for e in store.find_entities(path="pkg/util.py")} == key_before

    # Delete a file: its entities and edges go; edges into it become unresolved.
    (project / "pkg/extra.py").unlink()
    s = await index(project, store)
    assert s.removed == 1 and s.parsed == 0
    assert store.find_entities(path="pkg/extra.py") == []
    assert store.edges(path="pkg/extra.py") == []
    edge = edge_map(store)[("go", "pkg.extra.later")]
    assert edge.dst is None and edge.resolution == "unresolved"


async def test_incremental_resolution_rechecks_only_what_the_change_can_affect(
    tmp_path: Path, store: Store
) -> None:
    write_tree(
        tmp_path,
        {
            "base.py": "class A:\n    def m(self):\n        pass\n\nclass B:\n    pass\n",
            "sub.py": "from base import B\n\nclass S(B):\n    def run(self):\n        self.m()\n",
            "user.py": "from sub import S\n\ndef go():\n    S().run()\n",
            # more files than a quarter changing at once, or a full resolution is cheaper
            **{f"filler{i}.py": f"def f{i}():\n    go{i}()\n" for i in range(5)},
        },
    )
    await index(tmp_path, store)
    # B has no m: only a guess by the unique method name
    assert edge_map(store)[("S.run", "self.m")].resolution == "inferred"

    # A body-only edit: no other file can resolve differently; only this file's edges are redone
    sub = tmp_path / "sub.py"
    sub.write_text(sub.read_text() + "        return 1\n")
    s = await index(tmp_path, store)
    assert s.parsed == 1 and s.resolution.edges == len(store.edges(path="sub.py"))

    # A base class gains a base: a subclass's `self.m()` in another, unchanged file resolves
    base = tmp_path / "base.py"
    base.write_text(base.read_text().replace("class B:", "class B(A):"))
    s = await index(tmp_path, store)
    assert s.parsed == 1
    assert target(edge_map(store)[("S.run", "self.m")]) == "A.m"
    assert edge_map(store)[("S.run", "self.m")].resolution == "exact"

    # A name disappears: edges to it elsewhere are unlinked, and a same-named definition that
    # appears in the same change is found
    base.write_text(base.read_text().replace("def m(self)", "def other(self)"))
    write_tree(tmp_path, {"mixin.py": "class M:\n    def m(self):\n        pass\n"})
    s = await index(tmp_path, store)
    edge = edge_map(store)[("S.run", "self.m")]
    assert (target(edge), edge.resolution) == ("M.m", "inferred")  # unique name: a guess


async def test_stored_entities_equal_extracted(project: Path, store: Store) -> None:
    """No entity is lost to a key collision, duplicates included."""
    write_tree(
        project,
        {
            "dup.py": """
                def f():
                    pass


                def f():
                    pass


                class C:
                    @property
                    def x(self):
                        return 1

                    @x.setter
                    def x(self, v):
                        pass
                """
        },
    )
    await index(project, store)
    keys = sorted(e.key for e in store.find_entities(path="dup.py"))
    assert len(keys) == len(set(keys)) == 6  # module, f, f#1, C, x, x#1
    assert "python:function:dup.py:f#1" in keys


async def test_stdlib_calls_resolve_into_typeshed_stubs(tmp_path: Path, store: Store) -> None:
    write_tree(
        tmp_path,
        {
            "app.py": """
                import os
                import time
                import json
                from lib import *

                class Err(ValueError):
                    pass

                def main():
                    time.sleep(1)
                    os.path.join("a", "b")
                    json.loads("{}")
                    helper()
                    print(", ".join([]))
                """,
            # the repo's own `json` shadows the stdlib's: no stub, and calls land here
            "json.py": "def loads(text):\n    return text\n",
            "lib/__init__.py": "from .impl import *\n",
            "lib/impl.py": "def helper():\n    pass\n\ndef remove():\n    pass\n",
        },
    )
    summary = await index(tmp_path, store)
    assert summary.errors == [] and summary.files == 4
    stubs = sorted(p for p in store.file_states() if p.startswith("@"))
    assert "@typeshed/stdlib/time.pyi" in stubs
    assert "@typeshed/stdlib/os/path.pyi" in stubs and "@typeshed/stdlib/posixpath.pyi" in stubs
    assert not any("json" in p for p in stubs)
    calls = {e.target_name: e for e in store.edges(kind="calls")}
    assert calls["time.sleep"].dst == "python:function:@typeshed/stdlib/time.pyi:sleep"
    # os/__init__.pyi -> os/path.pyi -> `from posixpath import *`
    assert calls["os.path.join"].dst is not None
    assert calls["os.path.join"].dst.startswith(
        "python:function:@typeshed/stdlib/posixpath.pyi:join"
    )
    assert calls["json.loads"].dst == "python:function:json.py:loads"
    # `from lib import *`, and lib re-exports impl with its own star import
    assert calls["helper"].dst == "python:function:lib/impl.py:helper"
    assert calls['",".join'].dst == "python:method:@typeshed/stdlib/builtins.pyi:str.join"
    # `from lib import *` could define `print`: builtins is then only the likely answer
    assert calls["print"].dst == "python:function:@typeshed/stdlib/builtins.pyi:print"
    assert calls["print"].resolution == "inferred"
    inherits = {e.target_name: e for e in store.edges(kind="inherits")}
    assert inherits["ValueError"].dst == "python:class:@typeshed/stdlib/builtins.pyi:ValueError"

    # search ranks the workspace's `remove` before builtins' list.remove, set.remove...
    found = store.search("remove", limit=5)
    assert found[0].key == "python:function:lib/impl.py:remove"
    assert any(e.path.startswith("@typeshed/") for e in found[1:])

    # a rerun keeps the stubs (they are never "vanished" files) and parses nothing
    again = await index(tmp_path, store)
    assert again.parsed == 0 and again.stubs == 0 and again.removed == 0
    assert sorted(p for p in store.file_states() if p.startswith("@")) == stubs


async def test_no_python_no_stubs(tmp_path: Path, store: Store) -> None:
    write_tree(tmp_path, {"main.go": "package main\n\nfunc main() {}\n"})
    summary = await index(tmp_path, store)
    assert summary.stubs == 0 and summary.files == 1
    assert sorted(store.file_states()) == ["main.go"]
    assert [e.qualname for e in store.find_entities(kind="function")] == ["main"]


async def test_a_new_file_changes_stubs_only_by_shadowing(tmp_path: Path, store: Store) -> None:
    """A new file that defines a module a stored stub is for (or a package above it) makes
    that stub unneeded; any other new file leaves the stubs as they are, without reading
    every stored import again (`IndexService._shadows_a_stub`). Both end as a clean index."""
    write_tree(tmp_path, {"app.py": "import json\nimport textwrap\n\njson.dumps(textwrap)\n"})
    await index(tmp_path, store)

    def stubs(s: Store) -> list[str]:
        return sorted(p for p in s.file_states() if p.startswith("@"))

    assert "@typeshed/stdlib/json/__init__.pyi" in stubs(store)
    write_tree(tmp_path, {"other.py": "def other():\n    return 1\n"})
    await index(tmp_path, store)
    before = stubs(store)
    assert "@typeshed/stdlib/json/__init__.pyi" in before
    write_tree(tmp_path, {"json/__init__.py": "def dumps(x):\n    return x\n"})
    await index(tmp_path, store)
    after = stubs(store)
    assert not any(p.startswith("@typeshed/stdlib/json/") for p in after), after
    assert "@typeshed/stdlib/textwrap.pyi" in after
    clean = open_store("mem")
    try:
        await index(tmp_path, clean)
        assert after == stubs(clean)
    finally:
        clean.close()


async def test_new_files_read_the_stored_stubs_once(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch switch adding many Python files checks each against the stored stubs, but
    reads the stored files' states (every stub's path) once per run, not once per file."""
    write_tree(tmp_path, {"app.py": "import json\n\njson.dumps(1)\n"})
    await index(tmp_path, store)
    reads = 0
    real = store.file_states

    def counted():  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return real()

    monkeypatch.setattr(store, "file_states", counted)

    async def reads_for(new: int, tag: str) -> int:
        nonlocal reads
        write_tree(tmp_path, {f"{tag}{i}.py": f"def f{i}():\n    return {i}\n" for i in range(new)})
        reads = 0
        await index(tmp_path, store)
        return reads

    one = await reads_for(1, "a")
    assert await reads_for(12, "b") == one
