"""JavaScript, TypeScript and TSX: ES modules (relative and index imports), CommonJS
``require``, re-exports, ``this`` / ``super`` calls and ``new``.

A file's namespace is its path without extension (``src/util/math``), and an ``index`` file
is its directory's (``src/util``), so ``import … from "./util"`` and ``"./util/index.js"`` name
the same module. A specifier the nearest ``tsconfig.json`` maps (``paths``, ``baseUrl``: see
``tsconfig.py``) names the file it maps to; other bare specifiers (``react``) stay as written
and remain unresolved.
"""

from __future__ import annotations

import posixpath

from tree_sitter import Node

from isgraph.index.extract.definitions import Named, Span
from isgraph.index.extract.engine import Context, Frame, Import, LangSpec, text, unquote
from isgraph.index.extract.lang import es5
from isgraph.index.extract.lang.tsconfig import map_specifier

# Globals of the JS platform (ECMAScript and the DOM): their members are lib.d.ts's.
_PLATFORM_GLOBALS = frozenset(
    [
        "Object",
        "Array",
        "String",
        "Number",
        "Boolean",
        "Symbol",
        "BigInt",
        "Math",
        "JSON",
        "Date",
        "RegExp",
        "Promise",
        "Reflect",
        "Proxy",
        "Map",
        "Set",
        "WeakMap",
        "WeakSet",
        "Error",
        "TypeError",
        "RangeError",
        "Intl",
        "ArrayBuffer",
        "DataView",
        "Atomics",
        "globalThis",
        "window",
        "document",
        "console",
        "navigator",
        "location",
        "history",
        "localStorage",
        "sessionStorage",
        "performance",
        "process",
        "Buffer",
    ]
)
_FUNCTION_METHODS = frozenset({"call", "apply", "bind"})
# Methods every array, string, function or object has (ECMAScript's prototypes; not Map's and
# Set's `get`/`set`/`has`, which workspace classes define as often): `list.push(x)` on a
# receiver of unknown type is the platform's, not the workspace's one `Queue.push`
# (bluebird: 50 of the guesses ES5 methods added were such calls; all but ~3 were wrong).
# fmt: off
_BUILTIN_METHODS = _FUNCTION_METHODS | frozenset((
    "push", "pop", "shift", "unshift", "slice", "splice", "concat", "join", "reverse", "sort",
    "indexOf", "lastIndexOf", "forEach", "map", "filter", "reduce", "reduceRight", "some", "every",
    "find", "findIndex", "findLast", "includes", "fill", "flat", "flatMap", "charAt", "charCodeAt",
    "codePointAt", "split", "substring", "substr", "toLowerCase", "toUpperCase", "trim",
    "trimStart", "trimEnd", "replace", "replaceAll", "match", "matchAll", "search", "startsWith",
    "endsWith", "padStart", "padEnd", "repeat", "localeCompare", "normalize", "hasOwnProperty",
    "isPrototypeOf", "propertyIsEnumerable", "toString", "toLocaleString", "valueOf", "toFixed",
    "toPrecision",
))
# fmt: on
_EXTENSIONS = (".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")


def module_path(path: str) -> str:
    for ext in _EXTENSIONS:
        if path.endswith(ext):
            path = path[: -len(ext)]
            break
    if path.endswith("/index"):
        path = path[: -len("/index")]
    return path


class JsSpec(LangSpec):
    language = "javascript"

    def namespace(self, ctx: Context, package: str) -> str:
        return module_path(ctx.path)

    def refine(self, node: Node, kind: str) -> Named | None:
        if node.type == "variable_declarator":
            # `const f = () => …`: a function; other values not
            value = node.child_by_field_name("value")
            if value is not None and (
                value.type in es5.FUNCTION_VALUES or es5.iife_returns_function(value)
            ):
                return Named("function")
            # an object literal bound to a name (`const config = {…}`): ctags tags these
            if value is not None and value.type == "object":
                return Named("constant")
            return None
        if node.type == "assignment_expression":  # `Foo.prototype.m = …`, `exports.x = …`
            return es5.assignment(node)
        if node.type in ("pair", "method_definition"):  # `{ m: function… }`, `{ m() {} }`
            return es5.object_member(node)
        if node.type == "function_expression" and es5.names_its_binding(node):
            return None  # `Foo.prototype.m = function m() {…}`: one definition, not two
        return Named(kind)

    def resolve(self, ctx: Context, spec: str) -> str:
        if not spec.startswith("."):
            # `ctx.module`: the tsconfig.json / jsconfig.json governing the file, if any
            mapped = map_specifier(ctx.module, spec) if ctx.module else None
            return module_path(mapped) if mapped is not None else spec
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.path), spec))
        return module_path(joined)

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        if node.type == "assignment_expression":  # exports.x = y, module.exports = Y
            return es5.exports(node, {**ctx.top, **ctx.bindings})
        if node.type == "variable_declarator":  # const x = require("./m")
            call = node.child_by_field_name("value")
            args = call.child_by_field_name("arguments") if call is not None else None
            if args is None or args.named_child_count == 0:
                return []
            target = self.resolve(ctx, unquote(text(args.named_children[0])))
            name = node.child_by_field_name("name")
            if name is not None and name.type == "object_pattern":  # const { a, b: c } = …
                out = []
                for prop in name.named_children:
                    if prop.type == "shorthand_property_identifier_pattern":
                        out.append(Import(text(prop), f"{target}.{text(prop)}"))
                    elif prop.type == "pair_pattern":
                        key, value = (
                            prop.child_by_field_name("key"),
                            prop.child_by_field_name("value"),
                        )
                        out.append(Import(text(value), f"{target}.{text(key)}"))
                return out or [Import(None, target)]
            local = text(name) if name is not None and name.type == "identifier" else None
            return [Import(local, target, called=f"{target}.default")]
        source = node.child_by_field_name("source")
        mod = self.resolve(ctx, unquote(text(source))) if source is not None else ""
        if node.type == "import_statement":
            return self._import_clause(node, mod)
        return self._export(node, ctx, mod)

    def _import_clause(self, node: Node, mod: str) -> list[Import]:
        out: list[Import] = []
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for child in clause.named_children:
                if child.type == "identifier":
                    out.append(Import(text(child), f"{mod}.default"))
                elif child.type == "namespace_import":
                    out.append(Import(text(child.named_children[0]), mod))
                elif child.type == "named_imports":
                    for spec in child.named_children:
                        name = text(spec.child_by_field_name("name"))
                        alias = spec.child_by_field_name("alias")
                        out.append(Import(text(alias) if alias else name, f"{mod}.{name}"))
        return out or [Import(None, mod)]

    def _export(self, node: Node, ctx: Context, mod: str) -> list[Import]:
        own = ctx.namespace
        out: list[Import] = []
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        if clause is not None:
            for spec in clause.named_children:
                name = text(spec.child_by_field_name("name"))
                alias = spec.child_by_field_name("alias")
                local = text(alias) if alias else name
                if mod:  # export { a as b } from "./m"
                    out.append(Import(local, f"{mod}.{name}", export=True))
                elif local != name:  # export { a as b }: b is a name of this module
                    out.append(Import(local, f"{own}.{name}", export=True))
            return out
        if mod:
            ns = next((c for c in node.named_children if c.type == "namespace_export"), None)
            if ns is not None:  # export * as ns from "./m"
                return [Import(text(ns.named_children[-1]), mod, export=True)]
            return [Import(None, mod, star=True, export=True)]  # export * from "./m"
        if any(c.type == "default" for c in node.children):
            decl = node.child_by_field_name("declaration") or node.child_by_field_name("value")
            named = decl.child_by_field_name("name") if decl is not None else None
            if decl is not None and decl.type == "identifier":
                named = decl
            if named is not None:
                return [Import("default", f"{own}.{text(named)}", export=True)]
        return []

    def guessable(self, name: str) -> bool:
        return name not in _BUILTIN_METHODS

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        # A bare name no import or definition binds is a global (or a local variable). A
        # member of a platform global (`Object.create`, `document.addEventListener`) or a
        # Function method (`fn.call`) lives in lib.d.ts, which the index does not hold: the
        # workspace's one method of that name would be a wrong guess (resolution_check).
        if len(parts) < 2 or parts[0] in _PLATFORM_GLOBALS or parts[-1] in _FUNCTION_METHODS:
            return ()
        if len(parts) == 2 and parts[0] == "exports":  # CommonJS: the module's own name
            return (f"={ctx.namespace}.{parts[1]}",)
        if len(parts) == 3 and parts[:2] == ["module", "exports"]:
            return (f"={ctx.namespace}.{parts[2]}",)
        return (f"?{parts[-1]}",)

    def candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        if parts == ["super"] and frame.self_type:  # `super(…)`: the nearest base constructor
            return (f">{frame.self_type}.constructor",)
        return super().candidates(parts, ctx, frame)


_PARAM_MODIFIERS = frozenset({"accessibility_modifier", "override_modifier", "readonly"})
# Type names of TypeScript that are no class of the workspace (lib.d.ts's or the language's).
_NULLISH = frozenset({"null", "undefined", "void"})


class TsSpec(JsSpec):
    """TypeScript: JavaScript plus the types written in the code (``static_types``)."""

    language = "typescript"
    static_types = True
    closures = True

    def type_name(self, node: Node) -> list[str] | None:
        if node.type == "type_annotation" and node.named_children:
            node = node.named_children[0]
        if node.type == "union_type":  # `T | null | undefined` is T
            kinds = [c for c in _union_members(node) if text(c) not in _NULLISH]
            if len(kinds) != 1:
                return None
            node = kinds[0]
        if node.type == "generic_type":
            node = node.child_by_field_name("name") or node
        if node.type not in (
            "type_identifier",
            "nested_type_identifier",
            "identifier",
            "member_expression",
        ):
            return None  # arrays, tuples, functions, object and literal types, primitives
        return super().type_name(node)

    def declared_types(self, span: Span) -> list[tuple[str, Node, bool]]:
        node, out = span.node, []
        returns = node.child_by_field_name("return_type")
        if returns is not None and span.entity.kind in ("function", "method"):
            out.append(("()", returns, True))
        params = node.child_by_field_name("parameters")
        if params is not None:
            for j, param in enumerate(_params(params)):
                ptype = param.child_by_field_name("type")
                fn = ptype.named_children[0] if ptype is not None and ptype.named_children else None
                if fn is not None and fn.type == "function_type":
                    inner = fn.child_by_field_name("parameters")
                    for i, cb in enumerate(_params(inner) if inner is not None else []):
                        cb_type = cb.child_by_field_name("type")
                        if cb_type is not None:
                            out.append((f".({j}).({i})", cb_type, False))
        if span.entity.kind == "class":
            out.extend(_fields(node))
        return out

    def contextual(self, var: Node) -> tuple[Node, bool, str] | None:
        param = var.parent
        if param is None:
            return None
        fn: Node | None = param
        i = 0  # `x => …`: the one parameter
        if param.type != "arrow_function":
            plist = param.parent
            fn = plist.parent if plist is not None else None
            if plist is None or plist.type != "formal_parameters":
                return None
            i = next((k for k, p in enumerate(_params(plist)) if p.id == param.id), -1)
        if fn is None:
            return None
        args = fn.parent
        call = args.parent if args is not None else None
        if i < 0 or args is None or call is None or args.type != "arguments":
            return None
        if fn.type not in ("arrow_function", "function_expression", "function"):
            return None
        j = next((k for k, a in enumerate(args.named_children) if a.id == fn.id), -1)
        if call.type == "call_expression":
            callee = call.child_by_field_name("function")
            return (callee, False, f".({j}).({i})") if callee is not None else None
        if call.type == "new_expression":
            ctor = call.child_by_field_name("constructor")
            return (ctor, True, f".({j}).({i})") if ctor is not None else None
        return None


class TsxSpec(TsSpec):
    language = "tsx"


def _union_members(node: Node) -> list[Node]:
    out: list[Node] = []
    for child in node.named_children:
        out.extend(_union_members(child) if child.type == "union_type" else [child])
    return out


def _params(plist: Node) -> list[Node]:
    """A parameter list's parameters, without TypeScript's ``this:`` (not an argument)."""
    out = []
    for p in plist.named_children:
        pattern = p.child_by_field_name("pattern")
        if p.type in ("required_parameter", "optional_parameter") and not (
            pattern is not None and pattern.type == "this"
        ):
            out.append(p)
    return out


def _fields(cls: Node) -> list[tuple[str, Node, bool]]:
    """A class's fields of a written type or initialised with ``new T()``, and its
    constructor's parameter properties (``constructor(private x: T)``)."""
    body = cls.child_by_field_name("body")
    out: list[tuple[str, Node, bool]] = []
    for member in body.named_children if body is not None else []:
        if member.type == "public_field_definition":
            name = member.child_by_field_name("name")
            typ = member.child_by_field_name("type")
            value = member.child_by_field_name("value")
            if typ is None and value is not None and value.type == "new_expression":
                typ = value.child_by_field_name("constructor")
            if name is not None and typ is not None:
                out.append((f".{text(name)}", typ, True))
        elif (
            member.type == "method_definition"
            and text(member.child_by_field_name("name")) == "constructor"
        ):
            params = member.child_by_field_name("parameters")
            for p in _params(params) if params is not None else []:
                pattern, typ = p.child_by_field_name("pattern"), p.child_by_field_name("type")
                modifier = any(
                    c.type in ("accessibility_modifier", "override_modifier")
                    or c.type == "readonly"
                    for c in p.children
                )
                if modifier and pattern is not None and typ is not None:
                    out.append((f".{text(pattern)}", typ, True))
    return out
