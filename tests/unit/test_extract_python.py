"""Python extraction: entities, keys, ranges, edges and their resolution candidates."""

from __future__ import annotations

import sysconfig
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isgraph.index.extract.base import Extraction
from isgraph.index.extract.python import extract_python


def ex(src: str, path: str = "pkg/mod.py", module: str = "pkg.mod") -> Extraction:
    return extract_python(path, textwrap.dedent(src).lstrip("\n").encode(), module)


def ents(x: Extraction) -> dict[str, tuple[str, str]]:
    """qualname(#ordinal) -> (kind, signature)"""
    out = {}
    for e in x.entities:
        suffix = e.key.rsplit("#", 1)[1] if "#" in e.key.rsplit(":", 1)[1] else ""
        out[e.qualname + (f"#{suffix}" if suffix else "")] = (e.kind, e.signature)
    return out


def cands(x: Extraction, kind: str = "calls") -> dict[tuple[str, str], tuple[str, ...]]:
    """Candidates per edge; an edge decided at extraction (same file) shows as ``-> qualname``."""
    return {
        (e.src.rsplit(":", 1)[1], e.target_name): (
            (f"-> {e.dst.rsplit(':', 1)[1]}",)
            if e.dst and e.resolution == "exact"
            else e.candidates
        )
        for e in x.edges
        if e.kind == kind
    }


def test_definitions_kinds_signatures_and_ordinals() -> None:
    x = ex(
        '''
        """Module doc."""
        import functools

        def top(a: int, *args, b=2, **kw) -> str:
            """Top-level function.

            More text.
            """
            def inner():
                pass
            return inner

        async def fetch(url):
            pass

        class Outer(Base, metaclass=Meta):
            class Inner:
                def m(self):
                    pass

            @property
            def value(self):
                return 1

            @value.setter
            def value(self, v):
                pass

            @functools.cached_property
            def cached(self):
                return 2

            @staticmethod
            def stat(x):
                pass

            @classmethod
            async def build(cls):
                pass

        def top(a):
            pass
        '''
    )
    assert ents(x) == {
        "pkg.mod": ("module", ""),
        "top": ("function", "(a: int, *args, b=2, **kw) -> str"),
        "top.inner": ("function", "()"),
        "fetch": ("function", "async (url)"),
        "Outer": ("class", "(Base, metaclass=Meta)"),
        "Outer.Inner": ("class", ""),
        "Outer.Inner.m": ("method", "(self)"),
        "Outer.value": ("property", "(self)"),
        "Outer.value#1": ("property", "(self, v)"),
        "Outer.cached": ("property", "(self)"),
        "Outer.stat": ("method", "(x)"),
        "Outer.build": ("method", "async (cls)"),
        "top#1": ("function", "(a)"),
    }
    by_q = {e.key: e for e in x.entities}
    top = by_q["python:function:pkg/mod.py:top"]
    assert (top.start_line, top.end_line, top.doc, top.fqn) == (
        4,
        11,
        "Top-level function.",
        "pkg.mod.top",
    )
    assert top.parent == "python:module:pkg/mod.py:pkg.mod"
    assert x.entities[0].doc == "Module doc."
    inner_m = by_q["python:method:pkg/mod.py:Outer.Inner.m"]
    assert inner_m.parent == "python:class:pkg/mod.py:Outer.Inner"
    assert inner_m.start_line == 18
    value = by_q["python:property:pkg/mod.py:Outer.value"]
    assert value.start_line == 22  # the def line; @property is on line 21
    assert len({e.key for e in x.entities}) == len(x.entities)
    assert x.syntax_error is None


def test_call_candidates() -> None:
    x = ex(
        """
        import os.path
        import json as j
        from collections import OrderedDict as OD
        from . import sibling
        from .. import parent_mod
        from .sub.deep import thing
        from star import *

        def helper():
            pass

        class Base:
            def base_m(self):
                pass

        class C(Base):
            def m(self, other: Base, n):
                self.base_m()
                self.attr.deep()
                super().base_m()
                helper()
                os.path.join("a")
                j.loads("")
                OD()
                sibling.f()
                parent_mod.g()
                thing()
                other.base_m()
                local = Base()
                local.base_m()
                n.frob()
                len([])
                starred()
                (lambda: 1)()
                getattr(n, "x")().go()

                def nested():
                    helper()
                    self.m(None, None)
        """,
        path="pkg/mod.py",
        module="pkg.mod",
    )
    c = cands(x)
    # a method the class lacks may come from a mixin's sibling base: a unique name is a guess
    assert c[("C.m", "self.base_m")] == ("^pkg.mod.C.base_m", "?base_m")
    # not assigned in C: what a base or a property says, if anything
    assert c[("C.m", "self.attr.deep")] == ("~*pkg.mod.C.attr.deep", "?deep")
    assert c[("C.m", "super().base_m")] == (">pkg.mod.C.base_m",)
    assert c[("C.m", "helper")] == ("-> helper",)  # same file: decided at extraction
    assert c[("C.m", "os.path.join")] == ("=os.path.join",)
    assert c[("C.m", "j.loads")] == ("=json.loads",)
    assert c[("C.m", "OD")] == ("=collections.OrderedDict",)
    assert c[("C.m", "sibling.f")] == ("=pkg.sibling.f",)
    assert c[("C.m", "parent_mod.g")] == ("=parent_mod.g",)  # `..` from pkg.mod is the root
    assert c[("C.m", "thing")] == ("=pkg.sub.deep.thing",)
    # annotated, or assigned once from a constructor: exact (here decided in-file)
    assert c[("C.m", "other.base_m")] == ("-> Base.base_m",)
    assert c[("C.m", "local.base_m")] == ("-> Base.base_m",)
    assert c[("C.m", "n.frob")] == ("?frob",)  # a parameter: never from the star import
    # unbound: builtins, but only a guess when a star import may define it
    assert c[("C.m", "len")] == ("=star.len", "~=builtins.len")
    assert c[("C.m", "starred")] == ("=star.starred",)
    assert c[("C.m", "(lambda:1)")] == ()
    assert c[("C.m", 'getattr(n,"x")().go')] == ("?go",)
    # closures see the enclosing function's names (self included), not the class body's
    assert c[("C.m.nested", "helper")] == ("-> helper",)
    assert c[("C.m.nested", "self.m")] == ("-> C.m",)
    inherits = cands(x, "inherits")
    assert inherits == {("C", "Base"): ("-> Base",)}


def test_builtins_are_exact_only_when_nothing_in_the_file_can_rebind_them() -> None:
    x = ex(
        """
        def f(items, filter=None):
            n = len(items)
            print(str(n), "x".join(items), b"y".upper(), [].append(1), {}.get(1))
            for sorted in items:
                pass
            sorted(items)
            filter(items)
            isinstance(n, int)
            int("3")
            open("p")
            id = 3
            # max = 1 in a comment, "max = 2" in a string: no binding
            max(items)

        class K(Exception):
            pass

        def g():
            return id(1)
        """,
        path="m.py",
        module="m",
    )
    c = cands(x)
    assert c[("f", "len")] == ("=builtins.len",)
    assert c[("f", "print")] == ("=builtins.print",)
    assert c[("f", "str")] == ("=builtins.str",)
    assert c[("f", '"x".join')] == ("=builtins.str.join",)
    assert c[("f", 'b"y".upper')] == ("=builtins.bytes.upper",)
    assert c[("f", "[].append")] == ("=builtins.list.append",)
    assert c[("f", "{}.get")] == ("=builtins.dict.get",)
    assert c[("f", "sorted")] == ("~=builtins.sorted",)  # a loop variable elsewhere
    assert c[("f", "int")] == ("=builtins.int",)  # used as a value, never bound
    assert c[("f", "open")] == ("=builtins.open",)
    assert c[("f", "max")] == ("=builtins.max",)
    # `filter` is a parameter of f: bound, so not builtins at all
    assert c[("f", "filter")] == ()
    # `id` is bound in f, not in g: g's call is builtins, but only a guess by this file scan
    assert c[("g", "id")] == ("~=builtins.id",)
    assert cands(x, "inherits") == {("K", "Exception"): ("=builtins.Exception",)}


def test_self_attribute_types_from_constructor_assignments() -> None:
    x = ex(
        """
        from io import BytesIO

        class Reader:
            def __init__(self):
                self.buf = BytesIO()
                self.other = make()
                self.mixed = BytesIO()

            def reset(self):
                self.mixed = Reader()

            def read(self):
                self.buf.getvalue()
                self.mixed.close()
                self.unknown.close()
        """
    )
    c = cands(x)
    assert c[("Reader.read", "self.buf.getvalue")] == ("~^io.BytesIO.getvalue", "?getvalue")
    assert c[("Reader.read", "self.mixed.close")] == ("?close",)  # two different types
    # assigned in no method of Reader: what its bases or a property hold, if anything
    assert c[("Reader.read", "self.unknown.close")] == ("~*pkg.mod.Reader.unknown.close", "?close")
    aliases = {a.fqn: a.target for a in x.aliases if a.fqn.startswith("pkg.mod.Reader.")}
    assert aliases == {"pkg.mod.Reader.buf": "io.BytesIO()"}  # what other files can see


def test_imports_aliases_and_package_relative() -> None:
    x = ex(
        """
        import a.b.c
        import a.b as ab
        from .decoder import JSONDecoder
        from . import scanner
        from x import *

        def f():
            import inner_mod
            inner_mod.go()
        """,
        path="json/__init__.py",
        module="json",
    )
    imports = cands(x, "imports")
    assert imports == {
        ("json", "a.b.c"): ("=a.b.c",),
        ("json", "a.b"): ("=a.b",),
        ("json", "json.decoder.JSONDecoder"): ("=json.decoder.JSONDecoder", "=json.decoder"),
        ("json", "json.scanner"): ("=json.scanner", "=json"),
        ("json", "x"): ("=x",),
        ("f", "inner_mod"): ("=inner_mod",),
    }
    assert {(a.fqn, a.target) for a in x.aliases} == {
        ("json.a", "a"),
        ("json.ab", "a.b"),
        ("json.JSONDecoder", "json.decoder.JSONDecoder"),
        ("json.scanner", "json.scanner"),
        ("json.*", "x"),  # star imports, for names the module re-exports
    }
    assert cands(x)[("f", "inner_mod.go")] == ("=inner_mod.go",)


def test_calls_are_deduplicated_per_source() -> None:
    x = ex(
        """
        def f():
            g()
            g()
            g( )
        """
    )
    calls = [e for e in x.edges if e.kind == "calls"]
    assert [(e.target_name, e.line) for e in calls] == [("g", 2)]


def test_module_level_calls_come_from_the_module() -> None:
    x = ex("setup()\n")
    assert [(e.src, e.target_name) for e in x.edges] == [
        ("python:module:pkg/mod.py:pkg.mod", "setup")
    ]


def test_syntax_errors_keep_what_parsed() -> None:
    x = ex(
        """
        def good():
            return 1

        def broken(:
            pass

        class After:
            def m(self):
                good()
        """
    )
    assert x.syntax_error is not None and "line 4" in x.syntax_error
    names = {e.qualname for e in x.entities}
    assert {"good", "After"} <= names


def test_odd_files() -> None:
    empty = extract_python("e.py", b"", "e")
    assert [e.kind for e in empty.entities] == ["module"] and empty.edges == []
    bom = extract_python("b.py", b"\xef\xbb\xbfdef f():\n    pass\n", "b")
    assert [e.name for e in bom.entities] == ["b", "f"]
    crlf = extract_python("c.py", b"def f():\r\n    g()\r\n", "c")
    assert [(e.target_name, e.line) for e in crlf.edges] == [("g", 2)]
    deep = extract_python("d.py", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "d")
    assert deep.entities[0].kind == "module"


def check_invariants(x: Extraction, source: bytes) -> None:
    keys = [e.key for e in x.entities]
    assert len(keys) == len(set(keys))
    n_lines = source.count(b"\n") + 1
    for e in x.entities:
        assert 1 <= e.start_line <= e.end_line <= n_lines + 1
    entity_keys = set(keys)
    for g in x.edges:
        assert g.src in entity_keys
        assert 1 <= g.line <= n_lines + 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    x = extract_python("f.py", data, "f")
    check_invariants(x, data)


_SAMPLE = (Path(sysconfig.get_paths()["stdlib"]) / "json" / "decoder.py").read_bytes()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_SAMPLE)), st.integers(0, 200), st.binary(max_size=20))
def test_mutated_real_source_never_raises(at: int, cut: int, insert: bytes) -> None:
    data = _SAMPLE[:at] + insert + _SAMPLE[at + cut :]
    x = extract_python("json/decoder.py", data, "json.decoder")
    check_invariants(x, data)


def test_module_and_class_assignments_become_aliases() -> None:
    x = ex(
        """
        from io import BytesIO

        buf = BytesIO()
        same = BytesIO()
        same = BytesIO()
        looped = BytesIO()
        for looped in []:
            pass
        reader = BytesIO.read
        path: list[str]
        maybe: "BytesIO | None"

        class C:
            def m(self):
                pass

            n = m
            clash = m
            clash = n

            def me(self):
                if self:
                    return
                return self

        def made(flag):
            if flag:
                return BytesIO()
            return None

        def mixed(flag):
            if flag:
                return BytesIO()
            return flag

        def gen():
            yield 1
            return BytesIO()

        if reader:
            def twice():
                return BytesIO()
        else:
            def twice():
                return C()
        """
    )
    assert {a.fqn: a.target for a in x.aliases} == {
        "pkg.mod.BytesIO": "io.BytesIO",  # the import
        "pkg.mod.buf": "io.BytesIO()",  # an instance of
        "pkg.mod.same": "io.BytesIO()",  # assigned twice, the same type
        "pkg.mod.reader": "io.BytesIO.read",  # another name for
        "pkg.mod.path": "builtins.list()",
        "pkg.mod.maybe": "io.BytesIO()",
        "pkg.mod.C.n": "pkg.mod.C.m",
        # what calling an unannotated function gives (mixed: an unknown too; gen: a generator;
        # twice: defined twice)
        "pkg.mod.C.me()": "Self",
        "pkg.mod.made()": "io.BytesIO()",
        # looped: also a loop variable; clash: two different things
    }
