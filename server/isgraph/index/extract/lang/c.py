"""C and C++: names are global (C++ namespaces and classes qualify them), so an unqualified
call matches a definition of that name anywhere in the repo: a guess (``inferred``) unless
this file defines it. ``#include "x.h"`` names the header relative to the including file, then
to the root and its ``include/`` and ``src/`` directories (the common ``-I`` flags)."""

from __future__ import annotations

import posixpath
import re

from tree_sitter import Node

from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text, unquote

# An annotation macro between a function's parameters and its body (`void f()
# GTEST_LOCK_EXCLUDED_(mu) {`, `int g() __attribute__((x)) {`): without a preprocessor the
# grammar reads a function named after the macro. Blanked (same length: offsets hold).
_TRAILING_MACRO = re.compile(
    rb"(?<=\))(\s*(?:const|override|final|noexcept|volatile|&|&&|\s)*)"
    rb"((?:\s*[A-Z_][A-Z0-9_]{2,}\s*\((?:[^()]|\([^()]*\))*\))+)(?=\s*(?:\{|=|:))"
)


def blank_trailing_macros(source: bytes) -> bytes:
    """``f() MACRO(args) {`` -> ``f()              {`` (see ``_TRAILING_MACRO``)."""
    return _TRAILING_MACRO.sub(lambda m: m.group(1) + b" " * len(m.group(2)), source)


class CSpec(LangSpec):
    language = "c"
    import_members = False

    def preprocess(self, source: bytes) -> bytes:
        return blank_trailing_macros(source) if b"_(" in source or b"__" in source else source

    def namespace(self, ctx: Context, package: str) -> str:
        return ""

    def module_fqn(self, ctx: Context) -> str:
        return ctx.path

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        path = node.child_by_field_name("path")
        if path is None:
            return []
        name = unquote(text(path))
        if path.type == "system_lib_string":
            return [Import(None, name)]
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.path), name))
        alts = tuple(
            dict.fromkeys(
                p for p in (posixpath.normpath(name), f"include/{name}", f"src/{name}") if p != rel
            )
        )
        return [Import(None, rel, alts=alts)]

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        dotted = ".".join(parts)
        if len(parts) == 1:
            own = (f"^{frame.self_type}.{dotted}",) if frame.self_type else ()
            scope = (f"~={frame.scope}.{dotted}",) if frame.scope else ()
            return (*own, *scope, f"~={dotted}")
        if "::" in ctx.raw and "." not in ctx.raw and "->" not in ctx.raw:
            return (f"~={dotted}",)
        return (f"?{parts[-1]}",)

    def type_candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        dotted = ".".join(parts)
        scope = (f"~={frame.scope}.{dotted}",) if frame.scope else ()
        return (*scope, f"~={dotted}")


class CppSpec(CSpec):
    language = "cpp"
