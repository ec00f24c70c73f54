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
from isgraph.index.extract.engine import (
    Context,
    Frame,
    Import,
    LangSpec,
    VarType,
    text,
    unquote,
)
from isgraph.index.extract.lang.project import find_up, go_module
from isgraph.index.gobuild import build_directive

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


# Go's predeclared identifiers that name functions and types: documented by the `builtin`
# package (`src/builtin/builtin.go`), which gopls answers for them.
PREDECLARED = frozenset(
    [
        "append",
        "cap",
        "clear",
        "close",
        "complex",
        "copy",
        "delete",
        "imag",
        "len",
        "make",
        "max",
        "min",
        "new",
        "panic",
        "print",
        "println",
        "real",
        "recover",
        "bool",
        "byte",
        "comparable",
        "complex64",
        "complex128",
        "error",
        "float32",
        "float64",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "rune",
        "string",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "any",
    ]
)
_NAMED_TYPES = frozenset({"type_identifier", "qualified_type"})


class GoSpec(LangSpec):
    language = "go"
    self_words = frozenset()
    super_words = frozenset()
    import_members = False
    static_types = True

    def type_name(self, node: Node) -> list[str] | None:
        if node.type == "pointer_type" and node.named_children:
            node = node.named_children[0]
        if node.type == "generic_type":  # `List[int]`: List
            node = node.child_by_field_name("type") or node
        if node.type not in _NAMED_TYPES:
            return None  # slices, maps, channels, functions, struct literals' types
        return super().type_name(node)

    def declared_types(self, span: Span) -> list[tuple[str, Node, bool]]:
        node, out = span.node, []
        result = node.child_by_field_name("result")
        if result is not None and result.type == "parameter_list":  # (T, error): T
            first = result.named_children[0] if result.named_children else None
            result = first.child_by_field_name("type") if first is not None else None
        if result is not None and text(result) not in PREDECLARED:  # (no methods to find)
            out.append(("()", result, True))
        typ = node.child_by_field_name("type") if node.type == "type_spec" else None
        fields = typ.named_children[0] if typ is not None and typ.type == "struct_type" else None
        for field_decl in fields.named_children if fields is not None else []:
            ftype = field_decl.child_by_field_name("type")
            for name in field_decl.children_by_field_name("name"):
                if ftype is not None and text(ftype) not in PREDECLARED:
                    out.append((f".{text(name)}", ftype, True))
        return out

    def member_candidates(
        self, typed: VarType, attr: str, ctx: Context, frame: Frame
    ) -> tuple[str, ...]:
        # A method of a type that is no struct or interface (`type Celsius float64`) is
        # not found by looking in the type: by its fqn then (`=T.m`).
        out: list[str] = []
        for cand in super().member_candidates(typed, attr, ctx, frame):
            out.append(cand)
            if cand.startswith("^"):  # (also `T(x)`, a conversion: a "call" of a type)
                out.append(f"={cand[1:]}")
        return tuple(out)

    def namespace(self, ctx: Context, package: str) -> str:
        return ctx.module or package

    def module_signature(self, source: bytes) -> str:
        return build_directive(source)  # which platforms compile the file (resolution)

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
        if len(parts) == 3 and parts[0] in frame.self_names and frame.self_type:
            # `r.field.M()`: what the field holds (no guess when this file declares it)
            held = f"*{frame.self_type}.{parts[1]}.{parts[2]}"
            if f"{frame.self_type}.{parts[1]}" in ctx.held:
                return (held,)
            return (held, f"?{parts[2]}")
        return super().candidates(parts, ctx, frame)

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if len(parts) == 1:  # the package's own name (another file) or a dot-import's
            own = (f"={ctx.namespace}.{parts[0]}", *(f"={s}.{parts[0]}" for s in ctx.stars))
            if parts[0] in PREDECLARED:  # `len`, `string(b)`: the universe block
                return (*own, f"=builtin.{parts[0]}")
            return own
        if len(parts) == 2 and parts[0][:1].isupper():  # Type.Method (method expression)
            return (f"={ctx.namespace}.{parts[0]}.{parts[1]}", f"?{parts[1]}")
        return (f"?{parts[-1]}",)
