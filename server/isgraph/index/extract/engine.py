"""The shared extractor for languages described by a query file and a small ``LangSpec``.

Per language there are two parts:

* ``queries/<language>.scm``: a tree-sitter query whose patterns capture *references*. Each
  pattern has one role capture, named after what it finds, and a few part captures:

  ``@package`` (+ ``@name``)   the file's package / namespace declaration
  ``@import``                  an import statement (the spec reads it; syntax varies too much)
  ``@call`` + ``@callee``      a call; ``@callee`` is the called expression, or
  ``@call`` + ``@recv``? + ``@name``   for grammars that split receiver and method (Java)
  ``@new`` + ``@callee``       a constructor call (``new X()``): the edge goes to the class
  ``@inherit`` + ``@callee``   a base type (extends / implements / embeds / trait bounds)
  ``@local`` + ``@var`` + ``@type``   a variable or parameter of a declared type: ``x.m()``
                               then names ``m`` of that type (``^T.m``, exact)
  ``@local`` + ``@var`` + ``@ctor``   a variable assigned ``new T()`` / ``T{}`` / ``T.new``:
                               the same, as a guess (``~^T.m``; it may be reassigned) —
                               exact where types are static (``LangSpec.static_types``)
  ``@local`` + ``@var`` + ``@value``  a variable assigned the result of calling ``@value``:
                               ``x.m()`` names ``m`` of what that function returns
                               (``^f.m``: the resolver reads the alias ``f()``)
  ``@local`` + ``@var`` + ``@field``  a variable assigned ``this.field``: ``x.m()`` names
                               ``m`` of what the field holds (``*Class.field.m``)
  ``@local`` + ``@var``        a variable of no written type: it hides an outer one of the
                               same name (``LangSpec.closures``), or takes its type from the
                               call it is a callback parameter of (``LangSpec.contextual``)

* a ``LangSpec`` subclass (``extract/lang/``): the file's namespace, what an import binds,
  and the candidates of a name that no binding in the file explains.

Definitions come from the node-type tables of ``definitions.py`` (one query, one sweep). The
engine then attributes every reference to the innermost definition around it, turns its text
into resolution candidates (``model.Edge``), and settles in place those that name a
definition of this very file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tree_sitter import Node, QueryCursor

from isgraph.index.extract.base import Extraction, name_site
from isgraph.index.extract.definitions import (
    Named,
    Span,
    first_error_line,
    module_entity,
    sweep,
)
from isgraph.index.parse import get_parser, get_query
from isgraph.model import Alias, Edge, EdgeKind, Entity, Resolution, Site, module_qualname

QUERIES = Path(__file__).parent / "queries"
MAX_TARGET = 200
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_PLAIN = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_SEPARATORS = re.compile(r"::|->|\?\.|\\|\.")
_GENERICS = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")
_BOM = b"\xef\xbb\xbf"
_NOT_TYPES = frozenset({"var", "auto", "dynamic", "let", "const", "impl", "dyn"})
CLASSLIKE = frozenset({"class", "struct", "interface", "trait", "enum", "impl"})


# Grammars that share another's query file (TSX is TypeScript plus JSX nodes the queries
# don't name).
_QUERY_OF = {"tsx": "typescript"}


@cache
def query_source(language: str) -> str:
    return (QUERIES / f"{_QUERY_OF.get(language, language)}.scm").read_text()


@dataclass(slots=True)
class Import:
    """What one import binds. ``local`` None binds nothing (``import "side-effect"``);
    ``star`` makes ``target`` a namespace searched for unbound names; ``export`` marks a
    re-export (JS ``export … from``, Rust ``pub use``), which other files may import through."""

    local: str | None
    target: str
    star: bool = False
    export: bool = False
    # other targets to try, in order; guesses (C include directories), so ``inferred``
    alts: tuple[str, ...] = ()
    # what the bound name is when called or constructed, if not ``target`` itself: CommonJS
    # ``const Hash = require("./hash")`` is the module's ``module.exports = Hash``, which
    # the module publishes as its ``default`` (``lang/es5.py``)
    called: str = ""
    # whether ``local`` becomes a name of this file (not for CommonJS ``exports.x = y``, which
    # publishes ``x`` without binding it here)
    bind: bool = True


@dataclass(slots=True, frozen=True)
class VarType:
    """What the extractor knows of a variable's type, for the calls on it.

    ``parts`` is the type's name as written (``declared``: a declaration or, where types are
    static, an initialiser; else a guess), or, with ``slot``, the name of a function: the
    variable holds what that function returns (``slot`` ``"()"``) or is the ``j``-th
    argument's callback's ``i``-th parameter (``slot`` ``".(j).(i)"``, the type the function's
    declaration gives it: TypeScript's contextual typing); or (``slot`` ``"*field"``) the
    fqn of the enclosing class, whose field the variable was assigned."""

    parts: tuple[str, ...]
    declared: bool
    slot: str = ""


@dataclass(slots=True)
class Frame:
    """The definition a reference sits in, and what ``self`` means there."""

    entity: Entity  # the innermost entity (the module at top level)
    self_type: str | None = None  # fqn of the enclosing type (class, impl target, receiver)
    self_names: frozenset[str] = frozenset()  # names denoting the instance (Go receivers)
    scope: str = ""  # fqn of the innermost enclosing namespace-like container


@dataclass(slots=True)
class Context:
    """What the spec sees of the file being extracted."""

    path: str
    module: str  # what the worker computed (Go import path, Rust module path) or ""
    raw: str = ""  # the reference being decided, as written (``a::b`` vs ``a.b`` in Rust)
    in_type: bool = False  # naming a variable's type (see LangSpec.member_candidates)
    depth: int = 0  # nesting of variable type lookups (see LangSpec.owner_types)
    namespace: str = ""
    bindings: dict[str, str] = field(default_factory=dict)  # imported name -> target fqn
    called: dict[str, str] = field(default_factory=dict)  # imported name -> `Import.called`
    stars: list[str] = field(default_factory=list)  # wildcard-imported namespaces
    top: dict[str, str] = field(default_factory=dict)  # top-level name here -> its fqn
    local: dict[str, Entity] = field(default_factory=dict)  # fqn -> first entity here
    # (entity key, variable) -> its type; None when bound to two types
    typed: dict[tuple[str, str], VarType | None] = field(default_factory=dict)
    # (entity key, variable) bound with no type written: hides outer scopes' (closures)
    bound: set[tuple[str, str]] = field(default_factory=set)
    parents: dict[str, str | None] = field(default_factory=dict)  # entity key -> parent key
    held: set[str] = field(default_factory=set)  # `Type.field` of a written type, this file's


class LangSpec:
    """Per-language knowledge the engine asks for. Defaults suit a C-like language whose
    definitions live in one global namespace; subclasses override what differs."""

    language = ""
    self_words: frozenset[str] = frozenset({"this"})
    super_words: frozenset[str] = frozenset({"super"})
    # Candidate operator for calls on the instance: `^` follows bases; `=` for languages
    # whose methods are not children of their type's entity (Rust impls).
    member_op = "^"
    # Whether file-level import bindings are published as aliases (re-export semantics);
    # only `Import.export` ones are otherwise.
    alias_all_imports = False
    # Whether an import names members of a module (``from m import x``, JS, Java): its edge
    # then falls back to the module when the member is not found. Go imports name packages.
    import_members = True
    # Calls that are declarations in disguise (Ruby's `require`, `include`): no edge.
    ignore_calls: frozenset[str] = frozenset()
    # Whether a call whose receiver's type is unknown may be guessed (`inferred`) as the one
    # method of that name in the workspace (`?name`). Off where most such calls go into a
    # platform library the index does not hold (Java's JDK, .NET): there the guess was wrong
    # 9 times in 10 (bench/README.md, resolution_check against jdtls).
    guess_by_name = True
    # Whether a variable's type is fixed where it is declared, as a compiler checks it (Go,
    # TypeScript): `x := T{}` / `const x = new T()` make `x.m()` exact, a variable whose type
    # is known but not in the workspace (a platform type: `Map`, `bytes.Buffer`) gets no
    # guess by name, and declared return, field and parameter types are published as
    # aliases (`f()` -> `T()`, `Cls.field` -> `T()`, `f.(0).(1)` -> `T`; `declared_types`).
    static_types = False
    # Whether a function's variables are visible in the functions nested in it that are
    # entities (JS/TS arrow functions bound to a name): their typed variables are looked up
    # outwards, unless a binding of the same name hides them.
    closures = False

    def namespace(self, ctx: Context, package: str) -> str:
        """The prefix of this file's fqns. ``package`` is the ``@package`` text, if any."""
        return package

    def module_fqn(self, ctx: Context) -> str:
        """The fqn of the file's module entity (what an import of the file names)."""
        return ctx.namespace or ctx.path

    def imports(self, node: Node, ctx: Context) -> list[Import]:
        return []

    def module_signature(self, source: bytes) -> str:
        """What the file's module entity records as its signature (Go: its build
        constraint, see ``index.gobuild``)."""
        return ""

    def preprocess(self, source: bytes) -> bytes:
        """The source as the grammar should see it; the same length, so offsets hold."""
        return source

    def guessable(self, name: str) -> bool:
        """Whether a call of method ``name`` on a receiver of unknown type may be guessed as
        the workspace's one method of that name (``?name``; see ``guess_by_name``)."""
        return self.guess_by_name

    def refine(self, node: Node, kind: str) -> Named | None:
        """Adjust a definition's kind, name or owner, or drop it (None). See
        ``definitions.sweep``."""
        return Named(kind)

    def self_names(self, span: Span) -> frozenset[str]:
        """Extra names that mean the instance inside this definition (a Go receiver)."""
        return frozenset()

    def normalize(self, text: str) -> str:
        """Callee text -> dotted name (``a::b``, ``a->b``, ``a\\b`` -> ``a.b``); generic
        arguments dropped. Anything that is not a dotted name of identifiers stays as is."""
        if _PLAIN.fullmatch(text):  # the common case: nothing to rewrite
            return text
        text = "".join(text.split())
        while True:
            stripped = _GENERICS.sub("", text)
            if stripped == text:
                break
            text = stripped
        return _SEPARATORS.sub(".", text).lstrip(".")

    def unbound(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        """Candidates for a name whose head no binding of the file explains."""
        if len(parts) == 1:
            if frame.self_type:
                return (f"^{frame.self_type}.{parts[0]}", f"~={parts[0]}")
            return (f"~={parts[0]}",)
        return (f"?{parts[-1]}",)

    def type_candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        """Candidates for a type name (base classes, constructors)."""
        return self.candidates(parts, ctx, frame)

    def type_name(self, node: Node) -> list[str] | None:
        """The dotted name of the type a type node denotes (pointer marks and generic
        arguments dropped), or None when it is no single named type."""
        parts = self.normalize(_text(node).lstrip("*&").removeprefix("mut ")).split(".")
        if not all(_IDENT.fullmatch(p) for p in parts) or parts[0] in _NOT_TYPES:
            return None
        return parts

    def declared_types(self, span: Span) -> list[tuple[str, Node, bool]]:
        """Types a definition declares for what it returns and holds (``static_types``):
        (fqn suffix, type node, whether the alias names an instance) — ``("()", T, True)``
        for a return type, ``(".field", T, True)`` for a field of a type,
        ``(".(0).(1)", T, False)`` for the parameter 1 of a callback parameter 0."""
        return []

    def contextual(self, var: Node) -> tuple[Node, bool, str] | None:
        """For a parameter of no written type of a callback passed to a call: (the called
        expression, whether it is a ``new``, the slot ``".(j).(i)"``)."""
        return None

    # -- the common part ------------------------------------------------------------------
    def candidates(self, parts: list[str], ctx: Context, frame: Frame) -> tuple[str, ...]:
        head, rest = parts[0], parts[1:]
        tail = "".join(f".{p}" for p in rest)
        if head in self.self_words or head in frame.self_names:
            if frame.self_type is None or not rest:
                return (f"?{rest[-1]}",) if rest else ()
            if len(rest) == 1:
                return (f"{self.member_op}{frame.self_type}.{rest[0]}", f"?{rest[0]}")
            if len(rest) == 2 and self.static_types:  # `this.field.m()`: the field's type
                held = f"*{frame.self_type}.{rest[0]}.{rest[1]}"
                if f"{frame.self_type}.{rest[0]}" in ctx.held:
                    return (held,)  # written here: no guess (it may be a platform type)
                return (held, f"?{rest[1]}")
            return (f"?{rest[-1]}",)
        if head in self.super_words:
            if frame.self_type is not None and len(rest) == 1:
                return (f">{frame.self_type}.{rest[0]}",)
            return ()
        # (not while naming a type: `x: x::T` must not look `x` up as a variable again)
        typed = self.var_type(ctx, frame, head) if ctx.typed and not ctx.in_type else None
        if typed is not None and len(rest) == 1:
            return self.member_candidates(typed, rest[0], ctx, frame)
        if typed is not None and len(rest) == 2 and self.static_types and not typed.slot:
            # `x.field.m()`: what the field of x's type holds
            own = self.owner_types(typed, ctx, frame)
            if not own and typed.declared:
                return ()  # a platform type's field (`xhr.upload.m()`): no guess
            return (*(f"*{fqn}.{rest[0]}.{rest[1]}" for fqn, _ in own), f"?{rest[1]}")
        target = ctx.bindings.get(head)
        if target is not None:
            called = ctx.called.get(head) if not rest else None
            return (f"={called}", f"={target}") if called else (f"={target}{tail}",)
        target = ctx.top.get(head)
        if target is not None:
            return (f"={target}{tail}",)
        return self.unbound(parts, ctx, frame)

    def var_type(self, ctx: Context, frame: Frame, var: str) -> VarType | None:
        """The type of ``var`` where ``frame`` is: bound in the frame's definition, or (with
        ``closures``) in the nearest enclosing one, unless a binding with no type hides it."""
        key: str | None = frame.entity.key
        while key:
            ident = (key, var)
            if ident in ctx.typed:
                return ctx.typed[ident]
            if not self.closures or ident in ctx.bound:
                return None
            key = ctx.parents.get(key)
        return None

    def owner_types(self, typed: VarType, ctx: Context, frame: Frame) -> list[tuple[str, bool]]:
        """(fqn, exact) of each type ``typed`` may denote: a type name's candidates, or the
        function whose result or callback parameter it is (an fqn with ``slot`` appended)."""
        if ctx.depth > 3 or not typed.parts:  # (`x := x.Next()`: typed by a call on itself)
            return []
        function = bool(typed.slot) and not typed.slot.startswith(".constructor")
        ctx.depth += 1
        ctx.in_type = not function  # a function is named like a value
        try:
            parts = list(typed.parts)
            if function:
                cands = self.candidates(parts, ctx, frame)
            else:
                cands = self.type_candidates(parts, ctx, frame)
        finally:
            ctx.in_type = False
            ctx.depth -= 1
        slot = typed.slot if typed.slot != "()" else ""
        out = []
        for cand in cands:
            exact = not cand.startswith("~")
            op, fqn = cand.lstrip("~")[:1], cand.lstrip("~")[1:]
            if op == "=" or (op == "^" and typed.slot == "()"):
                # (`x = this.make()`: the method, found through the class's bases by name)
                out.append((fqn + slot, exact))
        return out

    def member_candidates(
        self, typed: VarType, attr: str, ctx: Context, frame: Frame
    ) -> tuple[str, ...]:
        """``attr`` of a variable of type ``typed``: looked up in each class the type name may
        denote (``^``; ``~^`` when the type is only a guess), then by name — unless types are
        static and the type is known: a type the workspace lacks is a platform's, whose
        methods a guess would only miss."""
        if typed.slot.startswith("*"):  # the variable holds a field of this class
            held = f"{typed.parts[0]}.{typed.slot[1:]}"
            return (f"*{held}.{attr}",) if held in ctx.held else (f"*{held}.{attr}", f"?{attr}")
        mark = "" if typed.declared else "~"
        out = [
            f"{mark if exact else '~'}^{fqn}.{attr}"
            for fqn, exact in self.owner_types(typed, ctx, frame)
        ]
        if self.static_types and typed.declared and typed.slot != "()":
            return tuple(out)  # (what a function returns may be written nowhere: guess)
        return (*out, f"?{attr}")


def extract_with(spec: LangSpec, path: str, source: bytes, module: str) -> Extraction:
    """Entities, edges and aliases of one file. Never raises on bad input."""
    language = spec.language
    if source.startswith(_BOM):  # grammars choke on it; spaces keep every offset
        source = b"   " + source[3:]
    source = spec.preprocess(source)
    root = get_parser(language).parse(source).root_node
    out = Extraction()
    ctx = Context(path=path, module=module)
    matches = QueryCursor(get_query(language, query_source(language))).matches(root)
    refs: list[tuple[str, dict[str, list[Node]]]] = []
    package = ""
    for _, caps in matches:
        role = next((r for r in _ROLES if r in caps), None)
        if role == "package":
            name = caps.get("name", caps["package"])[0]
            package = package or _text(name)
        elif role is not None:
            refs.append((role, caps))
    ctx.namespace = spec.namespace(ctx, spec.normalize(package) if package else "")
    qual = module_qualname(path)
    module_ent = module_entity(language, path, root, qual, spec.module_fqn(ctx))
    module_ent.signature = spec.module_signature(source)
    out.entities.append(module_ent)
    spans = sweep(language, path, root, module_ent, ctx.namespace, spec.refine)
    for span in spans:
        ent = span.entity
        if not ent.key:
            continue
        out.entities.append(ent)
        ctx.local.setdefault(ent.fqn, ent)
        # (a member of a type or object defined elsewhere, `Promise.prototype.m`, is not a
        # bare name of the file)
        if ent.parent == module_ent.key and ent.qualname == ent.name:
            ctx.top.setdefault(ent.name, ent.fqn)
    ctx.local.setdefault(module_ent.fqn, module_ent)
    emitter = _Emitter(spec, ctx, out, module_ent)
    # imports first: a call may come before the import that explains it (hoisting)
    for role, caps in refs:
        if role == "import":
            emitter.imports(caps["import"][0])
    # the definition each definition is written in (closures: not always the entity's
    # parent, e.g. an object literal's method inside a method is filed under the class)
    around: list[tuple[int, str]] = [(1 << 62, module_ent.key)]
    for span in sorted(spans, key=lambda sp: (sp.node.start_byte, -sp.node.end_byte)):
        while around[-1][0] <= span.node.start_byte:
            around.pop()
        if span.entity.key:
            ctx.parents[span.entity.key] = around[-1][1]
            around.append((span.node.end_byte, span.entity.key))
    if spec.static_types:
        emitter.declared_types(spans)
    frames = _Frames(spec, spans, module_ent, ctx)
    refs.sort(key=lambda rc: rc[1][rc[0]][0].start_byte)
    for role, caps in refs:
        if role == "import":
            continue
        node = caps[role][0]
        frame = frames.at(node.start_byte)
        if role == "call":
            emitter.call(caps, node, frame)
        elif role == "new":
            emitter.typed(EdgeKind.CALLS, caps, node, frame)
        elif role == "local":
            emitter.local(caps, frame)
        else:
            emitter.inherit(caps, node, frame)
    if root.has_error:
        out.syntax_error = f"syntax error at line {first_error_line(root)}"
    return out


_ROLES = ("package", "import", "call", "new", "inherit", "local")


class _Frames:
    """Which definition encloses a byte offset; queried in increasing offsets (one sweep)."""

    def __init__(self, spec: LangSpec, spans: list[Span], module: Entity, ctx: Context) -> None:
        self.spec = spec
        self.spans = spans
        self.i = 0
        self.ctx = ctx
        self.stack: list[tuple[int, Frame]] = [(1 << 62, Frame(module, scope=ctx.namespace))]
        # Functions that own methods (an ES5 constructor `function Foo` of `Foo.prototype.m
        # = …`): `this` in them is an instance, as in a class.
        self.constructors = {
            s.entity.parent for s in spans if s.entity.kind == "method" and s.entity.key
        }

    def at(self, offset: int) -> Frame:
        spans, stack = self.spans, self.stack
        while stack[-1][0] <= offset and len(stack) > 1:
            stack.pop()
        while self.i < len(spans) and spans[self.i].node.start_byte <= offset:
            span = spans[self.i]
            self.i += 1
            while stack[-1][0] <= span.node.start_byte and len(stack) > 1:
                stack.pop()
            if span.node.end_byte <= offset or not span.scope:
                continue  # a definition wholly before the offset, or not a scope
            stack.append((span.node.end_byte, self._frame(span, stack[-1][1])))
        return stack[-1][1]

    def _frame(self, span: Span, outer: Frame) -> Frame:
        ent = span.entity
        if ent.kind in CLASSLIKE:
            return Frame(ent if ent.key else outer.entity, ent.fqn, outer.self_names, ent.fqn)
        if ent.kind in ("module", "namespace"):
            return Frame(ent, None, frozenset(), ent.fqn)
        self_type = outer.self_type
        if ent.kind == "function" and ent.key in self.constructors:
            self_type = ent.fqn
        elif ent.kind == "method" and self_type is None and "." in ent.qualname:
            # defined outside its type (Go receiver, C++ `A::m`): the type is its prefix
            self_type = ent.fqn.rsplit(".", 1)[0]
        names = outer.self_names | self.spec.self_names(span)
        return Frame(ent, self_type, names, outer.scope)


class _Emitter:
    def __init__(self, spec: LangSpec, ctx: Context, out: Extraction, module: Entity) -> None:
        self.spec = spec
        self.ctx = ctx
        self.out = out
        self.module = module
        # one edge per (source, kind, target as written); a repeat adds a site to it
        self.seen: dict[tuple[str, str, str], Edge] = {}
        self.star_aliases: list[str] = []
        # (entity key, variable) -> what each of its bindings (by offset) says of its type
        self.bindings: dict[tuple[str, str], dict[int, VarType | None]] = {}

    def imports(self, node: Node) -> None:
        ctx, spec = self.ctx, self.spec
        site = (node.start_point[0] + 1, node.start_point[1])
        for imp in spec.imports(node, ctx):
            if not imp.target:
                continue
            if imp.star:
                ctx.stars.append(imp.target)
                if imp.export:
                    self.star_aliases.append(imp.target)
                    self.out.aliases = [
                        a for a in self.out.aliases if a.fqn != f"{self.module.fqn}.*"
                    ]
                    self.out.aliases.append(
                        Alias(ctx.path, f"{self.module.fqn}.*", " ".join(self.star_aliases))
                    )
            elif imp.local:
                if imp.bind:
                    ctx.bindings[imp.local] = imp.target
                if imp.called:
                    ctx.called[imp.local] = imp.called
                if imp.export or spec.alias_all_imports:
                    self.out.aliases.append(
                        Alias(ctx.path, f"{self.module.fqn}.{imp.local}", imp.target)
                    )
            cands = (f"={imp.target}", *(f"~={alt}" for alt in imp.alts))
            if imp.export and imp.target in ctx.local:
                continue  # `export default f`, `export { a as b }`: a name of this file
            if "." in imp.target and not imp.star and spec.import_members:
                cands += (f"={imp.target.rsplit('.', 1)[0]}",)  # the module, if not the member
            self._edge(self.module, EdgeKind.IMPORTS, imp.target, site, cands, local=False)

    def declared_types(self, spans: list[Span]) -> None:
        """Publish the types definitions declare (``LangSpec.declared_types``) as aliases of
        the names the resolver reads them by: ``f()``, ``Type.field``, ``f.(j).(i)``."""
        spec, ctx = self.spec, self.ctx
        frame = Frame(self.module, scope=ctx.namespace)
        for span in spans:
            ent = span.entity
            if not ent.key or not ent.fqn:
                continue
            for suffix, node, instance in spec.declared_types(span):
                if instance and not suffix.startswith((".(", "(")):
                    ctx.held.add(f"{ent.fqn}{suffix}")
                parts = spec.type_name(node)
                if parts is None:
                    continue
                ctx.in_type = True
                try:
                    cands = spec.type_candidates(parts, ctx, frame)
                finally:
                    ctx.in_type = False
                fqn = next((c[1:] for c in cands if c.startswith("=")), None)
                if fqn is not None:
                    target = f"{fqn}()" if instance else fqn
                    self.out.aliases.append(Alias(ctx.path, f"{ent.fqn}{suffix}", target))

    def call(self, caps: dict[str, list[Node]], node: Node, frame: Frame) -> None:
        if "callee" in caps:
            raw = _text(caps["callee"][0])
            site = name_site(caps["callee"][0])
        else:
            recv = caps.get("recv")
            raw = _text(caps["name"][0]) if "name" in caps else ""
            site = name_site(caps["name"][0]) if "name" in caps else name_site(node)
            if recv:
                raw = f"{_text(recv[0])}.{raw}"
        text = self.spec.normalize(raw)
        if text in self.spec.ignore_calls:
            return
        self.ctx.raw = raw
        parts = text.split(".")
        if all(_IDENT.fullmatch(p) for p in parts):
            cands = self.spec.candidates(parts, self.ctx, frame)
        else:  # a call on an expression (`f().g`, `a[0].m`): only the method name counts
            last = parts[-1] if parts else ""
            cands = (f"?{last}",) if len(parts) > 1 and _IDENT.fullmatch(last) else ()
            text = f"<expr>.{last}" if cands else "<expr>"
            made = self._result_of(caps["callee"][0]) if "callee" in caps else None
            if cands and self.spec.static_types and made is not None:
                typed = VarType(tuple(made), True, "()")
                on_result = self.spec.member_candidates(typed, last, self.ctx, frame)
                if on_result:
                    # `f(…).m()` (static types): `m` of what `f` returns, as for `x = f();
                    # x.m()`. Named by `f`, so that `TypeOf(t).M()` and `ValueOf(v).M()` in
                    # one function are two edges, each decided by its own candidates.
                    cands, text = on_result, f"{'.'.join(made)}().{last}"
        self._edge(frame.entity, EdgeKind.CALLS, text or raw, site, cands)

    def _result_of(self, callee: Node) -> list[str] | None:
        """The dotted name of the function whose result ``callee``'s method is called on
        (``f(…).m``, ``pkg.F(…).m``: ``f``, ``pkg.F``), or None."""
        obj = callee.child_by_field_name("object") or callee.child_by_field_name("operand")
        inner = obj.child_by_field_name("function") if obj is not None else None
        if obj is None or obj.type != "call_expression" or inner is None:
            return None
        names = self.spec.normalize(_text(inner)).split(".")
        return names if all(_IDENT.fullmatch(p) for p in names) else None

    def local(self, caps: dict[str, list[Node]], frame: Frame) -> None:
        """Remember a variable's type for the calls on it in the same definition (and, with
        ``closures``, in the definitions nested in it)."""
        if "var" not in caps:
            return
        spec = self.spec
        var = caps["var"][0]
        ident = (frame.entity.key, _text(var))
        found: VarType | None = None
        if "type" in caps or "ctor" in caps:
            declared = "type" in caps
            parts = spec.type_name(caps["type"][0] if declared else caps["ctor"][0])
            if parts is not None:
                found = VarType(tuple(parts), declared or spec.static_types)
            elif declared and spec.static_types:
                found = VarType((), True)  # known, not a named type (`T[]`, `A | B`): no guess
            else:
                return  # `var x = new T()` is the constructor's pattern
        elif "field" in caps:  # `const x = this.field`: what the field holds
            if frame.self_type is not None:
                found = VarType(
                    (frame.self_type,), spec.static_types, "*" + _text(caps["field"][0])
                )
        elif "value" in caps:
            callee = spec.normalize(_text(caps["value"][0])).split(".")
            if callee == ["require"]:
                return  # `const m = require("./m")`: an import
            if all(_IDENT.fullmatch(p) for p in callee):
                found = VarType(tuple(callee), spec.static_types, "()")
        else:
            context = spec.contextual(var)
            if context is not None:
                callee_node, is_new, slot = context
                names = spec.type_name(callee_node) if is_new else None
                if not is_new:
                    names = spec.normalize(_text(callee_node)).split(".")
                if names and all(_IDENT.fullmatch(p) for p in names):
                    found = VarType(tuple(names), True, (".constructor" if is_new else "") + slot)
        self._bind(ident, var.start_byte, found)

    def _bind(self, ident: tuple[str, str], at: int, found: VarType | None) -> None:
        """Record one binding (at offset ``at``) of a variable. Bindings of one name in one
        definition (two blocks, two callbacks) that disagree leave it untyped — but a
        written type beats guesses. One declaration matched by two patterns (its type and
        its initialiser) is one binding: the written type is kept."""
        seen = self.bindings.setdefault(ident, {})
        old = seen.get(at)
        if old is not None and (found is None or (old.declared and not found.declared)):
            found = old
        seen[at] = found
        values = set(seen.values())
        if len(values) == 1 and found is None:
            self.ctx.bound.add(ident)  # no type written: hides an outer variable
            return
        if len(values) == 1:
            self.ctx.typed[ident] = found
            return
        declared = {v for v in values if v is not None and v.declared}
        sure = None not in values and len(declared) == 1
        self.ctx.typed[ident] = next(iter(declared)) if sure else None

    def typed(self, kind: str, caps: dict[str, list[Node]], node: Node, frame: Frame) -> None:
        text = self.spec.normalize(_text(caps["callee"][0]))
        parts = text.split(".")
        cands: tuple[str, ...] = ()
        if all(_IDENT.fullmatch(p) for p in parts):
            cands = tuple(
                c for c in self.spec.type_candidates(parts, self.ctx, frame) if "?" not in c[:2]
            )
        self._edge(frame.entity, kind, text, name_site(caps["callee"][0]), cands)

    def inherit(self, caps: dict[str, list[Node]], node: Node, frame: Frame) -> None:
        # the base's frame is the class being defined (the base clause is inside its node)
        outer = _outer(frame)
        if "owner" in caps:  # Rust `impl Trait for Type`: the edge leaves Type, if here
            owner = self.spec.normalize(_text(caps["owner"][0]))
            ns = self.ctx.namespace
            ent = self.ctx.local.get(f"{ns}.{owner}" if ns else owner)
            outer.entity = ent if ent is not None else self.module
        self.typed(EdgeKind.INHERITS, caps, node, outer)

    def _edge(
        self,
        src: Entity,
        kind: str,
        target: str,
        site: Site,
        cands: tuple[str, ...],
        local: bool = True,
    ) -> None:
        target = target[:MAX_TARGET]
        if not target:
            return
        ident = (src.key, kind, target)
        seen = self.seen.get(ident)
        if seen is not None:
            seen.add_site(site)
            return
        if any(c.startswith("?") for c in cands):
            cands = tuple(c for c in cands if not c.startswith("?") or self.spec.guessable(c[1:]))
        edge = Edge(src.key, kind, target, self.ctx.path, site[0], candidates=cands, sites=(site,))
        self.seen[ident] = edge
        if local:
            self._decide_locally(edge)
        self.out.edges.append(edge)

    def _decide_locally(self, edge: Edge) -> None:
        """Settle an edge whose first candidate is exact and names a definition here."""
        if not edge.candidates:
            return
        first = edge.candidates[0]
        target: Entity | None = None
        if first.startswith("="):
            target = self.ctx.local.get(first[1:])
        elif first.startswith("^"):  # only a member the type itself defines, here
            owner = self.ctx.local.get(first[1:].rpartition(".")[0])
            member = self.ctx.local.get(first[1:])
            if owner is not None and member is not None and member.parent == owner.key:
                target = member
        if target is not None and (edge.kind == EdgeKind.CALLS or target.key != edge.src):
            edge.dst, edge.resolution, edge.candidates = target.key, Resolution.EXACT, ()


def _outer(frame: Frame) -> Frame:
    """For a base clause, the frame is the class itself: its own name is not `self` there,
    but resolution of the base must not go through the class's members."""
    scope = frame.scope
    if frame.entity.fqn == scope:  # the class's own scope: its bases are named outside it
        scope = scope.rpartition(".")[0]
    return Frame(frame.entity, None, frozenset(), scope)


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def text(node: Node | None) -> str:
    """A node's source text ("" for None)."""
    return _text(node)


def unquote(s: str) -> str:
    return s.strip().strip("\"'`<>")
