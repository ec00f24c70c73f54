"""C#: namespaces (block or file-scoped) qualify names (``N.M.Class.Method``); ``using N;``
makes a namespace's types visible, ``using A = N.T;`` binds an alias. A simple type name is
looked for in the enclosing types, the enclosing namespaces, then the ``using``s; ``M()`` and
``this.M()`` in the class and its bases, ``base.M()`` in the bases."""

from __future__ import annotations

import re

from tree_sitter import Node

from isgraph.index.extract.definitions import Named
from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text

_DIRECTIVE = re.compile(rb"[ \t]*#[ \t]*([a-z]+)")


def blank_directives(source: bytes) -> bytes:
    """Preprocessor lines blanked, and the ``#elif`` / ``#else`` branches with them, as if
    every first condition held: the grammar trips over a directive inside a member (``#if``
    around half a statement). Same length, so offsets and lines hold."""
    out = bytearray(source)
    depth_skipping = 0  # >0: inside a branch being blanked, at that nesting depth
    depth = 0
    pos = 0
    for line in source.split(b"\n"):
        m = _DIRECTIVE.match(line)
        word = m.group(1) if m else b""
        blank = bool(m) or depth_skipping > 0
        if word == b"if":
            depth += 1
        elif word in (b"elif", b"else") and depth and not depth_skipping:
            depth_skipping = depth
        elif word == b"endif" and depth:
            if depth_skipping == depth:
                depth_skipping = 0
            depth -= 1
        if blank:
            out[pos : pos + len(line)] = b" " * len(line)
        pos += len(line) + 1
    return bytes(out)


class CSharpSpec(LangSpec):
    language = "csharp"
    guess_by_name = False  # calls on unknown receivers mostly go into the JDK / .NET

    def preprocess(self, source: bytes) -> bytes:
        return blank_directives(source) if b"#" in source else source

    super_words = frozenset({"base"})

    def module_fqn(self, ctx: Context) -> str:
        return ctx.path.removesuffix(".cs")

    def refine(self, node: Node, kind: str) -> Named | None:
        # `namespace N.M;` names the rest of the file (the namespace), contains nothing
        return None if node.type == "file_scoped_namespace_declaration" else Named(kind)

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        alias = node.child_by_field_name("name")
        target = next((c for c in node.named_children if c != alias), None)
        dotted = self.normalize(text(target))
        if not dotted:
            return []
        if alias is not None:
            return [Import(text(alias), dotted)]
        return [Import(None, dotted, star=True)]

    def scopes(self, ctx: Context, frame: Frame) -> list[str]:
        out: list[str] = []
        scope = frame.self_type or frame.scope
        while scope:
            out.append(scope)
            scope = scope.rpartition(".")[0]
        if ctx.namespace:
            ns = ctx.namespace
            while ns:
                if ns not in out:
                    out.append(ns)
                ns = ns.rpartition(".")[0]
        return [*out, *ctx.stars, ""]

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) == 1:
            return (f"^{frame.self_type}.{parts[0]}",) if frame.self_type else ()
        if parts[0][:1].isupper():
            return (*self.type_candidates(parts, ctx, frame), f"?{parts[-1]}")
        return (f"?{parts[-1]}",)

    def type_candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if parts[0] in ctx.bindings:
            return self.candidates(parts, ctx, frame)
        dotted = ".".join(parts)
        return tuple(f"={s}.{dotted}" if s else f"={dotted}" for s in self.scopes(ctx, frame))
