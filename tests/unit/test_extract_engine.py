"""The shared engine's per-language pieces that are pure functions: module paths from project
files, JS module names, C# directive blanking, a BOM, and candidates written out."""

from __future__ import annotations

from pathlib import Path

from isgraph.index.extract.lang.csharp import blank_directives
from isgraph.index.extract.lang.go import go_package
from isgraph.index.extract.lang.js import module_path
from isgraph.index.extract.lang.rust import rust_module
from isgraph.index.extract.registry import EXTRACTORS


def test_go_package_from_go_mod(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "go.mod").write_text("// comment\nmodule example.com/svc\n\ngo 1.21\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "go.mod").write_text("module std\n")
    root = str(tmp_path)
    assert go_package(root, "svc/main.go") == "example.com/svc"
    assert go_package(root, "svc/internal/db/db.go") == "example.com/svc/internal/db"
    assert go_package(root, "src/net/http/server.go") == "net/http"  # Go's own tree
    assert go_package(root, "tools/x/x.go") == "tools/x"  # no go.mod: the directory


def test_rust_module_from_cargo_toml(tmp_path: Path) -> None:
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "Cargo.toml").write_text('[package]\nname = "geo-lib"\n')
    root = str(tmp_path)
    assert rust_module(root, "geo/src/lib.rs") == "geo_lib"
    assert rust_module(root, "geo/src/main.rs") == "geo_lib"
    assert rust_module(root, "geo/src/shapes/mod.rs") == "geo_lib.shapes"
    assert rust_module(root, "geo/src/shapes/square.rs") == "geo_lib.shapes.square"
    assert rust_module(root, "loose.rs") == "crate.loose"


def test_js_module_paths() -> None:
    assert module_path("src/util/index.ts") == "src/util"
    assert module_path("src/util/math.js") == "src/util/math"
    assert module_path("types/api.d.ts") == "types/api"
    assert module_path("app.component.tsx") == "app.component"


def test_csharp_directives_keep_the_first_branch_and_every_offset() -> None:
    src = b"class C {\n#if A\n  void M() {\n#else\n  void N() {\n#endif\n  }\n}\n"
    out = blank_directives(src)
    assert len(out) == len(src) and out.count(b"\n") == src.count(b"\n")
    assert b"void M()" in out and b"void N()" not in out and b"#" not in out


def test_a_bom_does_not_break_the_parse() -> None:
    x = EXTRACTORS["java"]("A.java", b"\xef\xbb\xbfpackage p;\nclass A { void m() {} }\n", "")
    assert x.syntax_error is None
    assert [(e.kind, e.fqn, e.start_line) for e in x.entities[1:]] == [
        ("class", "p.A", 2),
        ("method", "p.A.m", 2),
    ]


def test_rust_use_trees_become_bindings_and_re_exports() -> None:
    src = b"""pub use self::inner::{Thing, other as renamed};
use super::sib::*;
use crate::util::{self, clamp};
fn f() { clamp(); renamed(); util::g(); Thing::new(); }
"""
    x = EXTRACTORS["rust"]("src/a/b.rs", src, "geo.a.b")
    imports = sorted(e.target_name for e in x.edges if e.kind == "imports")
    assert imports == [
        "geo.a.b.inner.Thing",
        "geo.a.b.inner.other",
        "geo.a.sib",
        "geo.util",
        "geo.util.clamp",
    ]
    assert {(a.fqn, a.target) for a in x.aliases} == {
        ("geo.a.b.Thing", "geo.a.b.inner.Thing"),
        ("geo.a.b.renamed", "geo.a.b.inner.other"),
        ("geo.a.b.*", "geo.a.sib"),
    } - {("geo.a.b.*", "geo.a.sib")}  # a private glob is no re-export
    calls = {e.target_name: e.candidates for e in x.edges if e.kind == "calls"}
    assert calls["clamp"] == ("=geo.util.clamp",)
    assert calls["renamed"] == ("=geo.a.b.inner.other",)
    assert calls["util.g"] == ("=geo.util.g",)
    assert calls["Thing.new"] == ("=geo.a.b.inner.Thing.new",)


def test_a_variable_named_like_its_type_path_does_not_recurse() -> None:
    # serde: `fn f(de: D) { let x: de::Foo = …; x.m() }` once recursed without end
    x = EXTRACTORS["rust"]("a.rs", b"fn f(de: D) { let x: de::Foo = g(); x.m(); }", "c")
    calls = {e.target_name: e.candidates for e in x.edges}
    assert calls["x.m"] == ("?m",)


def test_c_annotation_macros_before_a_body_are_blanked() -> None:
    from isgraph.index.extract.lang.c import blank_trailing_macros

    src = b"void E::R()\n    GTEST_EXCLUSIVE_LOCK_REQUIRED_(g_mutex) {\n}\nif (x) FOO(y);\n"
    out = blank_trailing_macros(src)
    assert len(out) == len(src) and b"GTEST" not in out and b"FOO(y);" in out
    x = EXTRACTORS["cpp"]("a.cc", src[: src.index(b"if")], "")
    assert [(e.kind, e.qualname) for e in x.entities[1:]] == [("method", "E.R")]
