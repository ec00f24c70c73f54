"""Swift: a module's names are global to it (``Type.method``), so a name from another file is
``inferred`` (module boundaries are not known); ``Foo()`` constructs ``Foo`` or calls ``Foo``;
``self.m()`` and bare ``m()`` inside a type look in the type, its extensions and bases;
``super.m()`` in the bases."""

from __future__ import annotations

from tree_sitter import Node

from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text


class SwiftSpec(LangSpec):
    language = "swift"
    self_words = frozenset({"self"})
    import_members = False

    def namespace(self, ctx: Context, package: str) -> str:
        return ""

    def module_fqn(self, ctx: Context) -> str:
        return ctx.path.removesuffix(".swift")

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        name = next((c for c in node.named_children if c.type == "identifier"), None)
        return [Import(None, self.normalize(text(name)))] if name is not None else []

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        # Names are global to a Swift module, but a repo may hold several modules (package
        # targets) and isgraph does not know their boundaries: another file's name is a guess.
        dotted = ".".join(parts)
        if len(parts) == 1:
            own = (f"^{frame.self_type}.{dotted}",) if frame.self_type else ()
            return (*own, f"~={dotted}")
        if parts[0][:1].isupper():
            return (f"~={dotted}", f"?{parts[-1]}")
        return (f"?{parts[-1]}",)
