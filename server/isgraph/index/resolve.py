"""Cross-file name resolution: turn each edge's candidates into a target and a provenance.

Extraction records *what a name could mean* (``Edge.candidates``); this module decides what it
*does* mean, against everything in the store, because a call's target is often in a file that
is parsed later. It works file batch by file batch with bounded caches, so memory stays flat:
a pass tries every edge of the batch against the caches, collects the names it was missing,
fetches them from the store in one query per kind, and tries again (a few rounds cover alias
chains and base classes in other files).

Candidate forms (see ``model.Edge``): ``=fqn``, ``^Class.attr``, ``>Class.attr``,
``&attr|Sub1|Sub2…``, ``?name``; a leading ``~`` downgrades a match to ``inferred``. The owner
of ``^owner.attr`` may also be a function: the attribute is then looked up in the class its
return annotation names (``x = f(); x.m()``).
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from isgraph.index.gobuild import Platform, builds
from isgraph.index.spool import EdgeSpool
from isgraph.index.stubs import BUILTIN_MODULES, is_external
from isgraph.model import (
    Edge,
    EdgeKind,
    Entity,
    Resolution,
    is_test_file,
    make_key,
    module_qualname,
)
from isgraph.store.base import EdgeUpdate, Store

MAX_DEPTH = 8  # alias / attribute chains longer than this are given up on (and cycles)
MAX_ROUNDS = 40  # fetch rounds per batch: each inheritance level costs ~3 (class, member, bases)
BATCH_FILES = 50  # files whose edges are resolved together (bounds the edges held at once)
CACHE_LIMIT = 10_000  # entries per cache before it is dropped (keeps memory flat)
CLASS_KINDS = frozenset({"class", "struct", "interface", "trait", "enum"})
# Families whose edges carry long candidate lists (Java, C#: a name no import explains is tried
# in every enclosing type, the package or namespaces, each on-demand import). The first time
# such an edge misses the cache, each of its candidates is probed for what it lacks, so that
# one fetch round serves them all instead of one round per candidate (`Resolver._probe`).
# Not for the others: fetching ahead for every language doubled peak RSS on Python (whose
# edges have 1-3 candidates) for no gain.
PROBE_AHEAD = frozenset({"java", "csharp"})
FUNCTION_KINDS = frozenset({"function", "method"})
MAX_SUBCLASSES = 16  # `&` candidates: subclasses consulted
# `-> Foo`, `-> mod.Foo[int]`, `-> "Foo"`, `-> Foo | None`, `-> Optional[Foo]` (Python
# signatures as the extractor stores them): the class part.
_RETURNS = re.compile(r"->\s*(.+)$")
_OPTIONAL = re.compile(r"^(?:typing\.)?Optional\[(.+)\]$")
_TYPE_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


# Languages whose names may denote each other's definitions: a .tsx file imports a .ts
# module, C++ calls functions of C files. A candidate never resolves into another family:
# names collide across languages (a C function `helper`, a Ruby method `helper`), calls don't
# cross them.
_FAMILY = {"typescript": "js", "tsx": "js", "javascript": "js", "cpp": "c"}


def family(language: str) -> str:
    """The language family of a language (see ``_FAMILY``)."""
    return _FAMILY.get(language, language)


def _edge_family(edge: Edge) -> str:
    return family(edge.src.split(":", 1)[0])  # keys start with the language (make_key)


class _Need(Exception):
    """A lookup missed the cache; the batch is retried after a fetch."""


_NEED = _Need()


@dataclass(slots=True)
class ResolveReport:
    edges: int = 0
    updated: int = 0
    exact: int = 0
    inferred: int = 0
    unresolved: int = 0

    def count(self, label: str) -> None:
        """One more edge with this verdict."""
        self.edges += 1
        if label == Resolution.EXACT:
            self.exact += 1
        elif label == Resolution.INFERRED:
            self.inferred += 1
        else:
            self.unresolved += 1

    def add(self, other: ResolveReport) -> None:
        self.edges += other.edges
        self.updated += other.updated
        self.exact += other.exact
        self.inferred += other.inferred
        self.unresolved += other.unresolved


class Resolver:
    """Resolves edges against one store. Not thread-safe; one per resolution run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ents: dict[str, list[Entity]] = {}
        self._alias: dict[str, tuple[str, bool] | None] = {}  # fqn -> (target, in a stub)
        self._named: dict[str, list[Entity]] = {}
        self._inherits: dict[str, list[Edge]] = {}
        self._bases: dict[str, list[Entity]] = {}
        self._mros: dict[str, list[Entity]] = {}
        self._need_fqn: set[str] = set()
        self._need_named: set[str] = set()
        self._need_inherits: set[str] = set()
        self._by_key: dict[str, Entity | None] = {}
        self._need_keys: set[str] = set()
        # Go: the platform calls are resolved for (build constraints, `_prefer_built`), the
        # path of the edge being decided (whose file name may fix another), and per
        # (file, platform) whether the file builds.
        self._platform = Platform.current()
        self._near = ""
        self._built: dict[tuple[str, Platform], bool] = {}

    # -- public -----------------------------------------------------------------------------
    def resolve_edges(self, edges: Sequence[Edge]) -> list[EdgeUpdate]:
        """Decide every edge; return updates for those whose target or provenance changed."""
        updates = []
        for edge, target, label in self.decide(edges):
            dst = target.key if target is not None else None
            if dst == edge.dst and label == edge.resolution:
                continue
            updates.append(EdgeUpdate(edge.path, edge.src, edge.kind, edge.target_name, dst, label))
        return updates

    def decide(self, edges: Sequence[Edge]) -> list[tuple[Edge, Entity | None, str]]:
        """(edge, target or None, resolution) for every edge that has candidates, and for
        every undecided one without (unresolved); edges decided at extraction are left out."""
        self._trim_caches()
        pending = list(edges)
        decided: list[tuple[Edge, Entity | None, str]] = []
        probe = PROBE_AHEAD  # on an edge's first miss only: later misses are deeper chains
        for _ in range(MAX_ROUNDS):
            retry: list[Edge] = []
            for edge in pending:
                if not edge.candidates:  # decided at extraction (same file) or undecidable
                    if edge.dst is None:
                        decided.append((edge, None, Resolution.UNRESOLVED))
                    continue
                try:
                    target, label = self._resolve(edge)
                except _Need:
                    if probe and _edge_family(edge) in probe:
                        self._probe(edge)
                    retry.append(edge)
                    continue
                decided.append((edge, target, label))
            if not retry:
                break
            self._fetch()
            pending, probe = retry, frozenset()
        else:  # pathological chains: give up on what is left
            decided.extend((e, None, Resolution.UNRESOLVED) for e in pending)
        return decided

    # -- one edge ---------------------------------------------------------------------------
    def _resolve(self, edge: Edge) -> tuple[Entity | None, str]:
        fam = _edge_family(edge)
        self._near = edge.path
        for cand in edge.candidates:
            label = Resolution.EXACT
            if cand.startswith("~"):
                label, cand = Resolution.INFERRED, cand[1:]
            op, body = cand[:1], cand[1:]
            target: Entity | None = None
            if op == "=":
                target = self._pick(_in_family(self._name(body, 0), fam), edge.path)
            elif op in ("^", ">") and "." in body:
                body, _, after = body.partition("|")  # `>Class.attr|Mid`: super(Mid, self)
                owner, attr = body.rsplit(".", 1)
                owners = self._prefer_built(_in_family(self._name(owner, 0), fam))
                cls = self._pick([e for e in owners if e.kind in CLASS_KINDS], edge.path)
                if cls is not None and after:
                    target = self._member_after(cls, after, attr, fam, edge.path)
                elif cls is not None:
                    target = self._member(cls, attr, op == "^", 0)
                elif op == "^" and not owners and owner.endswith(".__enter__"):
                    target, sure = self._entered_member(owner[: -len(".__enter__")], attr)
                    if not sure:
                        label = Resolution.INFERRED
                elif op == "^" and (owned := self._owned_method(owners, attr, edge.path)):
                    target = owned
                elif op == "^":
                    target, sure = self._returned_member(owners, attr, edge.path, owner)
                    if not sure:
                        label = Resolution.INFERRED
            elif op == "&":
                target = self._subclasses_agree(body, fam, edge.path)
            elif op == "*" and body.count(".") >= 2:
                held, attr = body.rsplit(".", 1)
                cls = self._held_class(held, fam)
                target = self._member(cls, attr, True, 0) if cls is not None else None
            elif op == "%" and "." in body:
                # A default type's method for a receiver of unknown type (see model.Edge),
                # unless the workspace defines that method name twice or more.
                found = _in_family(self._by_name(body.rsplit(".", 1)[1]), fam)
                if len(found) < 2:
                    target = self._pick(self._entities(body), edge.path)
                    label = Resolution.INFERRED
            elif op == "?":
                found = _in_family(self._by_name(body), fam)
                if len(found) == 1 and not _into_tests(found[0], edge):
                    target, label = found[0], Resolution.INFERRED
            # A class inheriting or a module importing itself is a shadowing artefact;
            # a function calling itself is recursion.
            if target is not None and (edge.kind == EdgeKind.CALLS or target.key != edge.src):
                return target, label
        return None, Resolution.UNRESOLVED

    def _owned_method(self, owners: list[Entity], attr: str, near: str) -> Entity | None:
        """A method ``attr`` that is a child of a function or a value rather than a class: an
        ES5 constructor's (``Foo.prototype.m = …``), an object literal's (``var o = {m:
        function…}``). Only methods: a function nested in a function is no member of what
        it returns."""
        for owner in sorted(owners, key=lambda e: e.path != near):
            if owner.kind in CLASS_KINDS or owner.kind == "module":
                continue
            for member in self._entities(f"{owner.fqn}.{attr}"):
                if member.parent == owner.key and member.kind == "method":
                    return member
        return None

    def _pick(self, ents: list[Entity], near: str) -> Entity | None:
        """``_pick`` among the candidates that build for the edge's platform (Go)."""
        return _pick(self._prefer_built(ents), near)

    def _prefer_built(self, ents: list[Entity]) -> list[Entity]:
        """Go: of same-named definitions in several files (one per platform), those whose
        file the toolchain compiles for the platform of the edge being decided
        (``index.gobuild``: file-name suffix and ``//go:build``, kept as the signature of
        the file's module entity) — as gopls answers for its one configuration. When none
        or all of them build, all are kept (a definition for another platform is still
        the only one there is)."""
        if len(ents) < 2 or ents[0].language != "go" or len({e.path for e in ents}) < 2:
            return ents
        target = self._platform.for_file(self._near)
        ok = {e.path: self._builds(e.path, target) for e in ents}
        built = [e for e in ents if ok[e.path]]
        return built if built and len(built) < len(ents) else ents

    def _builds(self, path: str, target: Platform) -> bool:
        hit = self._built.get((path, target))
        if hit is None:
            module = self._entity_by_key(make_key("go", "module", path, module_qualname(path)))
            hit = builds(path, module.signature if module is not None else "", target)
            self._built[(path, target)] = hit
        return hit

    def _probe(self, edge: Edge) -> None:
        """Try each candidate of ``edge`` on its own, for the misses it records (what the
        next fetch brings in): a candidate is otherwise reached only once every earlier one
        is decided, one fetch round after another. Results are dropped: the edge is decided
        in candidate order on a later round."""
        for cand in edge.candidates:
            one = Edge(edge.src, edge.kind, edge.target_name, edge.path, edge.line)
            one.candidates = (cand,)
            with contextlib.suppress(_Need):
                self._resolve(one)

    def _name(self, fqn: str, depth: int, stubs: bool = False) -> list[Entity]:
        """Entities a dotted name denotes, following import aliases and attribute access.

        ``stubs``: the name is read in a typeshed stub, whose imports mean typeshed's modules
        (as pyright reads them): where the workspace defines a module of the same name (the
        standard library's own source does), the stub's entities come first, and the
        workspace's otherwise."""
        if depth > MAX_DEPTH:
            return []
        ents = self._entities(fqn)
        if ents:
            own = [e for e in ents if is_external(e.path) == stubs]
            if own and len(own) < len(ents):
                return own
            if stubs or own or not self._shadowed(fqn):
                return ents
            # Only a stub has the name, but the workspace's module of that name is what the
            # workspace imports: its own imports decide (a name it lacks is not the stub's).
        alias = self._alias_of(fqn)
        # (a stub's alias of a name the workspace's module shadows is typeshed's business)
        if (
            alias is not None
            and alias[0] != fqn
            and (stubs or not alias[1] or not self._shadowed(fqn))
        ):
            if alias[0].endswith("()"):
                return []  # an instance (`x = Foo()`): no definition; its attributes have
            found = self._name(alias[0], depth + 1, alias[1])
            # The workspace's module imports the name from a module nobody describes (a C
            # module typeshed has no stub of, `from _collections import deque`): typeshed's
            # description of the same module's name is what there is.
            return found or ents
        if "." not in fqn:
            return []
        prefix, attr = fqn.rsplit(".", 1)
        held = self._instance_alias(prefix)
        if held is not None:  # a module's `x = Foo()` (or a re-export of it): x.attr
            cls = self._instance_class(held[0][:-2], depth + 1, held[1])
            if cls is not None and "." in prefix and self._descriptor(cls):
                holder = prefix.rsplit(".", 1)[0]
                if any(e.kind in CLASS_KINDS for e in self._entities(holder)):
                    return []  # a class attribute read gives what its `__get__` returns
            member = self._member(cls, attr, True, depth + 1) if cls is not None else None
            return [member] if member is not None else []
        owner = self._pick(self._name(prefix, depth + 1, stubs), "")
        if owner is None:
            return []
        if owner.kind == "module":
            # Names a module re-exports with `from m import *`: the last import wins.
            stars = self._alias_of(f"{owner.fqn}.*")
            for star in reversed(stars[0].split() if stars else ()):
                found = self._name(f"{star}.{attr}", depth + 1, stars is not None and stars[1])
                if found:
                    return found
        if owner.kind in CLASS_KINDS:
            member = self._member(owner, attr, True, depth + 1)
            return [member] if member is not None else []
        if owner.kind == "module" and owner.fqn != prefix:  # prefix was an alias of a module
            return self._name(f"{owner.fqn}.{attr}", depth + 1, is_external(owner.path))
        return []

    def _instance_alias(self, fqn: str) -> tuple[str, bool] | None:
        """The alias ``Foo()`` (an instance) ``fqn`` stands for, through re-exports
        (``pkg/__init__.py``: ``from .impl import registry``, where ``registry = Foo()``)."""
        alias = self._alias_of(fqn)
        for _ in range(MAX_DEPTH):
            if alias is None or alias[0].endswith("()"):
                return alias
            if alias[0] == fqn:
                return None
            fqn = alias[0]
            alias = self._alias_of(fqn)
        return None

    def _entered_member(self, made: str, attr: str) -> tuple[Entity | None, bool]:
        """``attr`` of ``v`` in ``with made(...) as v`` where ``made.__enter__`` names nothing
        (``made`` a function, or a class whose ``__enter__`` the index does not hold): what
        the instance's ``__enter__`` returns, or (a guess: most return ``self``) the instance.
        A function's overloads (``open()``: text or binary files) must all agree."""
        named = _in_family(self._name(made, 0), "python")
        cls = self._pick([e for e in named if e.kind in CLASS_KINDS], "")
        funcs = [e for e in named if e.kind in FUNCTION_KINDS]
        first = funcs[0] if funcs else None
        if cls is not None:
            made_classes: list[Entity | None] = [cls]
        elif first is not None:
            same = [f for f in funcs if (f.path, f.fqn) == (first.path, first.fqn)]
            made_classes = [self._return_class(f) for f in same]
        else:
            return None, False
        found: Entity | None = None
        sure = True
        for made_cls in made_classes:
            if made_cls is None:
                sure = False
                continue
            enter = self._member(made_cls, "__enter__", True, 0)
            if enter is None:
                member, sure = self._member(made_cls, attr, True, 0), False
            else:
                entered = (
                    self._return_class(enter, made_cls) if enter.kind in FUNCTION_KINDS else None
                )
                member = self._member(entered, attr, True, 0) if entered is not None else None
            if member is None or (found is not None and member.key != found.key):
                return None, False
            found = member
        return found, sure

    def _instance_class(
        self, fqn: str, depth: int, stubs: bool, fam: str = "python"
    ) -> Entity | None:
        """The class of ``fqn()``: the class itself, or what the function is declared to
        return."""
        named = _in_family(self._name(fqn, depth, stubs), fam)
        cls = self._pick([e for e in named if e.kind in CLASS_KINDS], "")
        if cls is not None:
            return cls
        func = self._pick([e for e in named if e.kind in FUNCTION_KINDS], "")
        return self._return_class(func, None, depth + 1) if func is not None else None

    def _shadowed(self, fqn: str) -> bool:
        """Whether a workspace module is named by a prefix of ``fqn`` (then typeshed's module
        of that name is not what the workspace imports)."""
        prefix = fqn
        while "." in prefix:
            prefix = prefix.rsplit(".", 1)[0]
            if prefix in BUILTIN_MODULES:
                return False  # compiled into the interpreter: no file can shadow it
            if any(e.kind == "module" and not is_external(e.path) for e in self._entities(prefix)):
                return True
        return False

    def _returned_member(
        self, owners: list[Entity], attr: str, near: str, owner: str
    ) -> tuple[Entity | None, bool]:
        """``attr`` of what a function returns, by its return annotation (or what its body
        returns), and whether that is decided. Overloads (same fqn, same file) whose
        annotation names a class must all lead to the same member; when some name none (a
        TypeVar, ``Any``), it is only a guess. ``owner`` is the name the function was reached
        by: for ``Foo.__enter__``, ``Self`` is Foo even where a base defines the method."""
        funcs = [e for e in owners if e.kind in FUNCTION_KINDS]
        first = self._pick(funcs, near)
        if first is None:
            return None, False
        receiver: Entity | None = None
        if first.kind == "method" and "." in owner:
            named = self._name(owner.rsplit(".", 1)[0], 1)
            receiver = self._pick([e for e in named if e.kind in CLASS_KINDS], near)
        found: Entity | None = None
        sure = True
        for func in funcs:
            if func.path != first.path or func.fqn != first.fqn:
                continue
            cls = self._return_class(func, receiver)
            if cls is None:
                sure = False
                continue
            member = self._member(cls, attr, True, 1)
            if member is None or (found is not None and member.key != found.key):
                return None, False
            found = member
        return found, sure

    def _return_class(
        self, func: Entity, receiver: Entity | None = None, depth: int = 1
    ) -> Entity | None:
        """The class a Python function's return annotation names, looked up in its module
        (then builtins), as the function's own module would read it."""
        if depth > MAX_DEPTH:
            return None  # a chain of calls given up on
        if func.language != "python":  # the extractor's alias `f()` -> `T()` (static types)
            return self._inferred_return(func, receiver, depth)
        if func.signature.startswith("async "):
            return None  # calling it makes a coroutine
        m = _RETURNS.search(func.signature)
        if m is None:
            return self._inferred_return(func, receiver, depth)
        text = m.group(1).strip().strip("'\"")
        opt = _OPTIONAL.match(text)
        if opt is not None:
            text = opt.group(1)
        parts = [p.strip().strip("'\"") for p in text.split("|")]
        parts = [p for p in parts if p != "None"]
        if len(parts) != 1:
            return None
        name = parts[0].split("[", 1)[0].strip()
        if not _TYPE_NAME.fullmatch(name):
            return None
        if name.rpartition(".")[2] == "LiteralString":
            name = "str"  # a str whose value is a literal (PEP 675)
        if name in ("Self", "typing.Self", "typing_extensions.Self"):
            return self._self_class(func, receiver)
        if not func.fqn.endswith(func.qualname):
            return None
        module = func.fqn[: len(func.fqn) - len(func.qualname)].rstrip(".")
        stubs = is_external(func.path)
        for fqn in (f"{module}.{name}" if module else name, f"builtins.{name}"):
            classes = [e for e in self._name(fqn, 1, stubs) if e.kind in CLASS_KINDS]
            cls = self._pick(_in_family(classes, "python"), func.path)
            if cls is not None:
                return cls
        return None

    def _held_class(self, held: str, fam: str) -> Entity | None:
        """``Cls.attr``: the class of what instances of Cls hold in ``attr`` — a property's
        return type, a class bound in the class body, or what methods assign to
        ``self.attr`` (the alias ``Cls.attr`` -> ``Foo()``), through the bases."""
        owner, attr = held.rsplit(".", 1)
        cls = self._instance_class(owner, 0, False, fam)  # a class, or what a function returns
        if cls is None or family(cls.language) != fam:
            return None
        found = self._member(cls, attr, True, 0)
        if found is not None:
            if found.kind == "property":
                return self._return_class(found, cls)
            return found if found.kind in CLASS_KINDS else None
        held_cls = self._held_in(cls, attr, 0)
        return held_cls if held_cls is not None and not self._descriptor(held_cls) else None

    def _descriptor(self, cls: Entity) -> bool:
        """Whether instances of ``cls`` are descriptors (``property``, a model field): held
        in a class, reading them gives what ``__get__`` returns, not the instance."""
        return self._member(cls, "__get__", True, 1) is not None

    def _held_in(self, cls: Entity, attr: str, depth: int) -> Entity | None:
        """What ``self.attr = Foo()`` in ``cls`` or its bases (depth-first) makes it hold."""
        if depth > MAX_DEPTH:
            return None
        alias = self._alias_of(f"{cls.fqn}.{attr}")
        if alias is not None and alias[0].endswith("()"):
            return self._instance_class(alias[0][:-2], depth + 1, alias[1], family(cls.language))
        for base in self._bases_of(cls, depth):
            if base.key != cls.key:
                found = self._held_in(base, attr, depth + 1)
                if found is not None:
                    return found
        return None

    def _self_class(self, func: Entity, receiver: Entity | None) -> Entity | None:
        """The class ``Self`` stands for in a method: the receiver's, else its own class."""
        if receiver is not None:
            return receiver
        parent = self._entity_by_key(func.parent) if func.parent else None
        return parent if parent is not None and parent.kind in CLASS_KINDS else None

    def _inferred_return(self, func: Entity, receiver: Entity | None, depth: int) -> Entity | None:
        """What the extractor found every ``return`` of an unannotated function gives (the
        alias ``f()``: ``Foo()`` or ``Self``)."""
        if not func.fqn:
            return None
        alias = self._alias_of(f"{func.fqn}()")
        if alias is None:
            return None
        if alias[0] == "Self":
            return self._self_class(func, receiver) if func.kind == "method" else None
        if not alias[0].endswith("()"):
            return None
        return self._instance_class(alias[0][:-2], depth + 1, alias[1], family(func.language))

    def _subclasses_agree(self, body: str, fam: str, near: str) -> Entity | None:
        """``attr|Sub1|Sub2…``: the member every subclass that has one finds (a mixin's
        ``self.m()`` where ``m`` comes from a sibling base; Python's ``B() if c else f()``,
        where a listed function stands for the class of what it returns)."""
        attr, _, rest = body.partition("|")
        found: Entity | None = None
        for sub in rest.split("|")[:MAX_SUBCLASSES]:
            named = _in_family(self._name(sub, 0), fam)
            cls = self._pick([e for e in named if e.kind in CLASS_KINDS], near)
            if cls is None and any(e.kind in FUNCTION_KINDS for e in named):
                cls = self._instance_class(sub, 0, False)
            member = self._member(cls, attr, True, 0) if cls is not None else None
            if member is None:
                continue  # an abstract intermediate: its own subclasses are listed too
            if found is not None and member.key != found.key:
                return None
            found = member
        return found

    def _member(self, cls: Entity, attr: str, include_self: bool, depth: int) -> Entity | None:
        """``attr`` looked up in ``cls`` (if include_self) then its bases, in the method
        resolution order (C3: ``class C(Left, Right)`` with a common base looks in Right
        before that base)."""
        if depth > MAX_DEPTH:
            return None
        if include_self:
            found = self._own(cls, attr, depth)
            if found is not None:
                return found
        for base in self._mro(cls, depth)[1:]:
            found = self._own(base, attr, depth + 1)
            if found is not None:
                return found
        return None

    def _member_after(
        self, cls: Entity, after: str, attr: str, fam: str, near: str
    ) -> Entity | None:
        """``super(After, self).attr`` in a method of ``cls``: ``attr`` in ``cls``'s method
        resolution order after the class ``after`` (``after``'s own bases when ``cls`` does
        not inherit it)."""
        named = [e for e in _in_family(self._name(after, 0), fam) if e.kind in CLASS_KINDS]
        start = self._pick(named, near)
        if start is None:
            return None
        mro = self._mro(cls, 0)
        keys = [e.key for e in mro]
        if start.key not in keys:
            return self._member(start, attr, False, 0)
        for base in mro[keys.index(start.key) + 1 :]:
            found = self._own(base, attr, 1)
            if found is not None:
                return found
        return None

    def _own(self, cls: Entity, attr: str, depth: int) -> Entity | None:
        """``attr`` as ``cls`` itself defines it: a member, or a class-body rename."""
        own = [
            e
            for e in self._entities(f"{cls.fqn}.{attr}")
            if e.parent == cls.key or _outside_its_type(e)
        ]
        own = self._prefer_built(own)  # Go: `File.Close` in file_posix.go, not file_plan9.go
        if own:
            return own[0]
        # `select_set = selection_set` in the class body (fetched with the entities)
        alias = self._alias_of(f"{cls.fqn}.{attr}")
        if alias is not None and not alias[0].endswith("()"):
            return self._pick(self._name(alias[0], depth + 1, alias[1]), cls.path)
        return None

    def _mro(self, cls: Entity, depth: int, visiting: frozenset[str] = frozenset()) -> list[Entity]:
        """``cls`` and its ancestors in C3 order (depth-first where C3 finds no order, as for
        a hierarchy the index sees only part of). Cycles (a class named like its base in
        another module, misread) and chains deeper than MAX_DEPTH are cut. Where the
        hierarchy is a tree, C3 is the old depth-first order."""
        cached = self._mros.get(cls.key)
        if cached is not None:
            return cached
        if depth > MAX_DEPTH or cls.key in visiting:
            return [cls]
        inner = visiting | {cls.key}
        bases = [b for b in self._bases_of(cls, depth) if b.key not in inner]
        seqs = [self._mro(b, depth + 1, inner) for b in bases]
        merged = _c3_merge([*seqs, bases])
        if merged is None:
            merged = list({e.key: e for seq in seqs for e in seq}.values())
        mro = [cls, *merged]
        self._mros[cls.key] = mro
        return mro

    def _bases_of(self, cls: Entity, depth: int) -> list[Entity]:
        cached = self._bases.get(cls.key)
        if cached is not None:
            return cached
        bases: list[Entity] = []
        for edge in self._inherits_of(cls.key):
            if not edge.candidates and edge.dst is not None:  # decided at extraction
                base_ent = self._entity_by_key(edge.dst)
                if base_ent is not None:
                    bases.append(base_ent)
                continue
            for cand in edge.candidates:
                if cand.startswith("~"):
                    cand = cand[1:]
                if cand.startswith("="):
                    named = self._name(cand[1:], depth + 1, is_external(cls.path))
                    base = self._pick([e for e in named if e.kind in CLASS_KINDS], cls.path)
                    if base is not None:
                        bases.append(base)
                        break
        self._bases[cls.key] = bases
        return bases

    # -- lookups: what the rules above read (here from caches, raising _NEED on a miss; a
    # `symbols.TableResolver` answers them from an in-memory table instead) -----------------
    def _entities(self, fqn: str) -> list[Entity]:
        hit = self._ents.get(fqn)
        if hit is None:
            self._need_fqn.add(fqn)
            raise _Need
        return hit

    def _entity_by_key(self, key: str) -> Entity | None:
        if key not in self._by_key:
            self._need_keys.add(key)
            raise _Need
        return self._by_key[key]

    def _alias_of(self, fqn: str) -> tuple[str, bool] | None:
        """(target, whether a stub defines the alias) of an import alias."""
        if fqn not in self._alias:
            self._need_fqn.add(fqn)
            raise _Need
        return self._alias[fqn]

    def _by_name(self, name: str) -> list[Entity]:
        hit = self._named.get(name)
        if hit is None:
            self._need_named.add(name)
            raise _Need
        return hit

    def _inherits_of(self, key: str) -> list[Edge]:
        """The ``inherits`` edges of a class, in source order."""
        edges = self._inherits.get(key)
        if edges is None:
            self._need_inherits.add(key)
            raise _Need
        return edges

    def _fetch(self) -> None:
        if self._need_fqn:
            # Fetch every dotted prefix too: attribute chains need them next round anyway.
            want: set[str] = set()
            for fqn in self._need_fqn:
                parts = fqn.split(".")
                want.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            want -= self._ents.keys() & self._alias.keys()
            found = self.store.entities_by_fqn(want)
            aliases = self.store.aliases(want)
            for fqn in want:
                self._ents[fqn] = found.get(fqn, [])
                alias = aliases.get(fqn)
                self._alias[fqn] = (
                    (alias.target, is_external(alias.path)) if alias is not None else None
                )
            self._need_fqn.clear()
        if self._need_named:
            named = self.store.methods_named(self._need_named)
            for name in self._need_named:
                # Only uniqueness matters for `?name`: keep two at most (common names such as
                # `__init__` have thousands of definitions, and grow with the repo). Stubs
                # don't count: a method name unique in the repo stays a usable guess.
                # Two per language family: `?name` asks for uniqueness within the family.
                kept: list[Entity] = []
                per: dict[str, int] = {}
                for e in named.get(name, ()):
                    fam = family(e.language)
                    if not is_external(e.path) and per.get(fam, 0) < 2:
                        per[fam] = per.get(fam, 0) + 1
                        kept.append(e)
                self._named[name] = kept
            self._need_named.clear()
        if self._need_keys:
            got = self.store.get_entities(self._need_keys)
            for key in self._need_keys:
                self._by_key[key] = got.get(key)
            self._need_keys.clear()
        if self._need_inherits:
            by_src: dict[str, list[Edge]] = {k: [] for k in self._need_inherits}
            for edge in self.store.edges_from_srcs(self._need_inherits, EdgeKind.INHERITS):
                by_src[edge.src].append(edge)
            for edges in by_src.values():
                edges.sort(key=base_order)
            self._inherits.update(by_src)
            self._need_inherits.clear()

    def _trim_caches(self) -> None:
        for cache in (
            self._ents,
            self._alias,
            self._named,
            self._inherits,
            self._bases,
            self._mros,
            self._by_key,
            self._built,
        ):
            if len(cache) > CACHE_LIMIT:
                cache.clear()


def _into_tests(target: Entity, edge: Edge) -> bool:
    """Whether a unique-name guess would land in a test file (``test_*.py``,
    ``*_test.go``…) from another file: code outside tests does not call into them (in Go it
    cannot), and test modules do not import each other's classes (``tkinter/tix.py``'s
    ``self.tk.splitlist()`` is no call of a test's ``MockTkApp``) — except Go's test files
    of one package, which share their names."""
    if target.path == edge.path or not is_test_file(target.path):
        return False
    return not (target.language == "go" and is_test_file(edge.path))


def _outside_its_type(ent: Entity) -> bool:
    """A method defined outside its type, in another file than the type (a Go method in
    another file of the package, C++ ``void A::m() {…}``): its parent is that file's module,
    its fqn the type's plus its name."""
    return ent.kind == "method" and (ent.parent or "").split(":", 2)[1:2] == ["module"]


def base_order(edge: Edge) -> tuple[int, int]:
    """Where an ``inherits`` edge is written: base order matters for lookups, and bases
    share a line, so by (line, column)."""
    return edge.occurrences()[0]


def _in_family(ents: list[Entity], fam: str) -> list[Entity]:
    if all(family(e.language) == fam for e in ents):  # the common case: no copy
        return ents
    return [e for e in ents if family(e.language) == fam]


def _c3_merge(seqs: list[list[Entity]]) -> list[Entity] | None:
    """C3 linearization's merge (Python's MRO): repeatedly take the first head that is in no
    other sequence's tail. None when there is no such order."""
    todo = [list(seq) for seq in seqs if seq]
    out: list[Entity] = []
    while todo:
        for seq in todo:
            head = seq[0].key
            if not any(head == e.key for other in todo for e in other[1:]):
                break
        else:
            return None
        out.append(seq[0])
        todo = [rest for rest in ([e for e in t if e.key != head] for t in todo) if rest]
    return out


def _pick(ents: Iterable[Entity], near: str) -> Entity | None:
    """Among same-named entities, the one nearest ``near`` (same file, then longest common
    directory prefix), then the first in source order."""
    if isinstance(ents, list) and len(ents) < 2:  # the common case: no choice to make
        return ents[0] if ents else None
    best: Entity | None = None
    best_score: tuple[int, int, int] | None = None
    for ent in ents:
        same = 1 if ent.path == near else 0
        # shared leading characters of the paths: a cheap stand-in for directory nearness
        common = len(posixpath.commonprefix([near, ent.path])) if near else 0
        score = (same, common, -ent.start_line)
        if best_score is None or score > best_score:
            best, best_score = ent, score
    return best


@dataclass(slots=True)
class BatchOutcome:
    """What resolving one batch of files produced, for the writer and the report."""

    updates: list[EdgeUpdate]  # stored edges whose verdict changed
    added: list[Edge]  # deferred calls, decided: to be inserted
    hashes: list[tuple[str, str]]  # (path, hash) of files whose deferred calls are in added
    report: ResolveReport
    # Classes a stored `inherits` edge pointed to or points to now, where its target changed
    # (a base resolving elsewhere under the same written name): what they define is
    # inherited differently, so calls reaching it elsewhere are decided again.
    rebased: set[str] = field(default_factory=set)


def resolve_paths(
    store: Store,
    paths: Iterable[str],
    batch_files: int = BATCH_FILES,
    spool: EdgeSpool | None = None,
    resolver: Resolver | None = None,
) -> Iterable[BatchOutcome]:
    """Resolve every edge of ``paths`` (in batches): the stored ones, and those held in
    ``spool`` for these paths. Yields one outcome per batch. ``resolver``: one that reads
    something other than the store's caches (`symbols.TableResolver`)."""
    if resolver is None:
        resolver = Resolver(store)
    batch: list[str] = []
    for path in paths:
        batch.append(path)
        if len(batch) >= batch_files:
            yield _resolve_batch(resolver, store, batch, spool)
            batch = []
    if batch:
        yield _resolve_batch(resolver, store, batch, spool)


def _resolve_batch(
    resolver: Resolver, store: Store, paths: list[str], spool: EdgeSpool | None
) -> BatchOutcome:
    edges = store.edges_from_paths(paths)
    updates = resolver.resolve_edges(edges)
    held, hashes = spool.take(paths) if spool is not None else ([], [])
    added = []
    for edge, target, label in resolver.decide(held):
        edge.dst, edge.resolution = (target.key if target is not None else None), label
        added.append(edge)
    report = ResolveReport(updated=len(updates) + len(added))
    old = {(e.path, e.src, e.kind, e.target_name): e.dst for e in edges}
    rebased: set[str] = set()
    for u in updates:
        if u.kind == EdgeKind.INHERITS:
            rebased.update(k for k in (old.get((u.path, u.src, u.kind, u.target_name)), u.dst) if k)
    changed = {(u.path, u.src, u.kind, u.target_name): u.resolution for u in updates}
    for edge in edges:
        if is_external(edge.path):
            continue  # the workspace's edges are what the report is about
        label = changed.get((edge.path, edge.src, edge.kind, edge.target_name), edge.resolution)
        report.count(label)
    for edge in added:
        report.count(edge.resolution)
    return BatchOutcome(updates, added, hashes, report, rebased)
