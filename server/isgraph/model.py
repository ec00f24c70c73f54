"""Plain data types shared by every layer. No I/O here.

Entities and edges are what extraction produces and what the store keeps. They cross the
process-pool boundary (pickled), so they are slotted dataclasses with primitive fields only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

SCHEMA_VERSION = 5


class Resolution(StrEnum):
    """How an edge's target was decided. Users must be able to tell a proof from a guess."""

    EXACT = "exact"  # decided by the language's scope / import rules
    INFERRED = "inferred"  # a heuristic (e.g. a method name unique in the repo)
    UNRESOLVED = "unresolved"  # kept with `dst=None` and the textual target name


class EdgeKind(StrEnum):
    CALLS = "calls"
    IMPORTS = "imports"
    INHERITS = "inherits"


# Every kind of entity an extractor emits (tests/unit/test_entity_kinds.py keeps it complete):
# what `isgraph symbols --kind` and the other fronts accept.
ENTITY_KINDS = frozenset(
    {
        "class",
        "constant",
        "enum",
        "function",
        "impl",
        "interface",
        "macro",
        "method",
        "module",
        "namespace",
        "property",
        "struct",
        "trait",
        "type",
    }
)


class FileStatus(StrEnum):
    INDEXED = "indexed"  # parsed (possibly with syntax errors: `error` says so)
    SKIPPED = "skipped"  # deliberately not parsed (binary, too large, not UTF-8, ...)
    ERROR = "error"  # could not be read
    UNCHANGED = "unchanged"  # content hash equals the stored one: nothing to write (never stored)


EXTERNAL_PREFIX = "@"  # paths of files from outside the workspace (typeshed stubs)


def is_external(path: str) -> bool:
    """True for files that live outside the workspace (stubs): never discovered or removed."""
    return path.startswith(EXTERNAL_PREFIX)


def make_key(language: str, kind: str, path: str, qualname: str, ordinal: int = 0) -> str:
    """ISGL1 key: ``{language}:{kind}:{repo-relative POSIX path}:{qualname}[#ordinal]``.

    A pure function of its arguments, so editing one entity never changes another's key.
    ``ordinal`` > 0 marks the n-th true duplicate in one scope (redefinitions, setters).
    """
    key = f"{language}:{kind}:{path}:{qualname}"
    return f"{key}#{ordinal}" if ordinal else key


# File names that hold tests by the common conventions (test_*.py, *_test.go, *.spec.ts,
# FooTest.java, *_spec.rb…).
_TEST_FILE = re.compile(
    r"(^test_.*\.py$|_test\.(py|go)$|\.(test|spec)\.[cm]?[jt]sx?$|Tests?\.(java|kt|cs|swift)$"
    r"|_spec\.rb$|_test\.rb$|Test\.php$)"
)


def is_test_file(path: str) -> bool:
    """Whether the file's name marks it as tests (see ``_TEST_FILE``): code that a test
    runner loads, not code other modules import."""
    return _TEST_FILE.search(path.rsplit("/", 1)[-1]) is not None


def module_qualname(path: str) -> str:
    """The qualname of a file's module entity in the shared extractor's languages (Go, JS,
    C…): its path without the extension, dots for slashes (``os/file_unix.go``:
    ``os.file_unix``)."""
    return path.rsplit(".", 1)[0].replace("/", ".")


@dataclass(slots=True)
class Entity:
    """A definition: module, class, function, method, property, ..."""

    key: str
    language: str
    kind: str
    name: str
    qualname: str  # file-local qualified name, e.g. ``Outer.method``
    path: str  # repo-relative POSIX path
    start_line: int  # 1-based
    start_col: int  # 0-based, in UTF-8 bytes as tree-sitter reports
    end_line: int  # 1-based, inclusive
    end_col: int
    signature: str = ""
    doc: str = ""  # first line of the docstring
    parent: str | None = None  # key of the enclosing entity
    # Language-global dotted name used for cross-file resolution (``json.decoder.JSONDecoder``).
    fqn: str = ""
    metadata: str | None = None  # JSON text from enrichment; None when not enriched

    def __reduce__(self) -> tuple[type[Entity], tuple[object, ...]]:
        # Positional tuples pickle ~3x faster than slotted state (pool -> main process).
        return (
            Entity,
            (
                self.key,
                self.language,
                self.kind,
                self.name,
                self.qualname,
                self.path,
                self.start_line,
                self.start_col,
                self.end_line,
                self.end_col,
                self.signature,
                self.doc,
                self.parent,
                self.fqn,
                self.metadata,
            ),
        )

    def record(self) -> dict[str, object]:
        """The public JSON record (CLI ``--json``, LSP custom requests)."""
        return {
            "key": self.key,
            "name": self.name,
            "qualname": self.qualname,
            "kind": self.kind,
            "language": self.language,
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "start_col": self.start_col,
            "end_col": self.end_col,
            "signature": self.signature,
            "doc": self.doc,
            "parent": self.parent,
        }


Site = tuple[int, int]
"""Where an edge occurs: (1-based line, 0-based UTF-8 byte column of the name it refers to,
e.g. ``helper`` in ``self.helper(x)``), as tree-sitter reports positions."""


_LAST_WORD = re.compile(r"[\w$]+$")


def referenced_word(target_name: str) -> str:
    """The word a site's column points at: the last identifier of the target as written
    (``helper`` of ``self.helper``, ``Join`` of ``filepath.Join``); an editor's range for
    the site spans it."""
    found = _LAST_WORD.search(target_name)
    return found.group(0) if found else ""


def encode_sites(sites: tuple[Site, ...]) -> str:
    """The stores' text form of an edge's sites: ``"12:4,15:8"`` (compact: one short string
    column instead of a list column, which costs Cozo a third more per put)."""
    return ",".join(f"{line}:{col}" for line, col in sites)


def decode_sites(text: str) -> tuple[Site, ...]:
    """Inverse of ``encode_sites``; ``""`` (rows written before sites existed) is ``()``."""
    if not text:
        return ()
    out: list[Site] = []
    for part in text.split(","):
        line, _, col = part.partition(":")
        out.append((int(line), int(col or 0)))
    return tuple(out)


@dataclass(slots=True)
class Edge:
    """A directed relation between entities. ``dst`` is None while unresolved.

    One edge per (source entity, kind, target as written); every place it occurs is one of
    its ``sites`` (a function calling ``helper()`` three times has one edge with three
    sites), so references list every call site without a row per site. ``line`` is the
    first site's line (kept as a column for ordering); ``sites`` is the whole truth.
    """

    src: str
    kind: str
    target_name: str  # the target as written in the source (``self.load``, ``os.path.join``)
    path: str  # file of the source entity
    line: int  # 1-based line of the first occurrence
    dst: str | None = None
    resolution: str = Resolution.UNRESOLVED
    # Resolution candidates, tried in order by the cross-file resolver. Each is a prefixed
    # string: ``=fqn`` (exact name, following import aliases), ``^classfqn.attr`` (attribute
    # looked up through the class's bases; when the owner is a function, in the class of
    # what it returns), ``>classfqn.attr`` (the bases only: super(); ``>classfqn.attr|Mid``:
    # the class's method resolution order after Mid, super(Mid, self)), ``&attr|Sub1|Sub2``
    # (what every listed class, or the instance a listed function returns, finds),
    # ``*classfqn.held.attr`` (attribute of what the
    # class's instances hold in ``held``), ``?name`` (method name unique in the repo:
    # inferred), ``%typefqn.name`` (in place of ``?name`` where the extractor knows the likelier
    # type of an untyped receiver, as Python's ``str`` for ``line.strip()``: that type's
    # method, inferred, unless the repo defines ``name`` twice or more); ``~`` in front makes
    # a match inferred. Empty when extraction already decided
    # the edge.
    candidates: tuple[str, ...] = ()
    # Every occurrence, in source order; empty only for edges built without positions
    # (then ``occurrences()`` stands in with the line).
    sites: tuple[Site, ...] = ()

    def occurrences(self) -> tuple[Site, ...]:
        """The edge's sites; ``((line, 0),)`` for an edge built without them."""
        return self.sites or ((self.line, 0),)

    def add_site(self, site: Site) -> None:
        """One more occurrence of the same edge (extraction meets the call again)."""
        if site not in self.sites:
            self.sites = (*self.sites, site)

    def __reduce__(self) -> tuple[type[Edge], tuple[object, ...]]:
        # str(): enum members pickle by reference, which is slow; their values do not.
        return (
            Edge,
            (
                self.src,
                str(self.kind),
                self.target_name,
                self.path,
                self.line,
                self.dst,
                str(self.resolution),
                self.candidates,
                self.sites,
            ),
        )

    def record(self) -> dict[str, object]:
        """The public JSON record; ``sites`` lists every occurrence as ``[line, col]``."""
        sites = self.occurrences()
        return {
            "from": self.src,
            "to": self.dst,
            "target_name": self.target_name,
            "kind": self.kind,
            "resolution": self.resolution,
            "path": self.path,
            "line": self.line,
            "col": sites[0][1],
            "sites": [list(s) for s in sites],
        }


def _last_part(name: str) -> str:
    """The last dotted part of a name; the whole name when that part is a path (``a/b``)."""
    last = name.rpartition(".")[2]
    return name if "/" in last else last


# Candidate forms that name an owner before their last part (``=pkg.mod.f``, ``^pkg.make.ping``,
# ``>Base.m``, ``*Class.held.attr``, ``%str.strip``): how the edge resolves also depends on
# that owner (what the module binds, what ``make`` returns, what ``shared`` was assigned).
# Not ``?name`` (a bare name) nor ``&attr|Sub…``.
OWNED_PREFIXES = frozenset("=^>*%")


def may_change_elsewhere(resolution: str, candidates: Iterable[str]) -> bool:
    """Whether another file's change can alter how this edge resolves, so that a change
    naming it (``edge_match_names``) re-resolves it: every edge not ``exact``, and an exact
    one decided through an owner (``x = make(); x.ping()`` follows ``make``'s return
    annotation, ``shared.ping()`` what ``shared`` was assigned, ``pkg.mod.f`` what ``mod``
    binds — all of which another file may change; found by the differential tester)."""
    if resolution != Resolution.EXACT:
        return True
    return any(_owner(c) for c in candidates)


def _owner(candidate: str) -> str | None:
    """The last part of a candidate's owner (``make`` of ``^pkg.make.ping``), if it has one."""
    body = candidate.lstrip("~")
    if body[:1] not in OWNED_PREFIXES:
        return None
    owner = body[1:].rpartition(".")[0]
    return _last_part(owner) if owner else None


def edge_match_names(edge: Edge) -> set[str]:
    """The names under which an entity could satisfy one of ``edge``'s candidates: each
    candidate's last dotted part (a class member, a function of a package, a Ruby constant
    ``Foo`` of ``Foo.new``), the whole of a path-like import candidate (a header
    ``include/x.h``, a Go import path, a JS module), the target as written, and a
    candidate's owner (``make`` of ``^pkg.make.ping``: the call goes where what ``make``
    returns says, so a new return annotation of ``make`` must reach it).
    A change that defines or removes an entity with one of these names, or changes its
    signature (``entity_match_names``), may change how the edge resolves: the store indexes
    them to find such edges (``Store.edge_paths_to_recheck``) without scanning."""
    names = {_last_part(edge.target_name)}
    imports = edge.kind == EdgeKind.IMPORTS
    for cand in edge.candidates:
        body = cand.lstrip("~")[1:]
        names.add(_last_part(body))
        if imports and "/" in body:
            names.add(body)
        owner = _owner(cand)
        if owner:
            names.add(owner)
    return names


def alias_match_names(fqn: str) -> set[str]:
    """The names under which other files' edges may depend on the alias ``fqn``: its last
    part, and its owner's (``mod`` of ``pkg.mod.f``; a JS barrel's directory of ``src/util.*``,
    its star re-export), which ``edge_match_names`` gives edges decided through that owner
    (``=src/util.shout``: found by the differential tester, a barrel's ``export * from``
    retargeted left its importers' calls on the old module)."""
    owner, _, last = fqn.rpartition(".")
    return {last, _last_part(owner)} if owner else {last}


def entity_match_names(entity: Entity) -> set[str]:
    """The names under which other files' edges may name ``entity`` (see
    ``edge_match_names``): its name and its fqn's last dotted part; for a module that is a
    path (a C header, a Ruby file, a Go package, a JS module), the path alone (``h`` of
    ``x.h`` would name every header)."""
    if entity.kind == "module" and "/" in entity.fqn:
        return {entity.fqn}
    return {entity.name, _last_part(entity.fqn)} if entity.fqn else {entity.name}


@dataclass(slots=True)
class Alias:
    """A name bound at module level (an import, or a single assignment; also a class body's):
    ``fqn`` (``pkg.mod.name``) -> ``target``; a target ``Foo()`` is an instance of Foo, and
    ``pkg.mod.f()`` -> ``Foo()`` / ``Self`` says what calling ``f`` returns. Declared types
    (Go, TypeScript: ``LangSpec.declared_types``) add ``pkg.Type.field`` -> ``Foo()`` (what
    the field holds) and ``pkg.f.(0).(1)`` -> ``Foo`` (the type of parameter 1 of the
    callback passed as argument 0)."""

    path: str
    fqn: str
    target: str


@dataclass(slots=True)
class FileResult:
    """Everything one file yields. Extraction never raises: failures land in ``error``."""

    path: str
    language: str
    status: str
    content_hash: str = ""
    size: int = 0
    mtime_ns: int = 0
    error: str | None = None
    entities: list[Entity] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    # Calls whose target is in another file, held back by the worker (pickled, see
    # `index.spool`) to be written once, resolved, after every file's entities are stored.
    # While they are pending the stored file row has an empty hash, so a run cut short
    # re-parses the file instead of keeping it without them.
    deferred: bytes = b""
    deferred_count: int = 0


@dataclass(slots=True, frozen=True)
class FileState:
    """What the store remembers about a file, for incremental re-indexing."""

    path: str
    language: str
    content_hash: str
    size: int
    mtime_ns: int
    status: str
    error: str | None = None
    entities: int = 0  # rows the file holds (summaries count without scanning entities)
    edges: int = 0
