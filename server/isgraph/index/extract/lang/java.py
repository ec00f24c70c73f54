"""Java: entities are named ``<package>.<Class>.<member>``. Single-type imports bind the
class's simple name, on-demand (``.*``) imports and the file's own package are searched for
names no import binds (as javac does), then ``java.lang``. ``m()`` and ``this.m()`` are looked
up in the enclosing class and its bases."""

from __future__ import annotations

from tree_sitter import Node

from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text


class JavaSpec(LangSpec):
    language = "java"
    guess_by_name = False  # calls on unknown receivers mostly go into the JDK / .NET

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        name = next((c for c in node.named_children if c.type != "asterisk"), None)
        dotted = "".join(text(name).split())
        if not dotted:
            return []
        if any(c.type == "asterisk" for c in node.children):
            return [Import(None, dotted, star=True)]
        return [Import(dotted.rsplit(".", 1)[-1], dotted)]

    def type_scopes(self, ctx: Context, frame: Frame) -> list[str]:
        """Where a simple type name is looked for: enclosing types, the package, the
        on-demand imports, java.lang."""
        scopes: list[str] = []
        if frame.self_type:
            owner = frame.self_type
            while owner and owner != ctx.namespace:
                scopes.append(owner)
                owner = owner.rpartition(".")[0]
        scopes += [ctx.namespace, *ctx.stars, "java.lang"]
        return scopes

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) == 1:
            name = parts[0]
            own = (f"^{frame.self_type}.{name}",) if frame.self_type else ()
            return own + tuple(f"={s}.{name}" for s in ctx.stars)  # static on-demand imports
        if parts[0][:1].isupper():
            dotted = ".".join(parts)
            return (
                *tuple(
                    f"={s}.{dotted}" if s else f"={dotted}" for s in self.type_scopes(ctx, frame)
                ),
                f"?{parts[-1]}",
            )
        return (f"?{parts[-1]}",)

    def type_candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if parts[0] in ctx.bindings or parts[0] in ctx.top:
            return self.candidates(parts, ctx, frame)
        dotted = ".".join(parts)
        return (
            *tuple(f"={s}.{dotted}" if s else f"={dotted}" for s in self.type_scopes(ctx, frame)),
            f"={dotted}",
        )
