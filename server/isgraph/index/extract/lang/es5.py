"""What ES5-style JavaScript defines without ``class`` or ``export``: members assigned to a
constructor's prototype or to an object, the members of object literals bound to a name, and
what a CommonJS module exports.

* ``Foo.prototype.m = function…`` (or ``= other``, ``= make()``): method ``m`` of ``Foo``;
  ``Foo.prototype = { m: function…, n: other }``: the same for each member.
* ``Foo.s = function…``: static method ``s`` of ``Foo``; ``Foo.cfg = {…}`` (a statement): a
  constant ``Foo.cfg``.
* ``var o = { m: function…, inner: { … } }``: method ``o.m``, constant ``o.inner`` (and its
  own members); an object literal bound to nothing (an argument, a return value) defines
  nothing.
* ``exports.x = …`` / ``module.exports = {…}`` / ``module.exports.x = …``: names of the
  module itself (``x``), what ``require("./m").x`` and ``import {x} from "./m"`` name; an
  identifier exported under another name (``exports.x = y``, ``module.exports = {x: y}``,
  ``module.exports = Y``) is a re-export (``exports``), as ``export {y as x}`` /
  ``export default Y`` are.

The owner is named as written (``Foo``, ``A.B``); the sweep makes the definition a child of
the owner when the file defines it (``definitions.sweep``), which is what ``this.m()`` in a
prototype method and in the constructor resolve through (``^Foo.m``).
"""

from __future__ import annotations

import re

from tree_sitter import Node

from isgraph.index.extract.definitions import Named
from isgraph.index.extract.engine import Import, text

FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
# Objects whose members are the module's own names (CommonJS) or globals.
_MODULE_OBJECTS = frozenset({"exports", "module.exports"})
_GLOBAL_OBJECTS = frozenset({"window", "global", "globalThis", "self"})
# A value read from elsewhere: as a prototype member, a method (`Foo.prototype.m = other`).
_REFERENCES = frozenset(
    {"identifier", "member_expression", "call_expression", "parenthesized_expression"}
)
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_KEY = re.compile(r"[A-Za-z_$][\w$]*")


def assigned_value(node: Node) -> Node | None:
    """The value an assignment stores, through a chain (``a.x = b.y = function…``) and
    parentheses around a function (``exports.f = (function (x) {…})``, as TypeScript
    compiles an arrow function bound to an exported ``const``)."""
    value = node.child_by_field_name("right")
    while value is not None:
        if value.type == "assignment_expression":
            value = value.child_by_field_name("right")
        elif value.type == "parenthesized_expression" and value.named_child_count == 1:
            inner = value.named_children[0]
            if inner.type not in FUNCTION_VALUES:
                break
            value = inner
        else:
            break
    return value


def _member(left: Node | None) -> tuple[str, str] | None:
    """(object as written, property name) of an assignment target ``obj.name`` /
    ``obj["name"]``; None for anything else."""
    if left is None:
        return None
    if left.type == "member_expression":
        name = text(left.child_by_field_name("property"))
    elif left.type == "subscript_expression":  # `Foo.prototype["finally"]` (ES3 keywords)
        index = left.child_by_field_name("index")
        name = _string(index) if index is not None else ""
    else:
        return None
    if not _KEY.fullmatch(name):
        return None
    return text(left.child_by_field_name("object")), name


def _string(node: Node) -> str:
    return text(node)[1:-1] if node.type == "string" else ""


def _owner(obj: str) -> tuple[str, bool] | None:
    """(owner, on its prototype) of members assigned to ``obj``: ``""`` for the module's own
    names (``exports``, ``module.exports``, globals); None for ``this.x``, ``a[i].x``, calls
    (not definitions of a name)."""
    if obj in _MODULE_OBJECTS or obj in _GLOBAL_OBJECTS:
        return "", False
    if not _DOTTED.fullmatch(obj) or obj == "this" or obj.startswith("this."):
        return None
    if obj.endswith(".prototype"):
        return obj.removesuffix(".prototype"), True
    return obj, False


def assignment(node: Node) -> Named | None:
    """What ``left = right`` defines (see the module docstring), or None."""
    left = node.child_by_field_name("left")
    value = assigned_value(node)
    if left is None or value is None:
        return None
    if left.type == "identifier":  # `f = function…` (a global, or a hoisted `var f`)
        return Named("function", text(left)) if value.type in FUNCTION_VALUES else None
    member = _member(left)
    if member is None:
        return None
    obj, name = member
    owned = _owner(obj)
    if owned is None:
        # `this.m = function…`, `a[i].m = function…`: a function of the file, as before ES5
        # members were read (ctags tags a constructor's `this.m` as its method)
        return Named("function", name) if value.type in FUNCTION_VALUES else None
    owner, proto = owned
    function = value.type in FUNCTION_VALUES or iife_returns_function(value)
    if f"{obj}.{name}" == "module.exports":
        # `module.exports = function…`: the module's one function, named as ctags does; an
        # object's members are what it exports (`object_member`)
        return Named("function", name) if function else None
    if name == "prototype":
        return None  # `Foo.prototype = {…}`: its members define; `= new Base()` a base
    if function:
        return Named("method" if owner else "function", name, owner)
    if proto and value.type in _REFERENCES:
        # a method taken from elsewhere; its value is computed by the enclosing code
        return Named("method", name, owner, scope=False)
    statement = node.parent is not None and node.parent.type == "expression_statement"
    if value.type == "object" and statement:  # `Foo.defaults = {…}`
        return Named("constant", name, owner)
    return None


def object_owner(obj: Node) -> tuple[str, bool] | None:
    """(owner, on a prototype) of the members of object literal ``obj``: the name it is bound
    to (``var o = {…}`` -> ``o``; ``Foo.prototype = {…}`` -> ``Foo``, True; ``module.exports =
    {…}`` -> ``""``), a member path for a nested literal (``o.inner``); None when it is bound
    to no name."""
    parent = obj.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        return (text(name), False) if name is not None and name.type == "identifier" else None
    if parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        if left is None:
            return None
        if left.type == "identifier":
            return text(left), False
        whole = text(left)
        if whole in _MODULE_OBJECTS:
            return "", False
        member = _member(left)
        if member is None:
            return None
        owned = _owner(member[0])
        if owned is None:
            return None
        owner, proto = owned
        if member[1] == "prototype" and not proto:
            return member[0], True
        return (f"{owner}.{member[1]}" if owner else member[1]), False
    if parent.type == "pair":
        key = pair_key(parent)
        outer = object_owner(parent.parent) if parent.parent is not None else None
        if not key or outer is None or outer[1]:
            return None
        return (f"{outer[0]}.{key}" if outer[0] else key), False
    return None


def pair_key(node: Node) -> str:
    """The name of an object literal member (``m: …``, ``"m": …``); "" for a computed key."""
    key = node.child_by_field_name("key") or node.child_by_field_name("name")
    if key is None:
        return ""
    name = _string(key) if key.type == "string" else text(key)
    return name if _KEY.fullmatch(name) else ""


def object_member(node: Node) -> Named | None:
    """What a member of an object literal defines (``pair``; ``method_definition`` outside a
    class), or None."""
    obj = node.parent
    if node.type == "method_definition":
        if obj is None or obj.type != "object":
            return Named("method")  # a class's method: named as usual
        owned = object_owner(obj)
        name = pair_key(node)
        if owned is None or not name:  # `{ m() {} }` bound to nothing: as before
            return Named("method")
        return Named("method", name, owned[0])
    owned = object_owner(obj) if obj is not None and obj.type == "object" else None
    name = pair_key(node)
    value = node.child_by_field_name("value")
    if owned is None or not name or value is None:
        return None
    owner, proto = owned
    if value.type in FUNCTION_VALUES:
        return Named("method", name, owner)
    if proto and value.type in _REFERENCES:
        return Named("method", name, owner, scope=False)
    if value.type == "object" and not proto:
        return Named("constant", name, owner)
    return None


def iife_returns_function(value: Node) -> bool:
    """Whether ``value`` is an immediately invoked function (``(function () {…}())``) that
    returns a function: ``var baseCreate = (function () { … return function (p) {…}; }())``
    binds a function, as ``var f = function…`` does."""
    while value.type == "parenthesized_expression" and value.named_child_count:
        value = value.named_children[0]
    if value.type != "call_expression":
        return False
    func = value.child_by_field_name("function")
    while func is not None and func.type == "parenthesized_expression" and func.named_child_count:
        func = func.named_children[0]
    if func is None or func.type != "function_expression":
        return False
    body = func.child_by_field_name("body")
    if body is None:
        return False
    declared = _declared_functions(body)
    returns = [r for r in _own_returns(body) if text(r) not in ("null", "undefined")]
    return bool(returns) and all(
        r.type in FUNCTION_VALUES or (r.type == "identifier" and text(r) in declared)
        for r in returns
    )


def _declared_functions(body: Node) -> set[str]:
    """Names ``body`` binds to functions at its top level: ``function f…``, ``var f =
    function…``, ``f = function…`` (q's ``var nextTick = (function () { nextTick = …``)."""
    out: set[str] = set()
    for stmt in body.named_children:
        if stmt.type == "function_declaration":
            out.add(text(stmt.child_by_field_name("name")))
        elif stmt.type in ("variable_declaration", "lexical_declaration"):
            for decl in stmt.named_children:
                init = decl.child_by_field_name("value")
                if init is not None and init.type in FUNCTION_VALUES:
                    out.add(text(decl.child_by_field_name("name")))
        elif stmt.type == "expression_statement" and stmt.named_child_count:
            expr = stmt.named_children[0]
            if expr.type != "assignment_expression":
                continue
            left, init = expr.child_by_field_name("left"), assigned_value(expr)
            if left is not None and left.type == "identifier" and init is not None:
                out.update([text(left)] if init.type in FUNCTION_VALUES else [])
    return out


def _own_returns(body: Node) -> list[Node]:
    """The values of ``body``'s return statements, not those of functions nested in it."""
    out: list[Node] = []
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_VALUES or node.type in ("function_declaration", "class"):
            continue
        if node.type == "return_statement":
            if node.named_child_count:
                out.append(node.named_children[0])
            continue
        stack.extend(node.named_children)
    return out


def exports(node: Node, local: dict[str, str]) -> list[Import]:
    """Re-exports of a CommonJS assignment whose value is a name of the file (``local``: name
    -> fqn): ``exports.x = y`` / ``module.exports.x = y`` -> ``x``; ``module.exports = {x:
    y}`` -> ``x``; ``module.exports = Y`` -> ``default`` (what ESM interop imports) and Y's
    members as the module's (a star re-export: ``require("./m").s`` is ``Y.s``)."""
    left = node.child_by_field_name("left")
    value = assigned_value(node)
    if left is None or value is None:
        return []
    if text(left) == "module.exports":
        if value.type == "identifier" and text(value) in local:
            target = local[text(value)]
            return [
                Import("default", target, export=True, bind=False),
                Import(None, target, star=True, export=True, bind=False),
            ]
        if value.type in FUNCTION_VALUES and "exports" in local:  # `function exports` here
            return [Import("default", local["exports"], export=True, bind=False)]
        if value.type != "object":
            return []
        out = []
        for pair in value.named_children:
            val = pair.child_by_field_name("value") if pair.type == "pair" else None
            key = pair_key(pair) if val is not None else ""
            name = text(val) if key and val is not None and val.type == "identifier" else ""
            if name and name != key and name in local:
                out.append(Import(key, local[name], export=True, bind=False))
        return out
    member = _member(left)
    if member is None or member[0] not in _MODULE_OBJECTS:
        return []
    if value.type == "identifier" and text(value) != member[1] and text(value) in local:
        return [Import(member[1], local[text(value)], export=True, bind=False)]
    return []


def names_its_binding(node: Node) -> bool:
    """Whether a named function expression is the value of a definition of the same name
    (``Foo.prototype.m = function m…``, ``var f = function f…``, ``{m: function m…}``): the
    name only lets the body call itself; the definition is the binding's."""
    own = text(node.child_by_field_name("name"))
    parent = node.parent
    if not own or parent is None:
        return False
    if parent.type == "variable_declarator":
        bound = text(parent.child_by_field_name("name"))
    elif parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        member = _member(left)
        bound = member[1] if member is not None else text(left)
    elif parent.type == "pair":
        bound = pair_key(parent)
    else:
        return False
    return bound == own
