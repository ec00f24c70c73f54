"""Ruby: constants are global and looked up through the lexical nesting (``module M; class
C`` sees ``M::C::X``, ``M::X``, ``X``); ``Foo.new`` constructs ``Foo``; bare and ``self.``
calls are looked up in the enclosing class and what it includes or inherits;
``require_relative`` names a file relative to the requiring one."""

from __future__ import annotations

import posixpath

from tree_sitter import Node

from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text, unquote


class RubySpec(LangSpec):
    language = "ruby"
    self_words = frozenset({"self"})
    import_members = False
    ignore_calls = frozenset(
        {
            "require",
            "require_relative",
            "include",
            "extend",
            "prepend",
            "attr_reader",
            "attr_writer",
            "attr_accessor",
            "private",
            "protected",
            "public",
            "module_function",
        }
    )

    def namespace(self, ctx: Context, package: str) -> str:
        return ""

    def module_fqn(self, ctx: Context) -> str:
        return ctx.path.removesuffix(".rb")

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        args = node.child_by_field_name("arguments")
        if args is None or not args.named_children:
            return []
        name = unquote(text(args.named_children[0])).removesuffix(".rb")
        if text(node.child_by_field_name("method")) == "require_relative":
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.path), name))
            return [Import(None, rel)]
        return [Import(None, f"lib/{name}", alts=(name,))]

    def lexical(self, dotted: str, frame: Frame) -> tuple[str, ...]:
        scopes = frame.scope.split(".") if frame.scope else []
        return tuple(
            f"={'.'.join(scopes[:i])}.{dotted}" if i else f"={dotted}"
            for i in range(len(scopes), -1, -1)
        )

    def candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) > 1 and parts[-1] == "new" and parts[0][:1].isupper():
            return self.lexical(".".join(parts[:-1]), frame)  # Foo.new -> the class
        return super().candidates(parts, ctx, frame)

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) == 1:
            if frame.self_type:
                return (f"^{frame.self_type}.{parts[0]}", f"?{parts[0]}")
            return (f"?{parts[0]}",)
        if parts[0][:1].isupper():
            return (*self.lexical(".".join(parts), frame), f"?{parts[-1]}")
        return (f"?{parts[-1]}",)

    def type_candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        return self.lexical(".".join(parts), frame)
