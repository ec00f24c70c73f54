"""bench/resolution_check.py against a real basedpyright on a small project whose right answers
are known: each call site's reference answer is mapped to the right entity, and the figures
count isgraph's agreements and misses as they are."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from isgraph.model import Edge
from tests.pipeline.conftest import write_tree
from tests.proxy.conftest import tool

BENCH = Path(__file__).resolve().parents[2] / "bench"

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": """
        class Loader:
            def load_all(self) -> list[int]:
                return [1]


        class Text:
            def splitlines(self) -> list[str]:
                return []


        class A:
            def run(self) -> int:
                return 1


        class B:
            def run(self) -> int:
                return 2


        def make() -> Loader:
            return Loader()
        """,
    "app.py": """
        from pkg.shapes import A, make


        def pick() -> A:
            return A()


        def lines(s: str) -> list[str]:
            return s.splitlines()


        def load() -> list[int]:
            y = make()
            return y.load_all()


        def go() -> int:
            return pick().run()


        def total() -> int:
            return len(lines("a")) + go()


        def twice() -> int:
            go()
            return go()  # one edge, two call sites: each one is sampled
        """,
}

# (call site's target_name, the entity a precise reader says it calls: path, qualname)
TRUTH = {
    "A": ("pkg/shapes.py", "A"),
    "Loader": ("pkg/shapes.py", "Loader"),
    "make": ("pkg/shapes.py", "make"),
    "s.splitlines": ("@typeshed/stdlib/builtins.pyi", "str.splitlines"),
    "y.load_all": ("pkg/shapes.py", "Loader.load_all"),
    "pick": ("app.py", "pick"),
    "pick().run": ("pkg/shapes.py", "A.run"),
    "lines": ("app.py", "lines"),
    "go": ("app.py", "go"),
    "len": ("@typeshed/stdlib/builtins.pyi", "len"),
}


def load_bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("resolution_check", BENCH / "resolution_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rc() -> ModuleType:
    return load_bench()


def test_call_column(rc: ModuleType) -> None:
    col = rc.call_column
    assert col("    return self.load(x)", "self.load") == (16, "")
    assert col("x = os . path.join(a, b)", "os.path.join") == (14, "")
    assert col("é = f(1)", "f") == (4, "")  # UTF-16 columns
    assert col("a.get(1) or b.get(2)", "c.get") == (None, "ambiguous on the line")
    assert col("    pass", "f") == (None, "not on the line")
    assert col("f(f(1))", "f") == (None, "ambiguous on the line")
    assert col("foo(bar)", "bar") == (4, "")  # a name passed, not called: alone on the line


def test_declared_ident(rc: ModuleType) -> None:
    # gopls answers `len(x)` with the `func` keyword of builtin.go's declaration
    assert rc._declared_ident("func len(v Type) int", 0) == "len"
    assert rc._declared_ident("func (f *File) Close() error {", 0) == "Close"
    assert rc._declared_ident("type error interface {", 0) == "error"
    assert rc._declared_ident("func len(v Type) int", 5) == "len"
    assert rc._declared_ident("x := myfunc(1)", 5) == "myfunc"


def test_site_column(rc: ModuleType) -> None:
    # a site's UTF-8 byte column, as extraction records it, becomes the server's UTF-16 one
    assert rc.site_column("é = f(1)", 5, "f") == 4
    assert rc.site_column("    return self.load(x)", 16, "self.load") == 16
    assert rc.site_column("    return self.load(x)", 11, "self.load") is None  # not the name


def test_sample_sites_samples_call_sites(rc: ModuleType) -> None:
    edges = [
        Edge("python:function:a.py:f", "calls", "g", "a.py", 2, sites=((2, 4), (3, 4), (5, 8))),
        Edge("python:function:a.py:f", "calls", "h", "a.py", 4, sites=((4, 4),)),
    ]
    got = rc.sample_sites(edges, 10, seed=1)
    assert sorted(s.at for s in got) == [(2, 4), (3, 4), (4, 4), (5, 8)]
    assert [s.line for s in got if s.edge.target_name == "g"] == [2, 3, 5]


def test_wilson(rc: ModuleType) -> None:
    lo, hi = rc.wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert rc.wilson(0, 0) == (0.0, 1.0)
    lo, hi = rc.wilson(20, 20)
    assert hi == 1.0 and 0.83 < lo < 0.84


def test_against_basedpyright(rc: ModuleType, tmp_path: Path) -> None:
    tool("basedpyright-langserver")
    project = write_tree(tmp_path / "proj", PROJECT)
    args = argparse.Namespace(
        corpus=project,
        language="python",
        db=None,
        sample=100,  # more than the project has: every call is a site
        seed=3,
        timeout=30.0,
        server=None,
        jobs=1,
        exclude=None,
        java_home=None,
        json=True,
        examples=10,
    )
    got = rc.collect(args, tmp_path / "work")
    names = [s.edge.target_name for s in got.sites]
    assert set(names) == set(TRUTH)
    # every call site is sampled: `go` is called from `total` once and from `twice` twice
    assert len(names) == len(TRUTH) + 2 and names.count("go") == 3
    twice = sorted(s.line for s in got.sites if s.edge.src.endswith(":twice"))
    assert len(twice) == 2 and twice[0] != twice[1]
    assert all(s.uniform for s in got.sites)
    for site in got.sites:
        path, qualname = TRUTH[site.edge.target_name]
        assert site.col is not None, site
        theirs = {(got.entities[k].path, got.entities[k].qualname) for k in site.ref_keys}
        assert theirs == {(path, qualname)}, site
        assert site.ref == ("stub" if path.startswith("@") else "workspace"), site

    # The figures count exactly the agreements with the truth, label by label, per site.
    def right(site: Any) -> bool:
        dst = got.entities.get(site.edge.dst or "")
        return dst is not None and (dst.path, dst.qualname) == TRUTH[site.edge.target_name]

    result = rc.compare(got.sites, got.entities, got.population, examples=10)
    for label in ("exact", "inferred"):
        mine = [s for s in got.sites if s.label == label]
        prec = result["all"]["precision"][label]
        assert (prec["k"], prec["n"]) == (sum(map(right, mine)), len(mine)), label
        wrong = {ex["target_name"] for ex in prec["disagreements"]}
        assert wrong == {s.edge.target_name for s in mine if not right(s)}, label
    recall = result["all"]["recall"]
    assert (recall["k"], recall["n"]) == (sum(map(right, got.sites)), len(got.sites))
    missed = {s.edge.target_name for s in got.sites if not right(s)}
    assert {ex["target_name"] for ex in recall["misses"]} == missed
    workspace = [s for s in got.sites if not TRUTH[s.edge.target_name][0].startswith("@")]
    assert result["workspace"]["recall"]["n"] == len(workspace)
    text = rc.render({**result, **got.facts, "calls_by_label": got.population})
    assert "precision exact" in text and "recall" in text


def test_trimmed_typeshed(rc: ModuleType, tmp_path: Path) -> None:
    """Stubs of modules the corpus defines go, but not those a kept stub re-exports from."""
    typeshed = write_tree(
        tmp_path / "typeshed",
        {
            "stdlib/VERSIONS": "os: 3.0-\n",
            "stdlib/builtins.pyi": "from os import PathLike\nclass str: ...\n",
            "stdlib/posix.pyi": "from os import stat as stat\n",
            "stdlib/os/__init__.pyi": "from . import path\ndef stat(p: str) -> int: ...\n",
            "stdlib/os/path.pyi": "from posixpath import *\n",
            "stdlib/posixpath.pyi": "def join(a: str) -> str: ...\n",
            "stdlib/shutil.pyi": "from os import stat as stat\ndef copy() -> None: ...\n",
            "stdlib/json/__init__.pyi": "def dumps() -> str: ...\n",
        },
    )
    corpus = write_tree(
        tmp_path / "corpus",
        {"os.py": "", "posixpath.py": "", "shutil.py": "", "json/__init__.py": ""},
    )
    out, removed = rc.trimmed_typeshed(typeshed, corpus, tmp_path / "out")
    # posix (a C module: kept) re-exports from os, and os (through os/path.pyi) from
    # posixpath: both kept although the corpus defines them; shutil's and json's stubs go.
    assert removed == ["json", "shutil"]
    left = sorted(p.relative_to(out / "stdlib").as_posix() for p in (out / "stdlib").rglob("*"))
    assert left == [
        "VERSIONS",
        "builtins.pyi",
        "os",
        "os/__init__.pyi",
        "os/path.pyi",
        "posix.pyi",
        "posixpath.pyi",
    ]
