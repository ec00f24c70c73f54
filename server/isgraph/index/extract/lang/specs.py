"""Per-language specs for the shared engine (``extract/engine.py``), and the per-file
namespace some languages take from project files (Go's ``go.mod``, Rust's ``Cargo.toml``;
for JS/TS the ``tsconfig.json`` that maps module specifiers)."""

from __future__ import annotations

from isgraph.index.extract.engine import LangSpec
from isgraph.index.extract.lang.c import CppSpec, CSpec
from isgraph.index.extract.lang.csharp import CSharpSpec
from isgraph.index.extract.lang.go import GoSpec, go_package
from isgraph.index.extract.lang.java import JavaSpec
from isgraph.index.extract.lang.js import JsSpec, TsSpec, TsxSpec
from isgraph.index.extract.lang.php import PhpSpec
from isgraph.index.extract.lang.ruby import RubySpec
from isgraph.index.extract.lang.rust import RustSpec, rust_module
from isgraph.index.extract.lang.swift import SwiftSpec
from isgraph.index.extract.lang.tsconfig import config_for

SPECS: dict[str, LangSpec] = {
    spec.language: spec
    for spec in (
        JsSpec(),
        TsSpec(),
        TsxSpec(),
        GoSpec(),
        JavaSpec(),
        RustSpec(),
        CSpec(),
        CppSpec(),
        RubySpec(),
        PhpSpec(),
        CSharpSpec(),
        SwiftSpec(),
    )
}


def module_of(root: str, relpath: str, language: str) -> str:
    """What the worker passes the extractor as ``module`` for a non-Python file."""
    if language == "go":
        return go_package(root, relpath)
    if language == "rust":
        return rust_module(root, relpath)
    if language in ("javascript", "typescript", "tsx"):
        return config_for(root, relpath)  # the tsconfig.json whose `paths` apply
    return ""


__all__ = ["SPECS", "module_of"]
