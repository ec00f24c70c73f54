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

from isgraph.index.extract.definitions import Named
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


class TsSpec(JsSpec):
    language = "typescript"


class TsxSpec(JsSpec):
    language = "tsx"
