"""Definitions-only extraction for languages without a dedicated extractor yet.

One table per language maps tree-sitter node types to entity kinds; one query per language
(built from the types its grammar has) captures them in C, and a sweep in source order with a
stack of open definitions gives parents and qualified names. No edges yet: a polyglot repo gets
symbols, ranges, signatures and nesting in every language, and search, `symbols` and document
outlines work there. Dedicated extractors (with calls, imports and inheritance) replace this
one language by language.

Qualified names join the nesting with ``.`` inside a file (``Outer.Inner.method``); methods
defined outside their type (Go receivers, Rust ``impl`` blocks, C++ ``A::m``) are named after
the type (``Point.Move``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tree_sitter import Node, QueryCursor

from isgraph.index.extract.base import Extraction
from isgraph.index.parse import get_language, get_parser, get_query
from isgraph.model import Entity, make_key

_JS = {
    "function_declaration": "function",
    "variable_declarator": "function",  # only when its value is a function (JsSpec.refine)
    "assignment_expression": "function",  # `X.prototype.m = function…` (lang/es5.py)
    "pair": "method",  # `{ m: function… }` in an object literal bound to a name (lang/es5.py)
    "function_expression": "function",  # only a named one: `return function piped(x) {…}`
    "generator_function": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "method_definition": "method",
}
_TS = {
    **_JS,
    "abstract_class_declaration": "class",
    "function_signature": "function",  # overloads and `declare function`
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "internal_module": "namespace",
    "method_signature": "method",
    "construct_signature": "method",  # `new (…): T` in an interface, named "new"
    "abstract_method_signature": "method",
}
_C = {
    "function_definition": "function",
    "struct_specifier": "struct",
    "union_specifier": "struct",
    "enum_specifier": "enum",
    "type_definition": "type",
}
# node type -> entity kind, per language (tree-sitter-language-pack 0.13.0 grammar names)
KINDS: dict[str, dict[str, str]] = {
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": {
        "function_declaration": "function",
        "method_declaration": "method",
        "type_spec": "type",
        "method_elem": "method",
    },
    "rust": {
        "function_item": "function",
        "function_signature_item": "method",
        "struct_item": "struct",
        "enum_item": "enum",
        "union_item": "struct",
        "trait_item": "trait",
        "mod_item": "module",
        "type_item": "type",
        "const_item": "constant",
        "static_item": "constant",
        "macro_definition": "macro",
        "associated_type": "type",
        "impl_item": "impl",  # a container only: its methods are named after its type
    },
    "java": {
        "class_declaration": "class",
        "record_declaration": "class",
        "interface_declaration": "interface",
        "annotation_type_declaration": "interface",
        "enum_declaration": "enum",
        "method_declaration": "method",
        "constructor_declaration": "method",
    },
    "c": _C,
    "cpp": {
        **_C,
        "class_specifier": "class",
        "namespace_definition": "namespace",
        "alias_declaration": "type",  # using X = Y;
    },
    "ruby": {
        "class": "class",
        "module": "module",
        "method": "method",
        "singleton_method": "method",
    },
    "php": {
        "class_declaration": "class",
        "interface_declaration": "interface",
        "trait_declaration": "trait",
        "enum_declaration": "enum",
        "function_definition": "function",
        "method_declaration": "method",
    },
    "csharp": {
        "namespace_declaration": "namespace",
        "file_scoped_namespace_declaration": "namespace",
        "class_declaration": "class",
        "record_declaration": "class",
        "interface_declaration": "interface",
        "struct_declaration": "struct",
        "enum_declaration": "enum",
        "method_declaration": "method",
        "constructor_declaration": "method",
    },
    "swift": {
        "class_declaration": "class",  # class, struct, enum, extension: see _swift_kind
        "protocol_declaration": "interface",
        "function_declaration": "function",
        "protocol_function_declaration": "method",
        "init_declaration": "method",
    },
}
_CONTAINERS = frozenset(
    {"class", "struct", "interface", "trait", "enum", "module", "namespace", "impl", "type"}
)
_TYPES = frozenset({"class", "struct", "interface", "trait", "enum", "impl", "type"})
_NAME_TYPES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "property_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "simple_identifier",
        "constant",
        "name",
        "namespace_identifier",
        "primitive_type",  # `typedef unsigned long size_t;`: tree-sitter-c knows size_t
    }
)
_WS = re.compile(rb"\s+")
_FILE = "file"  # the stack's bottom: the file's module entity (Ruby and Rust have "module"s)
MAX_SIGNATURE = 200


# Any other grammar of the language pack: node types named like `<word>_<definition|…>`.
_GENERIC = re.compile(
    r"(function|method|class|object|struct|interface|protocol|trait|enum|module|namespace|type)"
    r"_(definition|declaration|item|def)"
)
_GENERIC_KIND = {
    "object": "class",
    "protocol": "interface",
    "type": "type",
}


@cache
def kinds_for(language: str) -> dict[str, str]:
    """``KINDS[language]``, or for a grammar without a table one derived from its node type
    names (``class_definition`` -> class, ``function_declaration`` -> function): definitions
    only, so that a polyglot repo gets symbols everywhere."""
    if language in KINDS:
        return KINDS[language]
    lang = get_language(language)
    out: dict[str, str] = {}
    for i in range(lang.node_kind_count):
        name = lang.node_kind_for_id(i)
        m = _GENERIC.fullmatch(name or "") if lang.node_kind_is_named(i) else None
        if m is not None and name is not None:
            out[name] = _GENERIC_KIND.get(m.group(1), m.group(1))
    return out


@cache
def _query_source(language: str) -> str:
    lang = get_language(language)
    kinds = [t for t in kinds_for(language) if lang.id_for_node_kind(t, True)]
    return "[" + " ".join(f"({t})" for t in kinds) + "] @def"


def extract_definitions(language: str, path: str, source: bytes) -> Extraction:
    """Entities of one file in ``language`` (a key of ``KINDS``). Never raises on bad input."""
    tree = get_parser(language).parse(source)
    root = tree.root_node
    out = Extraction()
    module_name = path.rsplit(".", 1)[0].replace("/", ".")
    module = module_entity(language, path, root, module_name, module_name)
    out.entities.append(module)
    for span in sweep(language, path, root, module, module_name):
        if span.entity.key:
            out.entities.append(span.entity)
    if root.has_error:
        out.syntax_error = f"syntax error at line {first_error_line(root)}"
    return out


def module_entity(language: str, path: str, root: Node, qualname: str, fqn: str) -> Entity:
    """The file's own entity (kind ``module``): the parent of its top-level definitions."""
    return Entity(
        key=make_key(language, "module", path, qualname),
        language=language,
        kind="module",
        name=qualname.rsplit(".", 1)[-1],
        qualname=qualname,
        path=path,
        start_line=1,
        start_col=0,
        end_line=root.end_point[0] + 1,
        end_col=root.end_point[1],
        fqn=fqn,
    )


@dataclass(slots=True)
class Span:
    """A definition found by the sweep, with its node. ``entity.key`` is "" for an impl block
    (Rust ``impl``, Swift ``extension``): not an entity, but the type its methods belong to.
    ``scope`` False: the references inside the node are not the entity's but its enclosing
    definition's (JS ``Foo.prototype.m = make()``: the enclosing code calls ``make``)."""

    node: Node
    entity: Entity
    scope: bool = True


@dataclass(frozen=True, slots=True)
class Named:
    """A language spec's reading of a definition node (``LangSpec.refine``): its kind and,
    where the node's own shape does not say it, its name and the owner it is a member of
    (JS ``Foo.prototype.m = …`` is method ``m`` of ``Foo``; ``""``: the enclosing scope)."""

    kind: str
    name: str = ""  # "" = the node's own name (``_name``)
    owner: str = ""  # dotted, relative to the enclosing scope, like C++'s ``A::m``
    scope: bool = True  # see ``Span.scope``


def sweep(
    language: str,
    path: str,
    root: Node,
    module: Entity,
    namespace: str,
    refine: Callable[[Node, str], Named | None] | None = None,
) -> list[Span]:
    """Definitions of ``root`` in source order, with kinds, qualified names and parents.

    ``namespace`` prefixes qualified names to make fqns (a Java package, a Go import path, a
    JS module path; "" where names are global, as in C). ``refine(node, kind)`` may change a
    kind, name the node and its owner, or drop it (None): a JS ``const f = () => ...`` is a
    function, other consts not; ``Foo.prototype.m = f`` is method ``m`` of ``Foo``.
    """
    nodes = QueryCursor(get_query(language, _query_source(language))).captures(root).get("def", [])
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    kinds = kinds_for(language)
    spans: list[Span] = []
    # (end byte, entity, kind) of the definitions enclosing the current one
    stack: list[tuple[int, Entity, str]] = [(1 << 62, module, _FILE)]
    ordinals: dict[tuple[str, str], int] = {("module", module.qualname): 1}  # keys stay unique
    types: dict[str, Entity] = {}  # qualname -> type defined here (impl blocks' owners)
    # qualname -> function or constant defined here: an owner where no type is (an ES5
    # constructor `function Foo` of `Foo.prototype.m`, an object literal `var o = {m: …}`)
    values: dict[str, Entity] = {}
    owners: dict[int, Entity] = {}  # id(impl pseudo-entity) -> its methods' parent
    pending: list[tuple[str, Entity]] = []  # (owner qualname, method defined outside it)
    for node in nodes:
        while len(stack) > 1 and node.start_byte >= stack[-1][0]:
            stack.pop()
        kind = kinds[node.type]
        if language == "swift" and node.type == "class_declaration":
            kind = _swift_kind(node)
        named = Named(kind) if refine is None else refine(node, kind)
        if named is None:
            continue
        kind = named.kind
        name, owner = (named.name, named.owner) if named.name else _name(language, node)
        if node.type == "type_spec":  # Go: `type P struct {...}`
            kind = _GO_TYPE_KINDS.get(_type_of(node), "type")
        if not name or (node.type.endswith("_specifier") and not _has_body(node)):
            continue  # anonymous, or a use of a type (`struct point p;`), not a definition
        _, parent, parent_kind = stack[-1]
        if kind == "function" and parent_kind in _TYPES:
            kind = "method"
        if owner and kind == "function":
            kind = "method"
        if kind == "impl":
            qual_parent = parent.qualname if parent_kind != _FILE else ""
            # an impl block is not an entity: it names the type its methods belong to
            qual = f"{qual_parent}.{name}" if qual_parent else name
            impl = Entity(
                key="",
                language=language,
                kind="impl",
                name=name,
                qualname=qual,
                path=path,
                start_line=node.start_point[0] + 1,
                start_col=0,
                end_line=node.end_point[0] + 1,
                end_col=0,
                parent=parent.key,
                fqn=f"{namespace}.{qual}" if namespace else qual,
            )
            spans.append(Span(node, impl))
            stack.append((node.end_byte, impl, "impl"))
            # its methods' parent: the type, when this file defines it, else the enclosing scope
            owners[id(impl)] = types.get(qual, parent)
            continue
        base = parent.qualname if parent_kind != _FILE else ""
        if owner:
            base = f"{base}.{owner}" if base else owner
        qual = f"{base}.{name}" if base else name
        ordinal = ordinals.get((kind, qual), 0)
        ordinals[(kind, qual)] = ordinal + 1
        real_parent = parent if parent_kind != "impl" else owners.get(id(parent), module)
        entity = Entity(
            key=make_key(language, kind, path, qual, ordinal),
            language=language,
            kind=kind,
            name=name,
            qualname=qual,
            path=path,
            start_line=node.start_point[0] + 1,
            start_col=node.start_point[1],
            end_line=node.end_point[0] + 1,
            end_col=node.end_point[1],
            signature=_signature(node),
            parent=real_parent.key,
            fqn=f"{namespace}.{qual}" if namespace else qual,
        )
        spans.append(Span(node, entity, named.scope))
        if owner:
            pending.append((base, entity))
        if kind in _TYPES:
            types.setdefault(qual, entity)
        elif kind in ("function", "constant"):
            values.setdefault(qual, entity)
        if kind in _CONTAINERS:
            stack.append((node.end_byte, entity, kind))
    # A method defined outside its type (Go receiver, C++ `A::m`) is the type's child when
    # this file defines the type, before or after the method.
    for owner_qual, entity in pending:
        owner_ent = types.get(owner_qual) or values.get(owner_qual)
        if owner_ent is not None:
            entity.parent = owner_ent.key
    return spans


def _name(language: str, node: Node) -> tuple[str, str]:
    """(name, owning type for methods defined outside it, or "")."""
    if node.type == "impl_item":  # Rust: `impl Trait for Type` -> Type
        return _text(node.child_by_field_name("type")).split("<", 1)[0], ""
    if node.type == "method_declaration" and language == "go":
        receiver = _text(node.child_by_field_name("receiver"))
        words = re.sub(r"[^A-Za-z0-9_ ]", " ", receiver).split()  # (p *Point) -> Point
        return _text(node.child_by_field_name("name")), words[-1] if words else ""
    if node.type == "assignment_expression":  # JS `a.b.m = function…` -> m
        left = node.child_by_field_name("left")
        if left is not None and left.type == "member_expression":
            left = left.child_by_field_name("property")
        return (_text(left), "") if left is not None and left.type in _NAME_TYPES else ("", "")
    if node.type == "construct_signature":
        return "new", ""
    named = node.child_by_field_name("name")
    if named is None:  # C/C++ functions and typedefs: the name is inside the declarator
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in _NAME_TYPES:
            inner = declarator.child_by_field_name("declarator")
            if inner is None and declarator.type in _FIELDLESS_DECLARATORS:
                # `typedef void (*fn)(int);`, `T& f() {…}`: the declarator is a plain child
                inner = declarator.named_children[0] if declarator.named_children else None
            declarator = inner
        named = declarator
        if named is None and node.type == "init_declaration":
            return "init", ""
        if named is None:  # grammars without fields (Kotlin): the first name among children
            named = next((c for c in node.named_children if c.type in _NAME_TYPES), None)
    text = _text(named)
    if named is not None and named.type == "operator_name":  # `operator()`, `operator new`
        return "".join(text.split()), ""
    if " " in text or "\n" in text or "(" in text:
        # error recovery took a macro in (`API_ Type* f()` parses as a qualified name)
        words = text.split("(", 1)[0].split()
        text = words[-1].lstrip("*&") if words else ""
    if named is not None and named.type in ("qualified_identifier", "scope_resolution"):
        # C++ `void A::B::m()`, Ruby `class A::B`
        owner, _, name = text.rpartition("::")
        return name, owner.replace("::", ".")
    return text, ""


_BINDINGS = frozenset({"assignment_expression", "variable_declarator", "pair"})
_FIELDLESS_DECLARATORS = frozenset({"parenthesized_declarator", "reference_declarator"})
_GO_TYPE_KINDS = {"struct_type": "struct", "interface_type": "interface"}


def _type_of(node: Node) -> str:
    typ = node.child_by_field_name("type")
    return typ.type if typ is not None else ""


def _swift_kind(node: Node) -> str:
    keyword = node.child_by_field_name("declaration_kind")
    word = _text(keyword) if keyword is not None else _text(node.child(0))
    return {"struct": "struct", "enum": "enum", "extension": "impl"}.get(word, "class")


def _has_body(node: Node) -> bool:
    return node.child_by_field_name("body") is not None


def _signature(node: Node) -> str:
    # JS `f = function (a) {…}`, `{ m: (a) => … }`: the parameters of the function assigned
    value = node.child_by_field_name("right") or node.child_by_field_name("value")
    if node.type in _BINDINGS and value is not None:
        node = value
    params = node.child_by_field_name("parameters")
    if params is None:
        declarator = node.child_by_field_name("declarator")
        params = declarator.child_by_field_name("parameters") if declarator is not None else None
    if params is None or params.text is None:
        return ""
    text = _WS.sub(b" ", params.text).decode("utf-8", "replace")
    return text[:MAX_SIGNATURE]


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def first_error_line(root: Node) -> int:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node.start_point[0] + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return root.start_point[0] + 1
