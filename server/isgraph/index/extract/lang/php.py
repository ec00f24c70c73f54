"""PHP: ``namespace App\\Models;`` prefixes the file's names (``App.Models.User``); ``use``
binds a class or function name; an unqualified function falls back to the global one, as PHP
does; ``$this->m()``, ``self::m()`` and ``static::m()`` are looked up in the class and its
bases, ``parent::m()`` in the bases."""

from __future__ import annotations

from tree_sitter import Node

from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text


class PhpSpec(LangSpec):
    language = "php"
    self_words = frozenset({"$this", "self", "static"})
    super_words = frozenset({"parent"})

    def module_fqn(self, ctx: Context) -> str:
        return ctx.path.removesuffix(".php")

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        out: list[Import] = []
        group = node.child_by_field_name("prefix") if node.type == "namespace_use_group" else None
        prefix = self.normalize(text(group)) if group is not None else ""
        for clause in node.named_children:
            if clause.type == "namespace_use_group":
                out += self.imports(clause, ctx)
                continue
            if clause.type != "namespace_use_clause":
                continue
            alias = clause.child_by_field_name("alias")
            name = next((c for c in clause.named_children if c != alias), None)
            target = self.normalize(text(name))
            if prefix:
                target = f"{prefix}.{target}"
            local = text(alias) if alias is not None else target.rsplit(".", 1)[-1]
            out.append(Import(local, target))
        return out

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        dotted = ".".join(parts)
        if ctx.raw.startswith("\\"):  # fully qualified
            return (f"={dotted}",)
        if len(parts) == 1 or parts[0][:1] != "$":
            own = f"={ctx.namespace}.{dotted}" if ctx.namespace else f"={dotted}"
            return (own, f"={dotted}") if ctx.namespace else (own,)
        return (f"?{parts[-1]}",)

    def type_candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if parts[0] in ctx.bindings:
            return self.candidates(parts, ctx, frame)
        return self.unbound(parts, ctx, frame)[:1]
