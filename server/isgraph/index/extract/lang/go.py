"""Go: a package is a directory; its import path is ``go.mod``'s module path plus the
directory (Go's standard library: ``src/go.mod`` says ``module std``, and its import paths are
bare directories). Entities are named ``<import path>.Name`` and ``<import path>.Type.Method``,
so ``fmt.Println`` under ``import "fmt"`` is the candidate ``=fmt.Println``; an unqualified
name is the package's own (any file of the directory); ``recv.M()`` looks ``M`` up in the
receiver's type and the types it embeds.
"""

from __future__ import annotations

import posixpath
import re

from tree_sitter import Node

from isgraph.index.extract.definitions import Span
from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text, unquote
from isgraph.index.extract.lang.project import find_up, go_module

_VERSION = re.compile(r"v\d+")


def go_package(root: str, relpath: str) -> str:
    """The import path of the package holding ``relpath``."""
    reldir = posixpath.dirname(relpath)
    moddir = find_up(root, reldir, "go.mod")
    if moddir is None:
        return reldir
    module = go_module(root, moddir)
    sub = reldir[len(moddir) :].strip("/")
    if module == "std" or not module:
        return sub
    return f"{module}/{sub}" if sub else module


class GoSpec(LangSpec):
    language = "go"
    self_words = frozenset()
    super_words = frozenset()
    import_members = False

    def namespace(self, ctx: Context, package: str) -> str:
        return ctx.module or package

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        path = unquote(text(node.child_by_field_name("path")))
        name = node.child_by_field_name("name")
        if name is not None:
            local = text(name)
            if local == ".":
                return [Import(None, path, star=True)]
            return [Import(None if local == "_" else local, path)]
        segs = path.split("/")
        local = segs[-2] if len(segs) > 1 and _VERSION.fullmatch(segs[-1]) else segs[-1]
        return [Import(local.replace("-", "_").removeprefix("go_"), path)]

    def self_names(self, span: Span) -> frozenset[str]:
        if span.node.type != "method_declaration":
            return frozenset()
        receiver = span.node.child_by_field_name("receiver")
        param = (
            receiver.named_children[0] if receiver is not None and receiver.named_children else None
        )
        name = param.child_by_field_name("name") if param is not None else None
        return frozenset({text(name)}) if name is not None else frozenset()

    def candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) == 2 and parts[0] in frame.self_names and frame.self_type:
            # the receiver: its type and what it embeds (`^`, when the type is in the same
            # file as the method), its type's methods in other files (`=`), then by name
            t = frame.self_type
            return (f"^{t}.{parts[1]}", f"={t}.{parts[1]}", f"?{parts[1]}")
        return super().candidates(parts, ctx, frame)

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) == 1:  # the package's own name (another file) or a dot-import's
            return (f"={ctx.namespace}.{parts[0]}", *(f"={s}.{parts[0]}" for s in ctx.stars))
        if len(parts) == 2 and parts[0][:1].isupper():  # Type.Method (method expression)
            return (f"={ctx.namespace}.{parts[0]}.{parts[1]}", f"?{parts[1]}")
        return (f"?{parts[-1]}",)
