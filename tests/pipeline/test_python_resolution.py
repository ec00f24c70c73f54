"""Python call resolution end to end: what types of receivers decide, and what stays a guess.

Each expectation is written out by hand from Python's rules; ``exact`` ones must be provable
from the source, ``inferred`` ones are heuristics, ``None`` is left unresolved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index.service import IndexService
from isgraph.model import Edge
from isgraph.store.base import Store
from isgraph.store.connect import open_store

from .conftest import write_tree

STUB = "@typeshed/stdlib/builtins.pyi"

FILES = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": """
        from typing import Optional, TypeVar, overload

        T = TypeVar("T")


        class Shape:
            def area(self):
                return 0

            size = area  # the class body renames a method

            def grow(self):
                pass

            def clone(self) -> "Shape":
                return Shape()

            @classmethod
            def create(cls):
                return cls()

            def copy(self):
                return self.__class__()


        class Circle(Shape):
            def area(self):
                return 3


        def make() -> Shape:
            return Shape()


        def maybe() -> Optional["Circle"]:
            return None


        def untyped():
            return Shape()


        @overload
        def pick(x: int) -> Shape: ...
        @overload
        def pick(x: T) -> T: ...
        def pick(x):
            return x


        class Managed:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass

            def use(self):
                pass


        class Special(Managed):
            def use(self):
                pass


        def gen():
            yield 1
            return Shape()


        async def coro() -> Shape:
            return Shape()


        default = Shape()  # module-level instances and renames, seen from other modules
        make_alias = make


        @overload
        def convert(x: int) -> Shape: ...
        @overload
        def convert(x: str) -> Circle: ...
        def convert(x):
            return Shape()


        @overload
        def same(x: int) -> Circle: ...
        @overload
        def same(x: str) -> Circle: ...
        def same(x) -> Circle:
            return Circle()
        """,
    "pkg/starry.py": """
        from pkg.shapes import *

        thing = make  # a star import may bind `thing` too: no alias
        """,
    "pkg/use.py": """
        import pkg.shapes as shapes
        import pkg.starry as starry
        from typing import Optional
        from pkg.shapes import Circle, Shape, make, maybe, untyped

        registry = []
        current = make()


        def literals(flag):
            items = []
            items.append(1)
            table = {}
            table.get(1)
            text = "x"
            if flag:
                text = 3
            text.upper()
            registry.append(2)
            current.grow()


        def returned():
            s = make()
            s.area()
            m = maybe()
            m.area()
            u = untyped()
            u.grow()
            Shape().area()
            shapes.make().grow()
            shapes.convert(1).grow()
            shapes.convert(1).area()
            shapes.same(1).area()
            shapes.pick(1).grow()
            circle = Circle()
            twin = circle.clone()
            twin.area()
            str(1).strip()
            shapes.default.grow()
            shapes.make_alias()
            Shape().size()
            starry.thing()


        def contexts():
            with shapes.Special() as sp:
                sp.use()
            g = shapes.gen()
            g.area()
            c = shapes.coro()
            c.area()


        def annotated(s: str, items: "list[int]", maybe: Optional[Shape] = None):
            s.upper()
            items.append(1)
            maybe.area()


        def renamed(flag):
            sh = Shape()
            grow = sh.grow
            grow()
            make_it = shapes.make
            made = make_it()
            made.area()
            twice = Shape().area
            if flag:
                twice = Circle().area
            twice()


        def rebound(seq):
            c = Circle()
            for c in seq:
                pass
            c.area()
            seq.area()
        """,
    "pkg/guesses.py": """
        class Text:
            def strip(self):
                return self

            def only_here(self):
                pass


        def clean(line, t: Text, other):
            line.strip()
            t.strip()
            other.only_here()
    """,
    "pkg/runner.py": """
        from pkg.shapes import Shape


        class Runner:
            def __init__(self):
                self.engine = Shape()

            @property
            def current(self) -> Shape:
                return self.engine

            def check(self):
                pass

            def stop(self):
                pass
        """,
    "pkg/mix.py": """
        from pkg.runner import Runner


        class Mixin:
            def go(self):
                self.check()
                self.stop()
                self.local()

            def local(self):
                pass


        class Middle(Mixin):
            pass


        class A(Middle, Runner):
            pass


        class B(Mixin, Runner):
            def stop(self):
                pass

            def work(self):
                self.engine.area()
                self.current.area()
        """,
}


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:{tmp_path / 'db' / 'index.db'}")
    yield s
    s.close()


async def index_calls(tmp_path: Path, files: dict[str, str]) -> dict[tuple[str, str], Edge]:
    """Index ``files`` into a fresh store: its calls by (source's qualified name, target)."""
    store = open_store(f"sqlite:{tmp_path / 'calls-db' / 'index.db'}")
    try:
        root = write_tree(tmp_path / "calls-proj", files)
        async with IndexService(root, store, Config(jobs=1)) as service:
            summary = await service.index()
        assert summary.errors == []
        return {(e.src.rsplit(":", 1)[1], e.target_name): e for e in store.edges(kind="calls")}
    finally:
        store.close()


def _short(edge: Edge) -> tuple[str | None, str]:
    if edge.dst is None:
        return None, edge.resolution
    path, qual = edge.dst.split(":", 2)[2].rsplit(":", 1)
    return (f"{path}:{qual}" if path.startswith("@") else qual), edge.resolution


async def test_receiver_types_decide_calls(tmp_path: Path, store: Store) -> None:
    root = write_tree(tmp_path / "proj", FILES)
    async with IndexService(root, store, Config(jobs=1)) as service:
        summary = await service.index()
    assert summary.errors == []
    calls = {(e.src.rsplit(":", 1)[1], e.target_name): e for e in store.edges(kind="calls")}
    expect = {
        # literals: the local's only binding gives its type
        ("literals", "items.append"): (f"{STUB}:list.append", "exact"),
        ("literals", "table.get"): (f"{STUB}:dict.get", "exact"),
        # two assignments of different types: no type; a str method's name: str's, a guess
        ("literals", "text.upper"): (f"{STUB}:str.upper", "inferred"),
        # module-level names assigned once, read in a function
        ("literals", "registry.append"): (f"{STUB}:list.append", "exact"),
        ("literals", "current.grow"): ("Shape.grow", "exact"),
        # return annotations: `-> Shape`, `-> Optional["Circle"]`
        ("returned", "s.area"): ("Shape.area", "exact"),
        ("returned", "m.area"): ("Circle.area", "exact"),
        # no annotation: every `return` of its body makes a Shape
        ("returned", "u.grow"): ("Shape.grow", "exact"),
        # a call's result as the receiver: a class makes an instance
        ("returned", "Shape().area"): ("Shape.area", "exact"),
        ("returned", "shapes.make().grow"): ("Shape.grow", "exact"),
        # overloads: Shape and Circle both inherit grow (the implementation returns a Shape)
        ("returned", "shapes.convert(1).grow"): ("Shape.grow", "exact"),
        # ... and when they disagree (Shape.area / Circle.area) nothing is decided
        ("returned", "shapes.convert(1).area"): (None, "unresolved"),
        ("returned", "shapes.same(1).area"): ("Circle.area", "exact"),
        # an overload returning a TypeVar names no class: the others' agreement is a guess
        ("returned", "shapes.pick(1).grow"): ("Shape.grow", "inferred"),
        # a method of a typed local: its return annotation says Shape (not Circle)
        ("returned", "twin.area"): ("Shape.area", "exact"),
        # cls(...) in a classmethod, self.__class__(...): the class
        ("Shape.create", "cls"): ("Shape", "exact"),
        ("Shape.copy", "self.__class__"): ("Shape", "exact"),
        # `with X() as v`: what X.__enter__ returns; its `return self` is the receiver's
        # class (Special), not the class defining __enter__ (Managed)
        ("contexts", "sp.use"): ("Special.use", "exact"),
        # a generator function and an async one return a generator / a coroutine
        ("contexts", "g.area"): (None, "unresolved"),
        ("contexts", "c.area"): (None, "unresolved"),
        ("returned", "str(1).strip"): (f"{STUB}:str.strip", "exact"),
        # assignments in module and class bodies, each the name's only binding
        ("returned", "shapes.default.grow"): ("Shape.grow", "exact"),
        ("returned", "shapes.make_alias"): ("make", "exact"),
        ("returned", "Shape().size"): ("Shape.area", "exact"),
        ("returned", "starry.thing"): (None, "unresolved"),
        # annotated parameters: builtins, generics, Optional
        ("annotated", "s.upper"): (f"{STUB}:str.upper", "exact"),
        ("annotated", "items.append"): (f"{STUB}:list.append", "exact"),
        ("annotated", "maybe.area"): ("Shape.area", "exact"),
        # a local naming something else, bound once: that thing; bound twice: nothing
        ("renamed", "grow"): ("Shape.grow", "exact"),
        ("renamed", "make_it"): ("make", "exact"),
        ("renamed", "made.area"): ("Shape.area", "exact"),
        ("renamed", "twice"): (None, "unresolved"),
        # another binding (a loop variable): the constructor's type is a guess
        ("rebound", "c.area"): ("Circle.area", "inferred"),
        ("rebound", "seq.area"): (None, "unresolved"),  # a parameter: two `area`s
        # a mixin's self.m(): every subclass defined with it agrees on Runner.check
        ("Mixin.go", "self.check"): ("Runner.check", "inferred"),
        # ... but B overrides stop: no agreement, and `stop` is not a unique name
        ("Mixin.go", "self.stop"): (None, "unresolved"),
        ("Mixin.go", "self.local"): ("Mixin.local", "exact"),
        # attributes B does not assign: what its base's methods put there (`self.engine =
        # Shape()`: a guess, other code may assign it), or a property's return type
        ("B.work", "self.engine.area"): ("Shape.area", "inferred"),
        ("B.work", "self.current.area"): ("Shape.area", "inferred"),
        # an untyped receiver with a str method's name: typeshed's str, not the workspace's
        # one `strip` (that is for receivers typed Text); other unique names: the workspace's
        ("clean", "line.strip"): (f"{STUB}:str.strip", "inferred"),
        ("clean", "t.strip"): ("Text.strip", "exact"),
        ("clean", "other.only_here"): ("Text.only_here", "inferred"),
    }
    got = {k: _short(calls[k]) for k in expect if k in calls}
    assert got == expect


async def test_a_stub_imports_typeshed_modules_even_where_the_workspace_shadows_them(
    tmp_path: Path, store: Store
) -> None:
    # The standard library's own source: `os.py` takes the C module posix's names, and
    # typeshed's posix stub re-exports them from typeshed's os stub (`mkdir as mkdir`).
    root = write_tree(
        tmp_path / "proj",
        {
            "os.py": """
                from posix import *
                from _no_stub_anywhere import fspath

                def makedirs(name):
                    mkdir(name)
                """,
            "json.py": "def loads(text):\n    return text\n",
            # a script directory (no __init__.py): its gc.py is module `gc`, but gc is
            # compiled into the interpreter, which imports it before any file
            "scripts/gc.py": "def helper():\n    pass\n",
            "app.py": """
                import os
                import json
                import gc
                import sys

                def main():
                    sys.path.append("x")  # typeshed's sys: `path: list[str]`
                    sys.platform.startswith("linux")  # `platform: LiteralString`, a str
                    os.mkdir("x")
                    os.fspath("x")
                    gc.collect()
                    os.makedirs("y")
                    os.no_such_function()
                    json.loads("{}")
                    json.dumps({})
                """,
        },
    )
    async with IndexService(root, store, Config(jobs=1)) as service:
        await service.index()
    stubs = {p for p in store.file_states() if p.startswith("@")}
    # the workspace's imports of os and json do not want their stubs; posix's re-export does
    assert "@typeshed/stdlib/posix.pyi" in stubs
    assert "@typeshed/stdlib/os/__init__.pyi" in stubs
    assert "@typeshed/stdlib/gc.pyi" in stubs
    assert not any("json" in p for p in stubs)
    calls = {(e.src.rsplit(":", 1)[1], e.target_name): e for e in store.edges(kind="calls")}
    expect = {
        ("makedirs", "mkdir"): ("@typeshed/stdlib/os/__init__.pyi:mkdir", "exact"),
        ("main", "os.mkdir"): ("@typeshed/stdlib/os/__init__.pyi:mkdir", "exact"),
        ("main", "os.makedirs"): ("makedirs", "exact"),  # the workspace's os comes first
        # os.py imports it from a module nobody describes: typeshed's os has it
        ("main", "os.fspath"): ("@typeshed/stdlib/os/__init__.pyi:fspath", "exact"),
        ("main", "gc.collect"): ("@typeshed/stdlib/gc.pyi:collect", "exact"),
        ("main", "sys.path.append"): (f"{STUB}:list.append", "exact"),
        ("main", "sys.platform.startswith"): (f"{STUB}:str.startswith", "exact"),
        ("main", "os.no_such_function"): (None, "unresolved"),
        ("main", "json.loads"): ("loads", "exact"),
        ("main", "json.dumps"): (None, "unresolved"),  # the workspace's json has none
    }
    assert {k: _short(calls[k]) for k in expect if k in calls} == expect
