"""Python extraction: entities, edges (with resolution candidates) and import aliases.

One tree-sitter query (run in C) captures every definition, call, import, typed parameter and
constructor assignment; Python then makes one sweep over the captures in source order with a
stack of open definitions, so the cost grows with what is captured, not with the tree.

Name binding follows Python's rules closely enough to be *exact* where it says so: function
scopes see enclosing function scopes and the module, not class bodies; ``import a.b`` binds
``a``; relative imports are resolved against the module's package. What a name refers to in
another file is left to the resolver as candidates (see ``model.Edge``).
"""

from __future__ import annotations

import builtins
import collections
import datetime
import functools
import operator
import re
from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor

from isgraph.index.extract.base import Extraction, name_site
from isgraph.index.parse import get_parser, get_query
from isgraph.model import Alias, Edge, EdgeKind, Entity, Resolution, make_key

LANG = "python"
QUERY = """
(function_definition) @def
(class_definition) @def
(call function: (_) @callee) @call
(import_statement) @import
(import_from_statement) @import
(typed_parameter (identifier) @param type: (type))
(typed_default_parameter name: (identifier) @param type: (type))
(assignment left: (identifier) @var)
(with_item value: (as_pattern alias: (as_pattern_target (identifier) @withvar)))
(return_statement) @ret
(yield) @ret
(assignment left: (attribute object: (identifier) attribute: (identifier)) @sattr right: (_))
(decorator (identifier) @deco)
(decorator (attribute) @deco)
"""

# Names Python resolves in the builtins module when no scope binds them.
BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Literal receivers whose type is certain: `"".join(...)` calls `builtins.str.join`.
_LITERAL_TYPES = {
    "string": "str",
    "concatenated_string": "str",
    "list": "list",
    "list_comprehension": "list",
    "dictionary": "dict",
    "dictionary_comprehension": "dict",
    "set": "set",
    "set_comprehension": "set",
    "integer": "int",
    "float": "float",
    "tuple": "tuple",
}
# Where an identifier is bound: the parent's type (any child), or (type, field) pairs.
_BINDING_PARENTS = frozenset(
    {
        "parameters",
        "lambda_parameters",
        "typed_parameter",
        "list_splat_pattern",
        "dictionary_splat_pattern",
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "as_pattern_target",
        "global_statement",
        "nonlocal_statement",
        "case_pattern",
    }
)
_BINDING_FIELDS = {
    "assignment": "left",
    "augmented_assignment": "left",
    "for_statement": "left",
    "for_in_clause": "left",
    "named_expression": "name",
    "default_parameter": "name",
    "typed_default_parameter": "name",
    "function_definition": "name",
    "class_definition": "name",
    "aliased_import": "alias",
}

_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# super().m / super(Mid, self).m (text without whitespace): Mid, m
_SUPER = re.compile(r"super\((?:([A-Za-z_][\w.]*),[A-Za-z_]\w*)?\)\.([A-Za-z_]\w*)")
_WS = re.compile(rb"\s+")
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property"})
_PROPERTY_SUFFIXES = (".setter", ".getter", ".deleter")
_IMPLICIT_CLASSMETHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
MAX_TARGET = 200

# A binding: (how, value). how is "def" (value = fqn), "import" (value = target fqn),
# "rename" (a function's `x = other.name`: value = that dotted text),
# "annot" (value = fqn candidate of a class), "local" (value = what the assigned value is an
# instance of: a literal's builtins class, or the fqn of what was called, `x = f(...)`, which
# the resolver reads as a class or a function's declared return type; empty when assignments
# disagree), "param" (an untyped parameter: value empty).
Binding = tuple[str, str]


@dataclass(slots=True)
class _Scope:
    """A definition being swept: its entity plus the names bound in its body."""

    entity: Entity
    kind: str  # module | class | function
    end_byte: int
    start_byte: int = 0
    self_name: str | None = None  # first parameter of a method
    binds_class: bool = False  # ... and it is the class (a classmethod, __new__...)
    overload: bool = False  # an @overload signature (the implementation follows)
    class_fqn: str | None = None  # for methods: their class
    names: dict[str, Binding] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)  # `from m import *` modules
    typed: dict[str, int] = field(default_factory=dict)  # local -> assignments giving its type
    # locals whose one assignment makes one of several classes (`B() if c else C()`)
    unions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # module and class bodies: `name = other.name` -> (what it names, "" if several; count)
    renames: dict[str, tuple[str, int]] = field(default_factory=dict)
    # functions: what each `return <value>` gives ("Self" for the method's own `self`,
    # a class candidate, or "" for a value of unknown type)
    returns: list[str] = field(default_factory=list)


def extract_python(path: str, source: bytes, module: str) -> Extraction:
    """Extract one Python file. Never raises on bad input (syntax errors keep what parsed)."""
    tree = get_parser(LANG).parse(source)
    root = tree.root_node
    out = Extraction()
    lines = source.count(b"\n") + 1
    mod_name = module.rsplit(".", 1)[-1]
    mod_entity = Entity(
        key=make_key(LANG, "module", path, module),
        language=LANG,
        kind="module",
        name=mod_name,
        qualname=module,
        path=path,
        start_line=1,
        start_col=0,
        end_line=max(1, min(lines, root.end_point[0] + 1)),
        end_col=root.end_point[1],
        doc=_docstring(root),
        fqn=module,
    )
    out.entities.append(mod_entity)
    is_package = path.endswith("__init__.py") or path.endswith("__init__.pyi")
    ex = _Extractor(path, module, is_package, out, mod_entity, source, root)
    captures = QueryCursor(get_query(LANG, QUERY)).captures(root)
    ex.run(captures)
    if ex.module_scope.stars:
        # `from m import *` re-exports: the resolver looks names of this module up in them.
        out.aliases.append(Alias(path, f"{module}.*", " ".join(ex.module_scope.stars)))
    if root.has_error:
        out.syntax_error = f"syntax error at line {_first_error_line(root)}"
    return out


class _Extractor:
    def __init__(
        self,
        path: str,
        module: str,
        is_package: bool,
        out: Extraction,
        mod_entity: Entity,
        source: bytes,
        root: Node,
    ) -> None:
        self.path = path
        self.source = source
        self.root = root
        self.rebound: dict[str, bool] = {}  # builtin name -> bound somewhere in this file
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.out = out
        self.module_scope = _Scope(mod_entity, "module", 1 << 62)
        self.scopes: dict[int, _Scope] = {}  # def node id -> scope (for bindings lookups)
        self.ordinals: dict[tuple[str, str], int] = {}
        # one edge per (source, kind, target as written); a repeat adds a site to it
        self.edge_seen: dict[tuple[str, str, str], Edge] = {}
        self.local: dict[str, Entity] = {module: mod_entity}  # fqn -> first definition here
        # (class fqn, attribute) -> class candidate of what methods assign to self.attribute
        self.attr_types: dict[tuple[str, str], str | None] = {}
        # (scope start byte, name, count) -> whether the name has that many bindings there
        self.single: dict[tuple[int, str, int], bool] = {}
        self.subclasses: dict[str, list[str]] | None = None  # class fqn -> same-file subclasses
        self.class_scopes: list[_Scope] = []
        self.functions: list[_Scope] = []
        # module-level `def` / `class` names -> fqn, known before the sweep reaches them
        self.later: dict[str, str] = {}
        self.narrows = b"isinstance(" in source  # whether isinstance narrowing is worth a look
        for child in root.named_children:
            if child.type == "decorated_definition":
                child = child.child_by_field_name("definition") or child
            if child.type in ("function_definition", "class_definition"):
                name = _text(child.child_by_field_name("name"))
                if name:
                    self.later.setdefault(name, f"{module}.{name}")

    # -- the sweep ------------------------------------------------------------------------
    def run(self, captures: dict[str, list[Node]]) -> None:
        # Events in source order; at equal start a definition opens before what it contains.
        order = {
            "def": 0,
            "import": 1,
            "param": 2,
            "var": 3,
            "sattr": 3,
            "withvar": 3,
            "ret": 3,
            "call": 4,
            "deco": 4,
        }
        events: list[tuple[int, int, str, Node]] = []
        for name in ("def", "import", "call", "deco", "param", "var", "sattr", "withvar", "ret"):
            for node in captures.get(name, ()):
                events.append((node.start_byte, order[name], name, node))
        events.sort(key=_event_order)
        # First pass: definitions and bindings (a call may use a name bound later in the file,
        # e.g. a function defined below the one calling it).
        stack: list[_Scope] = [self.module_scope]
        calls: list[tuple[Node, _Scope, list[_Scope]]] = []  # call, or a bare decorator's name
        # One copy of the stack per change of the stack, shared by the calls made under it
        # (a copy per call was ~330k list copies on the stdlib). Only read after the loop.
        chain: list[_Scope] = list(stack)
        for start, _, what, node in events:
            if len(stack) > 1 and start >= stack[-1].end_byte:
                while len(stack) > 1 and start >= stack[-1].end_byte:
                    stack.pop()
                chain = list(stack)
            scope = stack[-1]
            if what == "def":
                new = self._definition(node, stack)
                if new is not None:
                    stack.append(new)
                    chain = list(stack)
            elif what == "import":
                self._import(node, scope)
            elif what == "param":
                # The type is the parameter node's sibling field: derive it from the tree
                # rather than pairing capture lists (their orders need not agree).
                ptype = node.parent.child_by_field_name("type") if node.parent else None
                if scope.kind == "function" and ptype is not None:
                    self._typed_param(node, ptype, stack)
            elif what == "sattr":
                self._self_attr(node, stack)
            elif what == "var":
                self._local_assign(node, stack)
            elif what == "withvar":
                if scope.kind != "class":
                    self._with_target(node, stack)
            elif what == "ret":
                if scope.kind == "function":  # a generator returns a generator: "" then
                    ret = self._returned(node, stack) if node.type == "return_statement" else ""
                    scope.returns.append(ret)
            elif what != "deco" or not _text(node).endswith(_PROPERTY_SUFFIXES):
                # (a bare `@name` / `@obj.attr` calls what it names with the function;
                # `@size.setter` calls the getter's `property.setter`, not the getter)
                calls.append((node, scope, chain))
        for node, scope, chain in calls:
            self._call(node, scope, chain)
        self._assignment_aliases()

    def _assignment_aliases(self) -> None:
        """What other files can see of module and class bodies' assignments, as aliases:
        ``open = TarFile.open`` (the name stands for another), and at module level
        ``x = Foo()`` / ``x: Foo`` (target ``Foo()``: an instance of Foo), each only when the
        assignment is the name's only binding in the file's scope."""
        # A star import may bind any module name too (`from posix import *` then a fallback
        # `fspath = _fspath` run only when posix lacks it): no module-level alias then.
        module = [] if self.module_scope.stars else [self.module_scope]
        for scope in (*module, *self.class_scopes):
            prefix = self.module if scope is self.module_scope else scope.entity.fqn
            for name, (target, count) in scope.renames.items():
                if target and self._single_binding(scope, name, count):
                    self.out.aliases.append(Alias(self.path, f"{prefix}.{name}", target))
        # What instances hold: methods' `self.attr = Foo()`, all of one type, and the class
        # body's `attr = Foo()` / `attr: Foo` (`M.objects.get()`); both, when they agree.
        held: dict[tuple[str, str], str | None] = dict(self.attr_types)
        for cscope in self.class_scopes:
            for name, (how, value) in cscope.names.items():
                if how == "local" and value and self._single_typed(cscope, name):
                    key = (cscope.entity.fqn, name)
                    held[key] = value if held.get(key, value) == value else None
        for (cls, attr), made in held.items():
            if made is not None:
                self.out.aliases.append(Alias(self.path, f"{cls}.{attr}", f"{made}()"))
        scope = self.module_scope
        for name, (how, value) in scope.names.items() if module else ():
            if how == "local" and value and self._single_typed(scope, name):
                self.out.aliases.append(Alias(self.path, f"{self.module}.{name}", f"{value}()"))
        # What a function without a return annotation returns, when every `return <value>`
        # agrees (`return Foo(...)`, or a method's `return self`): `f()` -> `Foo()` / `Self`.
        defined = collections.Counter(f.entity.fqn for f in self.functions if not f.overload)
        for func in self.functions:
            if defined[func.entity.fqn] > 1:
                continue  # `def f` twice (if/else): which one a call meets is not known here
            kinds = {r for r in func.returns if r != "None"}
            sig = func.entity.signature
            if len(kinds) == 1 and "" not in kinds and " -> " not in sig and sig[:6] != "async ":
                (value,) = kinds
                target = value if value == "Self" else f"{value}()"
                self.out.aliases.append(Alias(self.path, f"{func.entity.fqn}()", target))

    def _returned(self, node: Node, stack: list[_Scope]) -> str:
        """What a return statement gives: "None" (bare, or `return None`), "Self" (a method's
        `return self`), a class candidate, or "" (anything else)."""
        value = node.named_children[0] if node.named_child_count else None
        if value is None or value.type == "none":
            return "None"
        scope = stack[-1]
        if value.type == "identifier" and scope.self_name and _text(value) == scope.self_name:
            # (a rebinding of `self` in the method would make this wrong: rare, and then
            # `self` is counted as a binding below)
            return "Self" if self._single_binding(scope, scope.self_name, 1) else ""
        if value.type == "call":
            if self._copies_self(value, stack) is not None:
                return "Self"  # `return copy.copy(self)`: the receiver's class, as `self`
            return self._value_type(value, stack) or ""
        return ""

    def _with_target(self, var: Node, stack: list[_Scope]) -> None:
        """``with Foo(...) as x``: x is what ``Foo.__enter__`` returns (the resolver reads
        that owner as a method and its declared or inferred return type)."""
        scope = stack[-1]
        name = _text(var)
        prev = scope.names.get(name)
        if prev is not None and prev[0] not in ("local", "param"):
            return
        pattern = var.parent.parent if var.parent is not None else None
        value = pattern.named_children[0] if pattern is not None else None
        made = self._value_type(value, stack)
        if made is None:
            return
        cls = f"{made}.__enter__"
        if prev is not None and prev[0] == "local" and prev[1] != cls:
            scope.names[name] = ("local", "")
            return
        scope.names[name] = ("local", cls)
        scope.typed[name] = scope.typed.get(name, 0) + 1

    # -- definitions ----------------------------------------------------------------------
    def _definition(self, node: Node, stack: list[_Scope]) -> _Scope | None:
        name_node = node.child_by_field_name("name")
        if name_node is None or name_node.text is None:
            return None
        name = name_node.text.decode("utf-8", "replace")
        parent = stack[-1]
        is_class = node.type == "class_definition"
        decorators = _decorators(node)
        if is_class:
            kind = "class"
        elif parent.kind == "class":
            kind = "property" if _is_property(decorators) else "method"
        else:
            kind = "function"
        qual = name if parent.kind == "module" else f"{parent.entity.qualname}.{name}"
        fqn = f"{self.module if parent.kind == 'module' else parent.entity.fqn}.{name}"
        ordinal = self.ordinals.get((kind, qual), 0)
        self.ordinals[(kind, qual)] = ordinal + 1
        body = node.child_by_field_name("body")
        entity = Entity(
            key=make_key(LANG, kind, self.path, qual, ordinal),
            language=LANG,
            kind=kind,
            name=name,
            qualname=qual,
            path=self.path,
            start_line=node.start_point[0] + 1,
            start_col=node.start_point[1],
            end_line=node.end_point[0] + 1,
            end_col=node.end_point[1],
            signature=_signature(node, is_class),
            doc=_docstring(body) if body else "",
            parent=parent.entity.key,
            fqn=fqn,
        )
        self.out.entities.append(entity)
        self.local.setdefault(fqn, entity)
        parent.names[name] = ("def", fqn)
        scope = _Scope(entity, "class" if is_class else "function", node.end_byte, node.start_byte)
        if is_class:
            self.class_scopes.append(scope)
        else:
            self.functions.append(scope)
            scope.overload = any(d.rpartition(".")[2] == "overload" for d in decorators)
        if is_class:
            for base, at in _bases(node):
                self._edge(entity, EdgeKind.INHERITS, base, at, self._name_candidates(base, stack))
        else:
            # Parameters shadow outer and builtin names (typed ones get their class later).
            for pname in _param_names(node):
                scope.names[pname] = ("param", "")
            for pname, held in _splat_params(node):  # *args: a tuple, **kwargs: a dict
                scope.names[pname] = ("annot", held)
            if parent.kind == "class" and "staticmethod" not in decorators:
                scope.self_name = _first_param(node)
                scope.class_fqn = parent.entity.fqn
                scope.binds_class = "classmethod" in decorators or name in _IMPLICIT_CLASSMETHODS
        return scope

    # -- bindings -------------------------------------------------------------------------
    def _import(self, node: Node, scope: _Scope) -> None:
        src = scope.entity
        if node.type == "import_statement":
            for child in node.named_children:
                at = child
                if child.type == "dotted_name":
                    target = _text(child)
                    head = target.split(".", 1)[0]
                    self._bind(scope, head, head)
                elif child.type == "aliased_import":
                    at = child.child_by_field_name("name") or child
                    target = _text(at)
                    self._bind(scope, _text(child.child_by_field_name("alias")), target)
                else:
                    continue
                self._edge(src, EdgeKind.IMPORTS, target, at, (f"={target}",))
            return
        mod_node = node.child_by_field_name("module_name")
        base = self._absolute(_text(mod_node)) if mod_node is not None else ""
        for child in node.named_children:
            if child is mod_node or child == mod_node:
                continue
            if child.type == "wildcard_import":
                scope.stars.append(base)
                self._edge(src, EdgeKind.IMPORTS, base, node, (f"={base}",))
                continue
            at = child
            if child.type == "dotted_name":
                name, alias = _text(child), _text(child).rsplit(".", 1)[-1]
            elif child.type == "aliased_import":
                at = child.child_by_field_name("name") or child
                name = _text(at)
                alias = _text(child.child_by_field_name("alias"))
            else:
                continue
            target = f"{base}.{name}" if base else name
            self._bind(scope, alias, target)
            self._edge(src, EdgeKind.IMPORTS, target, at, (f"={target}", f"={base}"))

    def _bind(self, scope: _Scope, name: str, target: str) -> None:
        if not name or not target:
            return
        scope.names[name] = ("import", target)
        if scope.kind == "module":
            self.out.aliases.append(Alias(self.path, f"{self.module}.{name}", target))

    def _absolute(self, dotted: str) -> str:
        """``..x.y`` -> absolute dotted module name against this module's package."""
        level = len(dotted) - len(dotted.lstrip("."))
        rest = dotted[level:]
        if level == 0:
            return rest
        parts = self.package.split(".") if self.package else []
        if level > 1:
            parts = parts[: max(0, len(parts) - (level - 1))]
        return ".".join([*parts, rest] if rest else parts)

    def _typed_param(self, name_node: Node, type_node: Node, stack: list[_Scope]) -> None:
        cls = self._annotation_type(_text(type_node), stack)
        if cls is not None:
            stack[-1].names[_text(name_node)] = ("annot", cls)

    def _self_attr(self, target: Node, stack: list[_Scope]) -> None:
        """``self.x = Foo(...)`` in a method: remember that the class's ``x`` is a Foo."""
        method = self._enclosing_method(stack)
        obj = target.child_by_field_name("object")
        attr = target.child_by_field_name("attribute")
        right = target.parent.child_by_field_name("right") if target.parent else None
        if method is None or obj is None or attr is None or right is None:
            return
        if _text(obj) != method.self_name or method.class_fqn is None:
            return
        if right.type == "identifier":  # `self.x = arg`: what arg is known to be, if anything
            found = self._lookup(_text(right), stack)
            if found is None or found[0] not in ("annot", "local") or not found[1]:
                return  # `self.x = None`, an untyped parameter: says nothing either way
            cls: str | None = found[1]
        elif right.type in ("boolean_operator", "conditional_expression"):
            made, _ = self._value_types(right, stack)  # `self.x = x or {}`: one class, or none
            if not made:
                return
            cls = made[0] if len(made) == 1 else None
        elif right.type != "call" and right.type not in _LITERAL_TYPES:
            return
        else:
            cls = self._value_type(right, stack)
        key = (method.class_fqn, _text(attr))
        if key in self.attr_types and self.attr_types[key] != cls:
            self.attr_types[key] = None  # assigned different things: no guess
        else:
            self.attr_types[key] = cls

    def _local_assign(self, var: Node, stack: list[_Scope]) -> None:
        """``x = <value>`` in a function or at module level: remember what ``x`` holds when the
        value says it (a literal, a call of a known name, an annotation). Untyped assignments
        are left out here but counted by ``_single_typed``, which then makes the type a guess."""
        scope = stack[-1]
        name = _text(var)
        prev = scope.names.get(name)
        if prev is not None and prev[0] not in ("local", "param"):
            return
        assign = var.parent
        if assign is None:
            return
        ann = assign.child_by_field_name("type")
        right = assign.child_by_field_name("right")
        renaming = right is not None and right.type in ("identifier", "attribute")
        if scope.kind == "function" and ann is None and renaming:
            text = _WS.sub(b"", right.text or b"").decode("utf-8", "replace") if right else ""
            if _DOTTED.fullmatch(text) and text.partition(".")[0] != name:
                if prev is not None and prev != ("rename", text) and prev[0] != "param":
                    scope.names[name] = ("local", "")  # assigned different things
                    return
                scope.names[name] = ("rename", text)
                scope.typed[name] = scope.typed.get(name, 0) + 1
            return
        if scope.kind != "function" and ann is None and renaming:
            target = self._renamed(_text(right), stack)
            if target is not None:
                old, count = scope.renames.get(name, (target, 0))
                scope.renames[name] = (target if old == target else "", count + 1)
            return
        if scope.kind == "class" and (
            (ann is None and (right is None or right.type != "call")) or _is_enum(scope)
        ):
            return  # a class constant (`x = 0`), or an enum's member: not an instance held
        sure = True
        if ann is not None:
            cls = self._annotation_type(_text(ann), stack)
        else:
            made, sure = self._value_types(right, stack)
            if len(made) > 1 and sure and prev is None:
                # `B() if c else C()`: one of these (what they all find is certain)
                scope.names[name] = ("local", "")
                scope.unions[name] = made
                scope.typed[name] = scope.typed.get(name, 0) + 1
                return
            cls = made[0] if len(made) == 1 else None
        if cls is None:
            return
        if prev is not None and prev[0] in ("local", "rename") and prev != ("local", cls):
            scope.names[name] = ("local", "")  # assigned different things: no type
            return
        scope.names[name] = ("local", cls)
        if sure:  # (`a or B()`: a B unless `a` is something else; a guess, not counted)
            scope.typed[name] = scope.typed.get(name, 0) + 1

    def _renamed(self, dotted: str, stack: list[_Scope]) -> str | None:
        """The fqn a dotted name read in a module or class body stands for, if known."""
        if not _DOTTED.fullmatch(dotted):
            return None
        head, _, rest = dotted.partition(".")
        found = self._lookup_at(head, stack)
        if found is None:
            return None
        (how, value), where = found
        if how in ("def", "import"):
            base = value
        elif how == "local" and where is self.module_scope:
            base = f"{self.module}.{head}"  # its instance alias says what it holds
        else:
            return None
        return f"{base}.{rest}" if rest else base

    def _annotation_type(self, text: str, stack: list[_Scope]) -> str | None:
        """The class an annotation names: ``Foo``, ``"Foo"``, ``list[int]``, ``Foo | None``,
        ``Optional[Foo]`` (typeshed's ``MaybeNone`` is ``Any``: left out like None)."""
        text = _WS.sub(b" ", text.encode()).decode().strip().strip("'\"")
        if text.startswith(("Optional[", "typing.Optional[")) and text.endswith("]"):
            text = text.split("[", 1)[1][:-1]
        parts = [p.strip().strip("'\"") for p in text.split("|")]
        parts = [p for p in parts if p not in ("None", "MaybeNone")]
        if len(parts) != 1:
            return None
        name = parts[0].split("[", 1)[0].strip()
        if name.rpartition(".")[2] == "LiteralString":
            return "builtins.str"  # a str whose value is a literal (PEP 675)
        return self._type_name(name, stack)

    def _value_type(self, node: Node | None, stack: list[_Scope]) -> str | None:
        """What a value is an instance of: a literal's builtins class, or the fqn of the name
        called (a class, or a function whose declared return type the resolver reads)."""
        if node is None:
            return None
        lit = _LITERAL_TYPES.get(node.type)
        if lit is not None:
            return f"builtins.{'bytes' if lit == 'str' and _is_bytes(node) else lit}"
        if node.type == "call":
            own = self._copies_self(node, stack)
            if own is not None:
                return own
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type in ("identifier", "attribute") and _text(fn) != "super":
                return self._type_name(_text(fn), stack) or self._method_of(_text(fn), stack)
        return None

    def _copies_self(self, call: Node, stack: list[_Scope]) -> str | None:
        """The method's class when ``call`` makes another instance of the receiver's class:
        ``type(self)(...)``, ``self.__class__(...)``, ``copy.copy(self)``,
        ``copy.deepcopy(self)``."""
        method = self._enclosing_method(stack)
        if method is None or method.binds_class or not method.self_name:
            return None
        fn = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        if fn is None:
            return None
        me = method.self_name
        if fn.type == "call" and _WS.sub(b"", fn.text or b"") == f"type({me})".encode():
            return method.class_fqn
        if _text(fn) == f"{me}.__class__":
            return method.class_fqn
        if args is None or args.named_child_count != 1 or _text(args.named_children[0]) != me:
            return None
        if fn.type in ("identifier", "attribute") and self._class_candidate(_text(fn), stack) in (
            "copy.copy",
            "copy.deepcopy",
        ):
            return method.class_fqn
        return None

    def _value_types(self, node: Node | None, stack: list[_Scope]) -> tuple[tuple[str, ...], bool]:
        """The classes a value may be an instance of, through ``a if c else b`` and
        ``a or b`` (each distinct class once), and whether every branch's class is known."""
        if node is None:
            return (), False
        parts: list[Node | None]
        if node.type == "conditional_expression" and node.named_child_count == 3:
            parts = [node.named_children[0], node.named_children[2]]
        elif (
            node.type == "boolean_operator" and _text(node.child_by_field_name("operator")) == "or"
        ):
            parts = [node.child_by_field_name("left"), node.child_by_field_name("right")]
        elif node.type == "parenthesized_expression" and node.named_child_count == 1:
            return self._value_types(node.named_children[0], stack)
        else:
            one = self._value_type(node, stack)
            return ((one,) if one is not None else ()), one is not None
        classes: list[str] = []
        sure = True
        for part in parts:
            got, known = self._value_types(part, stack)
            sure = sure and known
            classes.extend(c for c in got if c not in classes)
        return tuple(classes), sure

    def _method_of(self, dotted: str, stack: list[_Scope]) -> str | None:
        """``self.m`` / ``x.m`` (x of a known class): ``Class.m``, whose return type the
        resolver reads (through the class's bases, ``Self`` being Class)."""
        head, _, meth = dotted.partition(".")
        if not meth or "." in meth or not _DOTTED.fullmatch(dotted):
            return None
        for scope in reversed(stack):
            if scope.self_name is not None and scope.self_name == head:
                return f"{scope.class_fqn}.{meth}" if scope.class_fqn else None
            if scope.kind == "function" and head in scope.names:
                break
        found = self._lookup(head, stack)
        if found is not None and found[0] in ("local", "annot") and found[1]:
            return f"{found[1]}.{meth}"
        return None

    def _type_name(self, dotted: str, stack: list[_Scope]) -> str | None:
        """``_class_candidate``, and a builtin name nothing in the file can rebind."""
        cls = self._class_candidate(dotted, stack)
        if cls is not None:
            return cls
        head = dotted.partition(".")[0]
        if (
            head in BUILTIN_NAMES
            and _DOTTED.fullmatch(dotted)
            and self._lookup(head, stack) is None
            and not self.module_scope.stars
            and not self._rebound(head)
        ):
            return f"builtins.{dotted}"
        return None

    def _single_typed(self, scope: _Scope, name: str) -> bool:
        """Whether every binding of ``name`` in ``scope`` (nested scopes included, which only
        errs towards no) is one of the assignments that gave it its type."""
        return self._single_binding(scope, name, scope.typed.get(name, -1))

    def _single_binding(self, scope: _Scope, name: str, expected: int) -> bool:
        """Whether ``name`` has exactly ``expected`` bindings in ``scope``'s range."""
        key = (scope.start_byte, name, expected)
        hit = self.single.get(key)
        if hit is None:
            hit = self.single[key] = (
                self._bindings(name, scope.start_byte, scope.end_byte) == expected
            )
        return hit

    def _bindings(self, name: str, start: int, end: int) -> int:
        """How many times ``name`` is bound between two byte offsets."""
        src = self.source
        n = 0
        for m in _occurrence(name).finditer(src, start, min(end, len(src))):
            i = m.start()
            if i and (_word_byte(src[i - 1]) or src[i - 1] == 46):  # 46: "."
                continue
            if _binds(self.root.descendant_for_byte_range(i, m.end())):
                n += 1
        return n

    def _class_candidate(self, dotted: str, stack: list[_Scope], depth: int = 0) -> str | None:
        """The fqn a (possibly dotted) class name denotes here, if the binding is known."""
        if not _DOTTED.fullmatch(dotted):
            return None
        head, _, rest = dotted.partition(".")
        found = self._lookup_at(head, stack)
        if found is None:
            return None
        (how, value), where = found
        if how == "rename" and depth < 4 and self._single_typed(where, head):
            # `make_it = mod.make`: what the name it stands for denotes
            return self._class_candidate(f"{value}.{rest}" if rest else value, stack, depth + 1)
        if how not in ("def", "import"):
            return None
        return f"{value}.{rest}" if rest else value

    def _lookup(self, name: str, stack: list[_Scope]) -> Binding | None:
        found = self._lookup_at(name, stack)
        return found[0] if found is not None else None

    def _lookup_at(self, name: str, stack: list[_Scope]) -> tuple[Binding, _Scope] | None:
        """Python's scoping: innermost scope, enclosing *function* scopes, then the module.
        A class body sees its own names, but functions inside it do not. Returns the binding
        and the scope that holds it."""
        innermost = stack[-1]
        for i in range(len(stack) - 1, -1, -1):
            scope = stack[i]
            if scope.kind == "class" and scope is not innermost:
                continue
            hit = scope.names.get(name)
            if hit is not None:
                return hit, scope
        later = self.later.get(name)
        if later is not None and innermost is not self.module_scope:
            # A function runs after the module body: a class or function the module defines
            # further down is what the name means there (`x = Later()` above `class Later`).
            return ("def", later), self.module_scope
        return None

    # -- calls and candidates -------------------------------------------------------------
    def _call(self, node: Node, scope: _Scope, stack: list[_Scope]) -> None:
        """One call (or a bare decorator, ``node`` then being its name) as an edge."""
        callee = node if node.type != "call" else node.child_by_field_name("function")
        if callee is None or callee.text is None:
            return
        raw = callee.text
        text = (
            _WS.sub(b"", raw).decode("utf-8", "replace")
            if b" " in raw or b"\n" in raw
            else raw.decode("utf-8", "replace")
        )
        seen = self.edge_seen.get((scope.entity.key, EdgeKind.CALLS, text[:MAX_TARGET]))
        if seen is not None:  # the same call again from the same entity (4 in 10 calls)
            seen.add_site(name_site(callee))
            return
        cands = self._call_candidates(text, stack)
        obj = callee.child_by_field_name("object") if callee.type == "attribute" else None
        attr = callee.child_by_field_name("attribute") if obj is not None else None
        # The receiver's node type, not its first letter, tells a literal: `b"x".hex()` is
        # bytes, `fetch().m()` and `BigThing().m()` are calls.
        lit = _LITERAL_TYPES.get(obj.type) if obj is not None else None
        if obj is not None and attr is not None and lit is not None:
            if lit == "str" and _is_bytes(obj):
                lit = "bytes"
            cands = (f"=builtins.{lit}.{_text(attr)}",)
        elif obj is not None and attr is not None and obj.type == "call":
            # `Foo(...).m()`: an instance of the class, or of what the function returns
            made = self._value_type(obj, stack)
            if made is not None:
                cands = (f"^{made}.{_text(attr)}", f"?{_text(attr)}")
        elif obj is not None and attr is not None and obj.type == "identifier" and self.narrows:
            narrowed = self._narrowed(node, _text(obj), stack)
            if narrowed is not None:
                cands = (f"^{narrowed}.{_text(attr)}", f"?{_text(attr)}")
        if attr is not None and _text(attr) in BYTES_STR_METHODS and _bytes_argument(node):
            # `out.endswith(b"\n")`, `s.translate(bytes.maketrans(…))`: the receiver is
            # bytes-like (a str method would raise), bytes or bytearray or memoryview: no
            # guess of str's method (nor of the repo's one method of that name)
            cands = tuple(c for c in cands if c != f"?{_text(attr)}")
        self._edge(scope.entity, EdgeKind.CALLS, text, callee, cands)

    def _narrowed(self, node: Node, name: str, stack: list[_Scope]) -> str | None:
        """The class ``isinstance(name, C)`` narrows ``name`` to where ``node`` is: in the
        block an ``if`` / ``elif`` (or one side of its ``and``) enters when it holds, and
        after ``assert isinstance(name, C)`` or ``if not isinstance(name, C): raise`` (or
        return, continue, break) earlier in an enclosing block — unless the name is bound
        again in between."""
        child, up = node, node.parent
        while up is not None and up.type not in _SCOPE_NODES:
            if up.type in ("if_statement", "elif_clause") and child.type == "block":
                cond = up.child_by_field_name("condition")
                if up.child_by_field_name("consequence") == child and cond is not None:
                    cls = self._isinstance_class(cond, name, stack)
                    if cls is not None:
                        if self._bindings(name, child.start_byte, child.end_byte):
                            return None
                        return cls
            elif up.type == "block":
                prev = child.prev_named_sibling
                for _ in range(_GUARD_LOOKBACK):
                    if prev is None:
                        break
                    cls = self._guard_class(prev, name, stack)
                    if cls is not None:
                        return None if self._bindings(name, prev.end_byte, node.start_byte) else cls
                    prev = prev.prev_named_sibling
            child, up = up, up.parent
        return None

    def _guard_class(self, stmt: Node, name: str, stack: list[_Scope]) -> str | None:
        """``C`` when the statement lets only an instance of C past: ``assert
        isinstance(name, C)``, or ``if not isinstance(name, C):`` whose body (with no else)
        ends in raise / return / continue / break."""
        if stmt.type == "assert_statement" and stmt.named_child_count:
            return self._isinstance_class(stmt.named_children[0], name, stack)
        if stmt.type != "if_statement" or stmt.child_by_field_name("alternative") is not None:
            return None
        cond = stmt.child_by_field_name("condition")
        body = stmt.child_by_field_name("consequence")
        if cond is None or cond.type != "not_operator" or body is None or not body.named_children:
            return None
        if body.named_children[-1].type not in _EXITS:
            return None
        arg = cond.child_by_field_name("argument")
        return self._isinstance_class(arg, name, stack) if arg is not None else None

    def _isinstance_class(self, cond: Node, name: str, stack: list[_Scope]) -> str | None:
        """``C`` when ``cond`` is ``isinstance(name, C)`` or an ``and`` holding one."""
        if cond.type == "parenthesized_expression" and cond.named_child_count == 1:
            return self._isinstance_class(cond.named_children[0], name, stack)
        if cond.type == "boolean_operator" and _text(cond.child_by_field_name("operator")) == "and":
            for side in ("left", "right"):
                part = cond.child_by_field_name(side)
                found = self._isinstance_class(part, name, stack) if part is not None else None
                if found is not None:
                    return found
            return None
        fn = cond.child_by_field_name("function") if cond.type == "call" else None
        args = cond.child_by_field_name("arguments") if fn is not None else None
        if fn is None or args is None or _text(fn) != "isinstance" or args.named_child_count != 2:
            return None
        subject, cls = args.named_children
        if _text(subject) != name or cls.type not in ("identifier", "attribute"):
            return None
        if self._lookup("isinstance", stack) is not None:
            return None  # not the builtin
        return self._type_name(_text(cls), stack)

    def _call_candidates(self, text: str, stack: list[_Scope]) -> tuple[str, ...]:
        if _DOTTED.fullmatch(text):
            return self._name_candidates(text, stack, checked=True)
        if text.startswith("type("):
            # `type(self)(...)`, `type(self).m(...)`: the method's class (the receiver's)
            method = self._enclosing_method(stack)
            if method is not None and method.class_fqn and not method.binds_class:
                head = f"type({method.self_name})"
                attr = text[len(head) + 1 :] if text.startswith(f"{head}.") else ""
                if text == head:
                    return (f"={method.class_fqn}",)
                if attr.isidentifier():
                    return (f"^{method.class_fqn}.{attr}", f"?{attr}")
        sup = _SUPER.fullmatch(text)
        if sup is not None:
            method = self._enclosing_method(stack)
            mid = self._class_candidate(sup.group(1), stack) if sup.group(1) else None
            if method is not None and method.class_fqn:
                # super(Mid, self): the method resolution order of the method's class, after
                # Mid (the class's own name, or none, means right after the class)
                after = f"|{mid}" if mid is not None and mid != method.class_fqn else ""
                return (f">{method.class_fqn}.{sup.group(2)}{after}",)
            return (f">{mid}.{sup.group(2)}",) if mid is not None else ()
        tail = re.search(r"\.([A-Za-z_]\w*)$", text)
        return (f"?{tail.group(1)}",) if tail else ()

    def _enclosing_method(self, stack: list[_Scope]) -> _Scope | None:
        for scope in reversed(stack):
            if scope.class_fqn is not None:
                return scope
        return None

    def _name_candidates(
        self, dotted: str, stack: list[_Scope], checked: bool = False, depth: int = 0
    ) -> tuple[str, ...]:
        if not checked and not _DOTTED.fullmatch(dotted):
            return ()
        parts = dotted.split(".")
        head, rest = parts[0], parts[1:]
        tail = f".{'.'.join(rest)}" if rest else ""
        # self.m() / cls.m(): the method's class and its bases
        for scope in reversed(stack):
            if scope.self_name is not None and scope.self_name == head:
                # cls(...) in a classmethod, self.__class__(...): the class (its subclass at
                # run time, as for self.m(): the same reading)
                if scope.class_fqn and (
                    (not rest and scope.binds_class)
                    or (rest == ["__class__"] and not scope.binds_class)
                ):
                    return (f"={scope.class_fqn}",)
                if len(rest) == 1 and scope.class_fqn is not None:
                    # A mixin's method may come from a sibling base: what the subclasses
                    # defined in this file agree on is a guess, then a unique name.
                    subs = self._subclasses_of(scope.class_fqn)
                    mixin = (f"~&{rest[0]}|{'|'.join(subs)}",) if subs else ()
                    return (f"^{scope.class_fqn}.{rest[0]}", *mixin, f"?{rest[0]}")
                if len(rest) == 2 and scope.class_fqn is not None:
                    key = (scope.class_fqn, rest[0])
                    attr_type = self.attr_types.get(key)
                    if attr_type is not None:  # self.x = Foo() elsewhere: a guess, not proof
                        return (f"~^{attr_type}.{rest[1]}", f"?{rest[1]}")
                    if key not in self.attr_types:  # not assigned here: a base, a property
                        return (f"~*{scope.class_fqn}.{rest[0]}.{rest[1]}", f"?{rest[1]}")
                return (f"?{rest[-1]}",) if rest else ()
            if scope.kind == "function" and head in scope.names:
                break  # shadowed by a closer binding
        found = self._lookup_at(head, stack)
        if found is not None:
            (how, value), where = found
            if how in ("def", "import"):
                return (f"={value}{tail}",)
            if how == "rename":
                # `eq = self.assertEqual` then `eq(...)`: the local is another name for what
                # it was assigned, read where it was assigned (its only binding)
                if depth < 4 and self._single_typed(where, head):
                    upto = next(i for i, sc in enumerate(stack) if sc is where)
                    return self._name_candidates(value + tail, stack[: upto + 1], True, depth + 1)
                return (f"?{rest[-1]}",) if rest else ()
            made = where.unions.get(head) if how == "local" and not value else None
            if made and len(rest) == 1 and self._single_typed(where, head):
                # one assignment of one of several classes: what each of them finds
                return (f"&{rest[0]}|{'|'.join(made)}", f"?{rest[0]}")
            if len(rest) == 1 and value:
                # annotated, or every binding of the local gives the type: decided
                sure = how == "annot" or (how == "local" and self._single_typed(where, head))
                member = f"{'' if sure else '~'}^{value}.{rest[0]}"
                return (member, f"?{rest[0]}")  # the class may be outside the repo
            if len(rest) == 2 and value and how in ("annot", "local"):
                # x.attr.m(): what the class's instances hold in attr (a guess)
                return (f"~*{value}.{rest[0]}.{rest[1]}", f"?{rest[1]}")
            return (f"?{rest[-1]}",) if rest else ()
        stars = self.module_scope.stars
        cands = [f"={star}.{dotted}" for star in stars]
        if head in BUILTIN_NAMES:
            # Unbound here, so Python looks in builtins: proof, unless a star import or a
            # binding elsewhere in the file (a global, another function's local) may hide it.
            sure = not stars and not self._rebound(head)
            cands.append(f"{'' if sure else '~'}=builtins.{dotted}")
        elif rest:
            cands.append(f"?{rest[-1]}")
        return tuple(cands)

    def _subclasses_of(self, cls_fqn: str, limit: int = 16) -> list[str]:
        """Classes of this file that inherit ``cls_fqn``, directly or not (at most ``limit``)."""
        if self.subclasses is None:
            by_key = {e.key: e.fqn for e in self.out.entities if e.kind == "class"}
            self.subclasses = {}
            for edge in self.out.edges:
                if edge.kind == EdgeKind.INHERITS and edge.dst in by_key and edge.src in by_key:
                    self.subclasses.setdefault(by_key[edge.dst], []).append(by_key[edge.src])
        out: list[str] = []
        todo = list(self.subclasses.get(cls_fqn, ()))
        while todo and len(out) < limit:
            sub = todo.pop(0)
            if sub not in out and sub != cls_fqn:
                out.append(sub)
                todo.extend(self.subclasses.get(sub, ()))
        return out

    def _rebound(self, name: str) -> bool:
        """Whether ``name`` is bound anywhere in the file. A regex finds the occurrences that
        are neither calls nor attribute accesses; only those are looked up in the tree."""
        hit = self.rebound.get(name)
        if hit is not None:
            return hit
        src = self.source
        found = False
        for m in _occurrence(name).finditer(src):
            i = m.start()
            if i and (_word_byte(src[i - 1]) or src[i - 1] == 46):  # 46: "."
                continue
            if _binds(self.root.descendant_for_byte_range(i, m.end())):
                found = True
                break
        self.rebound[name] = found
        return found

    def _edge(
        self, src: Entity, kind: str, target: str, at: Node, candidates: tuple[str, ...]
    ) -> None:
        """One edge per (source, kind, target as written); ``at`` is the reference's node,
        whose name is the site (a repeat adds its site to the edge already made)."""
        target = target[:MAX_TARGET]
        ident = (src.key, kind, target)
        site = name_site(at)
        seen = self.edge_seen.get(ident)
        if seen is not None:
            seen.add_site(site)
            return
        if kind == EdgeKind.CALLS:
            candidates = tuple(
                d for d in (_untyped_default(c) for c in candidates) if d is not None
            )
        edge = Edge(
            src=src.key,
            kind=kind,
            target_name=target,
            path=self.path,
            line=site[0],
            candidates=candidates,
            sites=(site,),
        )
        self.edge_seen[ident] = edge
        if kind != EdgeKind.IMPORTS:
            self._decide_locally(edge)
        self.out.edges.append(edge)

    def _decide_locally(self, edge: Edge) -> None:
        """Settle an edge whose first candidate names a definition in this very file.

        The resolver would reach the same entity (it prefers the same file), and such an
        edge can only change when this file does, so it is written once, already decided.
        """
        if not edge.candidates:
            return
        first = edge.candidates[0]
        target: Entity | None = None
        if first.startswith("="):
            target = self.local.get(first[1:])
        elif first.startswith("^"):  # only a method the class itself defines, here
            cls = self.local.get(first[1:].rpartition(".")[0])
            member = self.local.get(first[1:])
            if cls is not None and member is not None and member.parent == cls.key:
                target = member
        if target is not None and (edge.kind == EdgeKind.CALLS or target.key != edge.src):
            edge.dst, edge.resolution, edge.candidates = target.key, Resolution.EXACT, ()


# -- node helpers -------------------------------------------------------------------------
_event_order = operator.itemgetter(0, 1)  # (start byte, kind order): C-speed sort key
_SCOPE_NODES = frozenset({"function_definition", "class_definition", "lambda", "module"})
_EXITS = frozenset({"raise_statement", "return_statement", "continue_statement", "break_statement"})
_GUARD_LOOKBACK = 20  # statements looked back at for an isinstance guard


@functools.cache
def _occurrence(name: str) -> re.Pattern[bytes]:
    # Starts with the literal name (fast in `re`); the byte before is checked by the caller.
    return re.compile(re.escape(name.encode()) + rb"\b(?![ \t]*[(.])")


def _word_byte(b: int) -> bool:
    return b == 95 or b >= 128 or 48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122


def _binds(node: Node | None) -> bool:
    """Whether an identifier node is in a binding position (assigned, a parameter...)."""
    if node is None or node.type != "identifier":
        return False  # inside a string or a comment, or part of a longer token
    parent = node.parent
    if parent is None:
        return False
    if parent.type in _BINDING_PARENTS:
        return True
    field = _BINDING_FIELDS.get(parent.type)
    if field is None:
        return False
    bound = parent.child_by_field_name(field)
    return bound is not None and bound.start_byte == node.start_byte


def _is_bytes(node: Node) -> bool:
    first = node.children[0] if node.type == "concatenated_string" and node.children else node
    text = first.text or b""
    quote = min((i for i in (text.find(b"'"), text.find(b'"')) if i >= 0), default=0)
    return b"b" in text[:quote].lower()


# Calls that make bytes, as an argument: `bytes.maketrans(…)`, `bytes(…)`, `x.encode()`.
_BYTES_MAKERS = frozenset({"bytes", "bytearray", "bytes.maketrans", "bytearray.maketrans"})


def _bytes_argument(call: Node) -> bool:
    """Whether a call passes a bytes literal, or what a call known to make bytes gives, as
    an argument (``x.startswith(b"#")``, ``s.translate(bytes.maketrans(a, b))``)."""
    args = call.child_by_field_name("arguments") if call.type == "call" else None
    for arg in args.named_children if args is not None else ():
        if arg.type in ("string", "concatenated_string") and _is_bytes(arg):
            return True
        if arg.type == "call":
            func = arg.child_by_field_name("function")
            name = _text(func)
            if name in _BYTES_MAKERS or name.endswith(".encode"):
                return True
    return False


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _decorators(node: Node) -> list[str]:
    parent = node.parent
    if parent is None or parent.type != "decorated_definition":
        return []
    out = []
    for child in parent.named_children:
        if child.type == "decorator":
            text = _text(child).lstrip("@").strip()
            out.append(text.split("(", 1)[0].strip())
    return out


def _is_enum(scope: _Scope) -> bool:
    """Whether a class's bases look like an enum's (its body's values become members)."""
    return any(b.rstrip(")").endswith(("Enum", "Flag")) for b in scope.entity.signature.split(","))


def _is_property(decorators: list[str]) -> bool:
    return any(d in _PROPERTY_DECORATORS or d.endswith(_PROPERTY_SUFFIXES) for d in decorators)


def _signature(node: Node, is_class: bool) -> str:
    if is_class:
        sup = node.child_by_field_name("superclasses")
        return _collapse(sup.text) if sup is not None and sup.text else ""
    params = node.child_by_field_name("parameters")
    sig = _collapse(params.text) if params is not None and params.text else "()"
    ret = node.child_by_field_name("return_type")
    if ret is not None and ret.text:
        sig += f" -> {_collapse(ret.text)}"
    first = node.child(0)
    if first is not None and first.type == "async":
        sig = f"async {sig}"
    return sig


def _collapse(text: bytes) -> str:
    return _WS.sub(b" ", text).decode("utf-8", "replace").replace("( ", "(").replace(" )", ")")


def _param_names(node: Node) -> list[str]:
    params = node.child_by_field_name("parameters")
    if params is None:
        return []
    names = []
    for child in params.named_children:
        ident: Node | None = child
        if child.type != "identifier":  # default/typed/splat parameter; `*` and `/` have none
            named = child.named_children
            ident = child.child_by_field_name("name") or (named[0] if named else None)
        if ident is not None and ident.type == "identifier" and ident.text is not None:
            names.append(ident.text.decode("utf-8", "replace"))
    return names


def _splat_params(node: Node) -> list[tuple[str, str]]:
    """``*args`` / ``**kwargs`` parameters (annotated or not) with the class they hold."""
    params = node.child_by_field_name("parameters")
    out = []
    for child in params.named_children if params is not None else ():
        if child.type == "typed_parameter" and child.named_child_count:
            child = child.named_children[0]
        held = {"list_splat_pattern": "builtins.tuple", "dictionary_splat_pattern": "builtins.dict"}
        if child.type in held and child.named_child_count:
            name = child.named_children[0]
            if name.type == "identifier":
                out.append((_text(name), held[child.type]))
    return out


def _first_param(node: Node) -> str | None:
    params = node.child_by_field_name("parameters")
    if params is None:
        return None
    for child in params.named_children:
        if child.type == "identifier":
            return _text(child)
        if child.type in ("typed_parameter", "default_parameter", "typed_default_parameter"):
            ident = child.child_by_field_name("name") or child.named_child(0)
            return _text(ident) if ident is not None and ident.type == "identifier" else None
        return None
    return None


def _bases(node: Node) -> list[tuple[str, Node]]:
    """A class's bases as written, each with its node (the site of the `inherits` edge)."""
    sup = node.child_by_field_name("superclasses")
    if sup is None:
        return []
    out = []
    for child in sup.named_children:
        if child.type in ("identifier", "attribute"):
            out.append((_WS.sub(b"", child.text or b"").decode("utf-8", "replace"), child))
        elif child.type == "subscript":  # Generic[T] -> Generic
            value = child.child_by_field_name("value")
            if value is not None and value.type in ("identifier", "attribute"):
                out.append((_text(value), value))
    return out


def _docstring(body: Node) -> str:
    first = body.named_child(0) if body.named_child_count else None
    if first is not None and first.type == "expression_statement" and first.named_child_count:
        first = first.named_child(0)
    if first is None or first.type != "string":
        return ""
    for child in first.named_children:
        if child.type == "string_content":
            for line in _text(child).splitlines():
                if line.strip():
                    return line.strip()
    return ""


def _first_error_line(root: Node) -> int:
    """Line of the first ERROR/MISSING node, following the has_error path (no full walk)."""
    node = root
    while True:
        if node.type == "ERROR" or node.is_missing:
            return node.start_point[0] + 1
        nxt = next((c for c in node.children if c.has_error or c.is_missing), None)
        if nxt is None:
            return node.start_point[0] + 1
        node = nxt


# Method names of `str` that no list, tuple, dict or set has (`count`, `index` are left out).
STR_METHOD_GUESSES = frozenset(
    n
    for n in dir(str)
    if not n.startswith("_") and not any(hasattr(t, n) for t in (list, tuple, dict, set))
)


# Method names of the other built-in types, and of datetime's, that a receiver of unknown
# type is more likely to be (`errors.extend()`, `d.timestamp()`) than the repo's one class
# with such a method: no unique-name guess is made for them.
BUILTIN_METHOD_NAMES = (
    frozenset(
        n
        for t in (
            list,
            dict,
            set,
            frozenset,
            tuple,
            bytes,
            bytearray,
            memoryview,
            int,
            float,
            complex,
            datetime.datetime,
            datetime.date,
            datetime.time,
            datetime.timedelta,
        )
        for n in dir(t)
        if not n.startswith("_")
    )
    - STR_METHOD_GUESSES
)


# Methods of str that bytes has too: called with a bytes argument, the receiver is bytes-like.
BYTES_STR_METHODS = STR_METHOD_GUESSES & frozenset(dir(bytes))


def _untyped_default(cand: str) -> str | None:
    """What the guess ``?name`` for a receiver of unknown type becomes. Called with a str
    method's name it is a str more often than an instance of the repo's one class with such a
    method (`line.strip()` is not `UserString.strip`: 19 of 20 such guesses were wrong against
    basedpyright): ``%builtins.str.name`` (typeshed's; see model.Edge). Called with another
    built-in type's method name (``BUILTIN_METHOD_NAMES``): no guess (None)."""
    if cand.startswith("?"):
        if cand[1:] in STR_METHOD_GUESSES:
            return f"%builtins.str.{cand[1:]}"
        if cand[1:] in BUILTIN_METHOD_NAMES:
            return None
    return cand
