"""Rust: entities are named after their module path within the crate (``mycrate.a.b.Item``,
``mycrate.a.b.Type.method`` for ``impl`` methods), the crate named as ``Cargo.toml`` names it.
``use`` paths (``crate::``, ``self::``, ``super::``, a ``mod`` declared here, or another crate)
bind names; ``pub use`` re-exports them; ``self.m()`` and ``Self::m()`` name the impl's type.
"""

from __future__ import annotations

import posixpath

from tree_sitter import Node

from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text
from isgraph.index.extract.lang.project import crate_name, find_up


def rust_module(root: str, relpath: str) -> str:
    """``crate.a.b`` for ``<crate>/src/a/b.rs`` (``mod.rs``, ``lib.rs``, ``main.rs`` name
    their directory / the crate); files outside ``src`` are named by their path."""
    cratedir = find_up(root, posixpath.dirname(relpath), "Cargo.toml")
    crate = crate_name(root, cratedir) if cratedir is not None else "crate"
    rel = relpath[len(cratedir) :].lstrip("/") if cratedir else relpath
    parts = rel[: -len(".rs")].split("/") if rel.endswith(".rs") else rel.split("/")
    if parts and parts[0] == "src":
        parts = parts[1:]
        if parts in (["lib"], ["main"]):
            parts = []
    if parts and parts[-1] == "mod":
        parts = parts[:-1]
    return ".".join([crate, *(p.replace("-", "_") for p in parts)])


class RustSpec(LangSpec):
    language = "rust"
    self_words = frozenset({"self"})
    super_words = frozenset()

    def namespace(self, ctx: Context, package: str) -> str:
        return ctx.module or "crate"

    def _path(self, parts: list[str], ctx: Context) -> list[str]:
        """A path's segments made absolute (``crate``/``self``/``super`` replaced)."""
        ns = ctx.namespace.split(".")
        out: list[str] = []
        i = 0
        if parts and parts[0] == "crate":
            out, i = ns[:1], 1
        elif parts and parts[0] in ("self", "super"):
            out = ns
            while i < len(parts) and parts[i] in ("self", "super"):
                if parts[i] == "super" and len(out) > 1:
                    out = out[:-1]
                i += 1
        elif parts and parts[0] in ctx.top:  # a `mod x;` or item declared here
            return [*ctx.top[parts[0]].split("."), *parts[1:]]
        return [*out, *parts[i:]]

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        export = any(c.type == "visibility_modifier" for c in node.children)
        arg = node.child_by_field_name("argument")
        out: list[Import] = []
        self._use(arg, [], ctx, export, out)
        return out

    def _use(
        self, node: Node | None, prefix: list[str], ctx: Context, export: bool, out: list[Import]
    ) -> None:
        if node is None:
            return
        kind = node.type
        if kind in ("identifier", "scoped_identifier", "crate", "self", "super"):
            parts = [*prefix, *text(node).replace(" ", "").split("::")]
            path = self._path(parts, ctx)
            local = parts[-1]
            if local == "self":  # use a::b::{self} binds b
                path, local = path[:-1], parts[-2] if len(parts) > 1 else ""
            out.append(Import(local or None, ".".join(path), export=export))
        elif kind == "use_as_clause":
            parts = [*prefix, *text(node.child_by_field_name("path")).replace(" ", "").split("::")]
            alias = text(node.child_by_field_name("alias"))
            out.append(
                Import(
                    None if alias == "_" else alias, ".".join(self._path(parts, ctx)), export=export
                )
            )
        elif kind == "use_wildcard":
            inner = node.named_children[0] if node.named_children else None
            parts = [*prefix, *text(inner).replace(" ", "").split("::")] if inner else prefix
            out.append(Import(None, ".".join(self._path(parts, ctx)), star=True, export=export))
        elif kind == "scoped_use_list":
            head = node.child_by_field_name("path")
            sub = (
                [*prefix, *text(head).replace(" ", "").split("::")] if head is not None else prefix
            )
            self._use(node.child_by_field_name("list"), sub, ctx, export, out)
        elif kind == "use_list":
            for child in node.named_children:
                self._use(child, prefix, ctx, export, out)

    def candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if parts[0] == "self" and len(parts) == 2 and frame.self_type:
            # `^` when the impl sits beside the type (methods are its children, trait default
            # methods are found through `impl Trait for Type`), `=` for an impl elsewhere
            t = frame.self_type
            return (f"^{t}.{parts[1]}", f"={t}.{parts[1]}", f"?{parts[1]}")
        if parts[0] == "Self" and frame.self_type and len(parts) > 1:
            return (f"={frame.self_type}.{'.'.join(parts[1:])}", f"?{parts[-1]}")
        if parts[0] in ("crate", "super") or (parts[0] == "self" and len(parts) > 2):
            return (f"={'.'.join(self._path(parts, ctx))}",)
        return super().candidates(parts, ctx, frame)

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        dotted = ".".join(parts)
        globs = tuple(f"={s}.{dotted}" for s in ctx.stars)
        if len(parts) == 1:
            return globs
        if "::" not in ctx.raw:  # a method call on a value: `x.y()`
            return (f"?{parts[-1]}",)
        if parts[0][:1].islower():  # another crate's path
            return (*globs, f"={dotted}", f"?{parts[-1]}")
        return (*globs, f"?{parts[-1]}")
