"""Precision and recall of isgraph's resolved `calls` edges against a precise language server.

    python bench/resolution_check.py [CORPUS] [--language python|go|typescript|javascript|java]
                                     [--db CONN] [--sample N] [--seed S] [--timeout S]
                                     [--server CMD] [--exclude PATTERN] [--java-home JDK]
                                     [--examples K] [--json]

Indexes CORPUS into a fresh store (Python: a copy without site-packages/__pycache__; other
languages in place, as their servers need the project where it is; or ``--db`` an existing store
of CORPUS), samples call *sites* of workspace files (every site an edge carries, see
``model.Edge.sites``) — seeded and stratified: N uniform over all sites (for recall), topped up
to N sites of `exact` and N of `inferred` edges (for precision) — finds the callee's name at the
site (or, for a store without sites, on the edge's line), asks the reference server
`textDocument/definition` there over a real LSP client (`isgraph.proxy`'s `Downstream`: same
start-up, document mirroring, time-outs; after a warm-up until its answers settle, and once more
where it disagrees with isgraph), maps each answer to an isgraph entity (the entity of that file
named at the answer whose lines contain it; typeshed stubs to isgraph's ``@typeshed/…``
entities), and prints, with counts and 95 % Wilson intervals:

- precision per label: of the `exact` / `inferred` edges where the reference answers with an
  entity of the workspace, the share whose target is that entity (and the precision of all
  resolved edges, the labels weighted by their counts in the store);
- recall: of uniformly sampled call sites where the reference answers with an entity of the
  workspace, the share isgraph resolved (exact or inferred) to that entity;
- the same over answers in typeshed stubs (Python's builtins and C modules), over both, and a
  strict precision where an answer outside the index or on a variable is a disagreement;
- what was not compared, never dropped: sites whose name is not on the line or is there more
  than once, no answer / time-out / basedpyright's fallback to a call around the name, answers
  outside the index, answers on a variable or parameter rather than an entity;
- example disagreements and misses (path:line, isgraph's target, the reference's), and
  counts by category.

References: Python — basedpyright (PyPI `basedpyright`, dev extra), told to read the corpus as
its own code: its typeshed copy without the stubs of modules the corpus defines in source
(`trimmed_typeshed`), so `import shutil` in the corpus is the corpus's `shutil.py`. Go — gopls
(Debian `gopls`). TypeScript / JavaScript — typescript-language-server (npm, `--server`).
Java — Eclipse jdtls (`--server`, `--java-home`; see bench/README.md). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

sys.path.insert(0, str(Path(__file__).parent))
from _common import default_corpus, isgraph_cmd, prepare_corpus
from isgraph.config import DownstreamSpec
from isgraph.index.stubs import STUB_PREFIX
from isgraph.model import Edge, Entity
from isgraph.proxy.confirm import TYPESHED_STDLIB, _stub_entity
from isgraph.proxy.hover import char_index, markdown_of, utf16_len
from isgraph.proxy.manager import DownstreamManager
from isgraph.store.base import Store

BIN = Path(sys.executable).parent
# isgraph languages compared for each --language
LANGUAGES = {
    "python": ("python",),
    "go": ("go",),
    "typescript": ("typescript", "tsx"),
    "javascript": ("javascript",),
    "java": ("java",),
}
_IDENT = re.compile(r"[\w$]+")
# Typeshed stubs kept whatever the corpus defines: the type evaluator's own foundations.
CORE_STUBS = frozenset(
    {
        "builtins",
        "typing",
        "typing_extensions",
        "_typeshed",
        "types",
        "abc",
        "collections",
        "enum",
        "dataclasses",
    }
)
MODULES = frozenset({"module", "file", "package", "namespace"})
CONSTRUCTORS = frozenset({"__init__", "__new__", "constructor", "new"})


# -- sampling -------------------------------------------------------------------------------
@dataclass(slots=True)
class Site:
    """One sampled call site (an edge's site), where the reference is asked, what it said."""

    edge: Edge
    uniform: bool = False  # in the uniform sample (recall)
    at: tuple[int, int] | None = None  # (line, UTF-8 byte column of the name); None: line only
    col: int | None = None  # UTF-16 column of the callee's name; None: not located
    before: str = ""  # the text before the callee's name: its line and up to 10 above
    locate: str = ""  # why it was not located
    ref: str = ""  # none | timeout | fallback | outside | variable | stub | workspace
    ref_keys: set[str] = field(default_factory=set)
    ref_where: str = ""  # the reference's first location, for examples

    @property
    def label(self) -> str:
        return str(self.edge.resolution)

    @property
    def line(self) -> int:
        return self.at[0] if self.at is not None else self.edge.line


def sample_sites(edges: Sequence[Edge], n: int, seed: int) -> list[Site]:
    """N uniform over the call *sites* of ``edges`` (an edge with three sites is three call
    sites; a site is found when the edge carrying it has the reference's target) plus enough
    sites of `exact` and `inferred` edges to have N of each."""
    rng = random.Random(seed)
    pop = [(i, at) for i, e in enumerate(edges) for at in e.occurrences()]
    uniform = set(rng.sample(range(len(pop)), min(n, len(pop))))
    chosen = set(uniform)
    for label in ("exact", "inferred"):
        have = sum(1 for j in uniform if edges[pop[j][0]].resolution == label)
        rest = [j for j, (i, _) in enumerate(pop) if edges[i].resolution == label]
        rest = [j for j in rest if j not in uniform]
        chosen |= set(rng.sample(rest, max(0, min(n - have, len(rest)))))
    return [
        Site(edges[pop[j][0]], uniform=j in uniform, at=pop[j][1] if pop[j][1][1] else None)
        for j in sorted(chosen)
    ]


def site_column(line: str, byte_col: int, target_name: str) -> int | None:
    """The UTF-16 column of the name at a site's byte column, if the name there is the
    callee's (the last part of ``target_name``)."""
    raw = line.encode("utf-8")
    before = raw[:byte_col].decode("utf-8", "replace")
    name = _last_part(target_name)
    return utf16_len(before) if name and line[len(before) :].startswith(name) else None


def call_column(line: str, target_name: str) -> tuple[int | None, str]:
    """The UTF-16 column of the callee's name (the last dotted part of ``target_name``) on
    ``line``, or (None, reason). The whole written target (``self.load``, ``os.path.join``)
    is looked for first: the same text twice on one line means the same callee, so its first
    occurrence will do. Otherwise the last part alone, followed by ``(`` or alone on the line,
    must be there exactly once."""
    name = _last_part(target_name)
    if not name:
        return None, "no name"
    parts = [re.escape(p) for p in re.split(r"\s*\.\s*", target_name.strip()) if p]
    if len(parts) > 1:
        whole = r"\s*\.\s*".join(parts)
        found = re.search(rf"(?<![\w$.]){whole}(?![\w$])", line)
        if found:
            return utf16_len(line[: found.end() - len(name)]), ""
    word = rf"(?<![\w$]){re.escape(name)}(?![\w$])"
    called = [m.start() for m in re.finditer(rf"{word}\s*(?:<[^()]*>)?\s*\(", line)]
    anywhere = [m.start() for m in re.finditer(word, line)]
    hits = called or anywhere
    if len(hits) == 1:
        return utf16_len(line[: hits[0]]), ""
    return None, "not on the line" if not hits else "ambiguous on the line"


def _last_part(target_name: str) -> str:
    found = _IDENT.findall(target_name.rsplit(".", 1)[-1])
    return found[-1] if found else ""


# -- the reference ------------------------------------------------------------------------
def trimmed_typeshed(typeshed: Path, corpus: Path, dest: Path) -> tuple[Path, list[str]]:
    """A copy of ``typeshed``'s stdlib without the stubs of modules ``corpus`` defines in
    source, so the server reads them as the workspace's code. Kept: `CORE_STUBS` and every
    stub that a kept stub re-exports from (``from M import x as x``, ``from M import *``),
    transitively — else `posix.pyi`'s ``from os import stat as stat`` would lead back into
    the corpus's ``os.py``, which star-imports ``posix``: a cycle with no definition. Returns
    (the new typeshed root, the modules removed)."""
    src = typeshed / "stdlib"
    tops = {p.name.removesuffix(".pyi") for p in src.iterdir() if p.name != "VERSIONS"}
    defined = {
        m for m in tops if (corpus / f"{m}.py").is_file() or (corpus / m / "__init__.py").is_file()
    }
    keep = (tops - defined) | (CORE_STUBS & tops)
    todo = list(keep)
    while todo:
        mod = todo.pop()
        for dep in _stub_reexports(src, mod) & tops:
            if dep not in keep:
                keep.add(dep)
                todo.append(dep)
    out = dest / "stdlib"
    shutil.copytree(src, out)
    removed = sorted(tops - keep)
    for mod in removed:
        target = out / mod
        if target.is_dir():
            shutil.rmtree(target)
        else:
            (out / f"{mod}.pyi").unlink()
    return dest, removed


_FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import[ \t]+(\*|\([^)]*\)|[^\n]*)", re.M
)


def _stub_reexports(stdlib: Path, mod: str) -> set[str]:
    """Top-level modules that the stub of ``mod`` re-exports names from."""
    files = (
        list((stdlib / mod).rglob("*.pyi")) if (stdlib / mod).is_dir() else [stdlib / f"{mod}.pyi"]
    )
    out: set[str] = set()
    for f in files:
        for m in _FROM_IMPORT.finditer(f.read_text(encoding="utf-8", errors="replace")):
            names = m.group(2)
            if names.strip() == "*" or re.search(r"\b(\w+)\s+as\s+\1\b", names):
                out.add(m.group(1))
    return out


def tool(name: str) -> str | None:
    return shutil.which(name, path=str(BIN)) or shutil.which(name)


def python_reference(
    corpus: Path, tmp: Path, command: list[str] | None
) -> tuple[DownstreamSpec, str]:
    exe = command or [tool("basedpyright-langserver") or "basedpyright-langserver", "--stdio"]
    if not (tool(exe[0]) or Path(exe[0]).is_file()):
        raise SystemExit("basedpyright-langserver not found: pip install -e '.[dev]'")
    import basedpyright  # the package ships its typeshed copy next to the server

    shipped = Path(basedpyright.__file__).parent / "dist" / "typeshed-fallback"
    typeshed, removed = trimmed_typeshed(shipped, corpus, tmp / "typeshed")
    analysis = {
        "typeshedPaths": [str(typeshed)],
        "diagnosticMode": "openFilesOnly",
        "typeCheckingMode": "off",  # definitions only: no diagnostics to compute
        "autoSearchPaths": False,
    }
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    settings = {
        "python": {"pythonVersion": version, "analysis": analysis},
        "basedpyright": {"analysis": analysis},
    }
    spec = DownstreamSpec(
        name="basedpyright", command=tuple(exe), languages=("python",), settings=settings
    )
    note = (
        f"basedpyright, typeshed without the stubs of {len(removed)} modules the corpus "
        f"defines in source (Python {version})"
    )
    return spec, note


def other_reference(
    language: str, command: list[str] | None, java_home: str | None = None
) -> tuple[DownstreamSpec, str]:
    defaults = {
        "go": ["gopls"],
        "typescript": ["typescript-language-server", "--stdio"],
        "javascript": ["typescript-language-server", "--stdio"],
        "java": ["jdtls"],
    }
    exe = command or defaults[language]
    if not (tool(exe[0]) or Path(exe[0]).is_file()):
        hint = {
            "go": "apt-get install gopls golang-go",
            "typescript": "npm install typescript-language-server typescript; --server PATH",
            "javascript": "npm install typescript-language-server typescript; --server PATH",
            "java": "no Java language server is installed; see bench/README.md",
        }[language]
        raise SystemExit(f"{exe[0]} not found ({hint})")
    settings: dict[str, Any] | None = None
    init: Any = None
    note = Path(exe[0]).name
    if language == "java":
        # The JDK the project compiles against (a full one, with its sources: jdtls's own
        # runtime may be a minimal image), and jdt:// answers for library classes, so that a
        # call into the JDK is an answer outside the workspace rather than none.
        settings = {"java": {"configuration": {"runtimes": []}}}
        if java_home:
            runtime = {"name": "JavaSE-17", "path": java_home, "default": True}
            settings["java"]["configuration"]["runtimes"] = [runtime]
            note += f", JDK {java_home}"
        init = {
            "settings": settings,
            "extendedClientCapabilities": {"classFileContentsSupport": True},
        }
    spec = DownstreamSpec(
        name=Path(exe[0]).name,
        command=tuple(exe),
        languages=LANGUAGES[language],
        settings=settings,
        initialization_options=init,
    )
    return spec, note


# -- asking and mapping --------------------------------------------------------------------
class Mapper:
    """Answer locations -> isgraph entities (cached per file)."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root.resolve()
        self._ents: dict[str, list[Entity]] = {}
        self._lines: dict[str, list[str]] = {}

    def entities(self, path: str) -> list[Entity]:
        if path not in self._ents:
            self._ents[path] = self.store.find_entities(path=path)
        return self._ents[path]

    def lines(self, fs_path: str) -> list[str]:
        if fs_path not in self._lines:
            try:
                text = Path(fs_path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines[fs_path] = text.splitlines()
        return self._lines[fs_path]

    def ident(self, loc: types.Location) -> str:
        text = self.lines(to_fs_path(loc.uri) or "")
        line0 = loc.range.start.line
        return _ident_at(text[line0] if 0 <= line0 < len(text) else "", loc.range.start.character)

    def classify(self, site: Site, locations: Sequence[types.Location]) -> None:
        """Set ``site.ref`` / ``ref_keys`` from the server's locations. Workspace answers win
        over stub ones (a server may give both: a stub and the source it maps it to)."""
        work: set[str] = set()
        stub: set[str] = set()
        variable = outside = 0
        for loc in locations:
            fs_path = to_fs_path(loc.uri) if loc.uri.startswith("file:") else None
            line0, char = loc.range.start.line, loc.range.start.character
            if not fs_path:  # jdt://, a virtual document: not a file of the workspace
                outside += 1
                site.ref_where = site.ref_where or loc.uri[:100]
                continue
            text = self.lines(fs_path)
            ident = _declared_ident(text[line0] if 0 <= line0 < len(text) else "", char)
            stubbed = TYPESHED_STDLIB.search(fs_path)
            if stubbed:
                path = STUB_PREFIX + stubbed.group(1).replace("\\", "/")
                found = _stub_entity(self.entities(path), ident, fs_path, line0) if ident else None
                if found is not None:
                    stub.add(found.key)
                else:
                    outside += 1
                site.ref_where = site.ref_where or f"{path}:{line0 + 1} {ident}"
                continue
            try:
                rel = Path(fs_path).resolve().relative_to(self.root).as_posix()
            except ValueError:
                outside += 1
                site.ref_where = site.ref_where or f"{fs_path}:{line0 + 1}"
                continue
            site.ref_where = site.ref_where or f"{rel}:{line0 + 1} {ident}"
            ent = entity_at(self.entities(rel), ident, line0)
            if ent is not None:
                work.add(ent.key)
            else:
                variable += 1
        if work:
            site.ref, site.ref_keys = "workspace", work
        elif variable:
            site.ref = "variable"
        elif stub:
            site.ref, site.ref_keys = "stub", stub
        else:
            site.ref = "outside" if outside else "none"


def _ident_at(line: str, utf16: int) -> str:
    i = char_index(line, utf16)
    for m in _IDENT.finditer(line):
        if m.start() <= i < m.end() or m.start() == i:
            return m.group()
    return ""


# Keywords a server may answer with instead of the name they declare: gopls 0.5 answers a
# predeclared function (`len`, `append`) with the `func` of `func len(v Type) int` in
# builtin.go.
_DECL_KEYWORDS = frozenset({"func", "type"})


def _declared_ident(line: str, utf16: int) -> str:
    """The identifier at the answer, or — where the answer is a declaring keyword — the name
    it declares (the first identifier after it; a Go method's receiver is skipped)."""
    ident = _ident_at(line, utf16)
    if ident not in _DECL_KEYWORDS:
        return ident
    rest = line[char_index(line, utf16) + len(ident) :].lstrip()
    if rest.startswith("("):  # `func (r *T) Name(`
        rest = rest[rest.find(")") + 1 :] if ")" in rest else ""
    m = _IDENT.search(rest)
    return m.group() if m else ident


def entity_at(ents: Sequence[Entity], ident: str, line0: int) -> Entity | None:
    """The innermost entity named ``ident`` whose lines contain ``line0`` (0-based); a module
    entity when the answer is the top of a file (a module's own definition)."""
    if not ident and line0 == 0:
        return next((e for e in ents if e.kind in MODULES), None)
    inside = [
        e
        for e in ents
        if e.start_line - 1 <= line0 <= e.end_line - 1
        and _last_part(e.name) == ident
        and (e.kind not in MODULES or line0 == e.start_line - 1)  # not a variable `ajax` in ajax.ts
    ]
    return min(inside, key=lambda e: (e.end_line - e.start_line, -e.start_line), default=None)


async def ask_all(
    spec: DownstreamSpec,
    root: Path,
    sites: Sequence[Site],
    mapper: Mapper,
    timeout: float,
    progress: bool,
) -> dict[str, float]:
    """Ask the reference about every located site, file by file (each file opened, asked,
    closed); then once more about every site where its answer differs from isgraph's target:
    a server still indexing may answer from half a project (jdtls: a method of the same name
    anywhere), so the later answer counts. Returns timing facts."""
    manager = DownstreamManager([spec], [root])
    server = await manager.first_live(spec.languages[0], timeout=max(timeout, 60.0))
    if server is None:
        await manager.shutdown()
        raise SystemExit(f"{spec.name} did not start: {' | '.join(manager.servers[0].stderr)}")
    by_path: dict[str, list[Site]] = defaultdict(list)
    for s in sites:
        if s.col is not None:
            by_path[s.edge.path].append(s)
    t0 = time.monotonic()
    asked = changed = 0
    try:
        warm = await _warm_up(manager, server, root, by_path, timeout)
        for n, (path, group) in enumerate(sorted(by_path.items()), 1):
            asked += await _ask_file(manager, server, root, path, group, mapper, timeout)
            if progress and n % 50 == 0:
                el = time.monotonic() - t0
                print(f"  … {n}/{len(by_path)} files, {asked} answers, {el:.0f}s", file=sys.stderr)
        again: dict[str, list[Site]] = defaultdict(list)
        for s in sites:
            if s.ref not in ("", "none", "timeout", "fallback") and s.edge.dst not in s.ref_keys:
                again[s.edge.path].append(s)
        first = {id(s): (s.ref, frozenset(s.ref_keys)) for g in again.values() for s in g}
        for path, group in sorted(again.items()):
            for s in group:
                s.ref, s.ref_keys, s.ref_where = "", set(), ""
            await _ask_file(manager, server, root, path, group, mapper, timeout)
        changed = sum(
            1 for g in again.values() for s in g if first[id(s)] != (s.ref, frozenset(s.ref_keys))
        )
    finally:
        await manager.shutdown()
    return {
        "seconds": time.monotonic() - t0,
        "warm_up_seconds": warm,
        "files": len(by_path),
        "answers": asked,
        "asked_again": len(first),
        "changed_when_asked_again": changed,
    }


async def _ask_file(
    manager: DownstreamManager,
    server: Any,
    root: Path,
    path: str,
    group: list[Site],
    mapper: Mapper,
    timeout: float,
) -> int:
    """Ask about the sites of one file (opened for the while); the number answered."""
    uri = (root / path).as_uri()
    language = group[0].edge.src.split(":", 1)[0]
    asked = 0
    async with manager.holding(server, uri, None, language):
        for s in group:
            params = types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=s.line - 1, character=s.col or 0),
            )
            try:
                answer = await server.request(types.TEXT_DOCUMENT_DEFINITION, params, timeout)
            except TimeoutError:
                s.ref = "timeout"
                continue
            except Exception as exc:  # an error answer, or the server died
                s.ref, s.ref_where = "none", f"error: {exc}"[:160]
                if not server.running:
                    await manager.first_live(server.spec.languages[0], timeout=60.0)
                continue
            asked += 1
            locations = _locations(answer)
            if await _fell_back(server, uri, s, locations, mapper, timeout):
                s.ref = "fallback"
                continue
            mapper.classify(s, locations)
    return asked


async def _warm_up(
    manager: DownstreamManager,
    server: Any,
    root: Path,
    by_path: dict[str, list[Site]],
    timeout: float,
    tries: int = 15,
) -> float:
    """Ask about one site until two answers in a row are the same and not empty: a server
    still loading its project answers from what it has so far (typescript-language-server:
    the import line instead of the declaration it imports, or nothing)."""
    t0 = time.monotonic()
    if not by_path:
        return 0.0
    path, group = min(by_path.items())
    uri = (root / path).as_uri()
    params = types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=group[0].line - 1, character=group[0].col or 0),
    )
    last: Any = object()
    async with manager.holding(server, uri, None, group[0].edge.src.split(":", 1)[0]):
        for _ in range(tries):
            try:
                answer = repr(await server.request(types.TEXT_DOCUMENT_DEFINITION, params, timeout))
            except Exception as exc:  # still starting: try again
                answer = repr(exc)
            if answer == last and answer not in ("None", "[]"):
                break
            last = answer
            await asyncio.sleep(2.0)
    return time.monotonic() - t0


async def _fell_back(
    server: Any,
    uri: str,
    site: Site,
    locations: list[types.Location],
    mapper: Mapper,
    timeout: float,
) -> bool:
    """basedpyright answers a member it cannot type inside a call's arguments with a callee
    around it (``eq(x.unknown(), 1)`` → ``assertEqual``): when no answer is named like the
    callee, the hover at the name tells whether its type is known at all."""
    name = _last_part(site.edge.target_name)
    if not locations or any(mapper.ident(loc) == name for loc in locations):
        return False
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=site.line - 1, character=site.col or 0),
    )
    try:
        hover = markdown_of(await server.request(types.TEXT_DOCUMENT_HOVER, params, timeout))
    except Exception:
        return False
    return (
        not hover or re.search(rf"\b{re.escape(name)}\??: (Any|Unknown|any)\b", hover) is not None
    )


def _locations(answer: Any) -> list[types.Location]:
    items = answer if isinstance(answer, list) else [answer] if answer else []
    out: list[types.Location] = []
    for item in items:
        if isinstance(item, types.LocationLink):
            out.append(types.Location(uri=item.target_uri, range=item.target_selection_range))
        elif isinstance(item, types.Location):
            out.append(item)
    return out


# -- comparing ----------------------------------------------------------------------------
def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, mid - half), min(1.0, mid + half)


def agrees(dst: str | None, ref_keys: set[str], ents: dict[str, Entity]) -> bool:
    """isgraph's target is the reference's (or one of its answers: a name defined in several
    branches), another declaration of it (an overload: same file and qualified name), or a
    constructor of the reference's class being the class (servers answer a call of a class
    with the class, or with its constructor)."""
    if dst is None:
        return False
    if dst in ref_keys:
        return True
    mine = ents.get(dst)
    if mine is not None and any(
        (t.path, t.qualname) == (mine.path, mine.qualname)
        for t in (ents.get(k) for k in ref_keys)
        if t is not None
    ):
        return True  # another declaration of the same function: an overload
    if mine is not None and mine.parent in ref_keys and _is_constructor(mine, ents):
        return True
    for key in ref_keys:
        theirs = ents.get(key)
        if theirs is not None and theirs.parent == dst and _is_constructor(theirs, ents):
            return True
    return False


def _is_constructor(e: Entity, ents: dict[str, Entity]) -> bool:
    """``__init__``, ``constructor``…, or a method named like its class (Java, C#, C++)."""
    parent = ents.get(e.parent or "")
    name = _last_part(e.name)
    return name in CONSTRUCTORS or (parent is not None and _last_part(parent.name) == name)


def share(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {"k": k, "n": n, "share": k / n if n else None, "ci95": [lo, hi]}


# What is compared: answers on an entity of the workspace, of an indexed typeshed stub, both.
SCOPES = {
    "workspace": ("workspace",),
    "stub": ("stub",),
    "all": ("workspace", "stub"),
    # Strict: an answer outside the index (a library: the JDK, lib.d.ts) or on a variable
    # contradicts any target isgraph gave; recall is not meaningful there.
    "any": ("workspace", "stub", "outside", "variable"),
}
TITLES = {
    "workspace": "in the workspace",
    "stub": "in typeshed stubs (Python's builtins, C modules)",
    "all": "anywhere in the index (workspace + stubs)",
    "any": "of any kind: outside the index or on a variable counts as a disagreement",
}


def weighted(
    exact: dict[str, Any], inferred: dict[str, Any], population: dict[str, int]
) -> dict[str, Any]:
    """Precision of all resolved edges: the per-label shares weighted by the labels' counts
    in the store (the per-label samples are equal in size, the labels are not); normal
    95 % interval of the stratified estimate."""
    parts = [
        (population.get(label, 0), d) for label, d in (("exact", exact), ("inferred", inferred))
    ]
    total = sum(n for n, _ in parts)
    if not total or any(d["n"] == 0 for n, d in parts if n):
        return {"share": None, "ci95": [0.0, 1.0], "k": 0, "n": 0}
    est = sum(n / total * d["k"] / d["n"] for n, d in parts if n)
    var = sum(
        (n / total) ** 2 * (d["k"] / d["n"]) * (1 - d["k"] / d["n"]) / d["n"] for n, d in parts if n
    )
    half = 1.96 * math.sqrt(var)
    return {
        "share": est,
        "ci95": [max(0.0, est - half), min(1.0, est + half)],
        "k": sum(d["k"] for _, d in parts),
        "n": sum(d["n"] for _, d in parts),
    }


def compare(
    sites: Sequence[Site],
    ents: dict[str, Entity],
    population: dict[str, int],
    examples: int = 10,
) -> dict[str, Any]:
    """The figures: precision per label and recall, over workspace and stub answers, with
    what was not compared counted and the disagreements listed and categorised."""
    out: dict[str, Any] = {"sites": len(sites)}
    out["not_located"] = dict(Counter(s.locate for s in sites if s.col is None))
    for scope, kinds in SCOPES.items():
        prec: dict[str, Any] = {}
        for label in ("exact", "inferred"):
            pool = [s for s in sites if s.label == label]
            asked = [s for s in pool if s.col is not None]
            judged = [s for s in asked if s.ref in kinds]
            ok = [s for s in judged if agrees(s.edge.dst, s.ref_keys, ents)]
            prec[label] = {
                **share(len(ok), len(judged)),
                "sampled": len(pool),
                "reference": dict(Counter(s.ref for s in asked)),
                "disagreements": [
                    _example(s, ents)
                    for s in judged
                    if s not in ok and (scope != "any" or s.ref in ("outside", "variable"))
                ][:examples],
                "categories": dict(Counter(_category(s, ents) for s in judged if s not in ok)),
            }
        prec["resolved"] = weighted(prec["exact"], prec["inferred"], population)
        uni = [s for s in sites if s.uniform and s.col is not None and s.ref in kinds]
        found = [s for s in uni if agrees(s.edge.dst, s.ref_keys, ents)]
        missed = [s for s in uni if s not in found]
        out[scope] = {
            "precision": prec,
            "recall": {
                **share(len(found), len(uni)),
                "found_by_label": dict(Counter(s.label for s in found)),
                "missed_by_label": dict(Counter(s.label for s in missed)),
                "misses": [_example(s, ents) for s in missed][:examples],
                "categories": dict(Counter(_miss_category(s, ents) for s in missed)),
            },
        }
    unanswered = [s for s in sites if s.ref in ("none", "timeout")]
    reasons = Counter(s.ref_where.split(":")[0] if s.ref_where else s.ref for s in unanswered)
    out["unanswered"] = {
        "reasons": dict(reasons),
        "examples": [_example(s, ents) for s in unanswered][:examples],
    }
    uniform = [s for s in sites if s.uniform]
    out["uniform"] = {
        "n": len(uniform),
        "labels": dict(Counter(s.label for s in uniform)),
        "reference": dict(Counter(s.ref or "not located" for s in uniform)),
    }
    resolved_var = [s for s in sites if s.label in ("exact", "inferred") and s.ref == "variable"]
    out["resolved_where_reference_says_variable"] = {
        "n": len(resolved_var),
        "examples": [_example(s, ents) for s in resolved_var][:examples],
    }
    return out


def _describe(key: str | None, ents: dict[str, Entity]) -> str:
    if key is None:
        return "-"
    e = ents.get(key)
    return f"{e.path}:{e.start_line} {e.qualname}" if e else key


def _example(s: Site, ents: dict[str, Entity]) -> dict[str, str]:
    theirs = sorted(_describe(k, ents) for k in s.ref_keys) or [s.ref_where]
    return {
        "kind": s.ref,
        "site": f"{s.edge.path}:{s.line}",
        "target_name": s.edge.target_name,
        "label": s.label,
        "isgraph": _describe(s.edge.dst, ents),
        "reference": " | ".join(theirs),
    }


def _category(s: Site, ents: dict[str, Entity]) -> str:
    """Why a resolved edge disagrees, coarsely, for a developer to pick what to fix."""
    if s.ref == "outside":
        return "reference: outside the index (a library isgraph does not index)"
    if s.ref == "variable":
        return "reference: a variable, parameter or field, not an entity"
    mine = ents.get(s.edge.dst or "")
    theirs = [ents[k] for k in s.ref_keys if k in ents]
    if mine is None or not theirs:
        return "target not in store"
    if mine.path.startswith("@") and not theirs[0].path.startswith("@"):
        return "isgraph: a typeshed stub, reference: the corpus"
    if any(_last_part(t.name) == _last_part(mine.name) for t in theirs):
        if any(t.path == mine.path for t in theirs):
            return "same name, other scope in the same file"
        if any(t.path.rsplit("/", 1)[0] == mine.path.rsplit("/", 1)[0] for t in theirs):
            return "same name, same directory, other file (per-platform variants, build tags)"
        return "same name, other file (wrong module or class)"
    return "other name (alias, assignment, decorator)"


def _miss_category(s: Site, ents: dict[str, Entity]) -> str:
    """A missed call by isgraph's label and the shape of the written callee."""
    name = s.edge.target_name
    if name.startswith(("self.", "cls.", "this.")):
        shape = "self.method"
    elif name.startswith("super"):
        shape = "super().method"
    elif "." in name or "->" in name or "::" in name:
        shape = "x.attr (other receiver)"
    else:
        shape = "bare name"
    theirs = [ents[k] for k in s.ref_keys if k in ents]
    kind = theirs[0].kind if theirs else "?"
    return f"{s.label}: {shape} -> {kind}"


# -- the run ------------------------------------------------------------------------------
def workspace_calls(store: Store, language: str) -> list[Edge]:
    """The workspace's `calls` edges of ``language``. Each edge stands for all its sites:
    ``sample_sites`` samples sites (an edge with three sites is three call sites), so the
    edges are not expanded here too (that sampled an edge with k sites k² times)."""
    langs = LANGUAGES[language]
    return [
        e
        for e in store.edges(kind="calls")
        if not e.path.startswith("@") and e.src.split(":", 1)[0] in langs
    ]


def locate_all(sites: Iterable[Site], root: Path) -> None:
    cache: dict[str, list[str]] = {}
    for s in sites:
        if s.edge.path not in cache:
            try:
                text = (root / s.edge.path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            cache[s.edge.path] = text.splitlines()
        lines = cache[s.edge.path]
        line = lines[s.line - 1] if 0 < s.line <= len(lines) else ""
        col = site_column(line, s.at[1], s.edge.target_name) if s.at is not None else None
        s.col, s.locate = (col, "") if col is not None else call_column(line, s.edge.target_name)
        above = lines[max(0, s.line - 11) : max(0, s.line - 1)]
        s.before = "\n".join([*above, line[: char_index(line, s.col or 0)]])


def referenced_entities(store: Store, sites: Sequence[Site]) -> dict[str, Entity]:
    keys: set[str] = set()
    for s in sites:
        keys |= s.ref_keys
        if s.edge.dst:
            keys.add(s.edge.dst)
    ents = store.get_entities(keys)
    parents = {e.parent for e in ents.values() if e.parent and e.parent not in ents}
    return {**ents, **store.get_entities(parents)}


@dataclass(slots=True)
class Run:
    """What one check gathered: the sites asked about and what comparing them needs."""

    sites: list[Site]
    entities: dict[str, Entity]  # every target of either side, and their parents
    population: dict[str, int]  # the store's calls edges by label
    facts: dict[str, Any]


def collect(args: argparse.Namespace, tmp: Path) -> Run:
    """Index (unless ``args.db``), sample, locate, ask the reference, map its answers."""
    from isgraph.store.connect import open_store

    corpus: Path = args.corpus.resolve()
    if args.db:
        root, db = corpus, args.db
    else:
        python = args.language == "python"
        root = prepare_corpus(corpus, tmp / "corpus") / "copy_1" if python else corpus
        db = f"sqlite:{tmp / 'store' / 'index.db'}"
        t0 = time.monotonic()
        cmd = isgraph_cmd("index", str(root), "--db", db, "--jobs", str(args.jobs), "--quiet")
        for pattern in args.exclude or ():
            cmd += ["--exclude", pattern]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        print(f"indexed {root} in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    store = open_store(db)
    try:
        command = args.server.split() if args.server else None
        if args.language == "python":
            spec, ref_note = python_reference(root, tmp, command)
        else:
            spec, ref_note = other_reference(args.language, command, args.java_home)
        spec = DownstreamSpec(**{**_fields(spec), "timeout_ms": int(args.timeout * 1000)})
        calls = workspace_calls(store, args.language)
        if not calls:
            raise SystemExit(f"no {args.language} calls edges in the store")
        sites = sample_sites(calls, args.sample, args.seed)
        locate_all(sites, root)
        timing = asyncio.run(
            ask_all(spec, root, sites, Mapper(store, root), args.timeout, not args.json)
        )
        entities = referenced_entities(store, sites)
    finally:
        store.close()
    facts = {
        "language": args.language,
        "corpus": str(corpus),
        "reference": ref_note,
        "calls": len(calls),
        "call_sites": sum(len(e.occurrences()) for e in calls),
        "sample": args.sample,
        "seed": args.seed,
        "timing": timing,
    }
    by_label = Counter({str(e.resolution): 0 for e in calls})
    for e in calls:  # sites, not edges: the samples are of sites
        by_label[str(e.resolution)] += len(e.occurrences())
    return Run(sites, entities, dict(by_label), facts)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    got = collect(args, tmp)
    result = compare(got.sites, got.entities, got.population, args.examples)
    result.update(got.facts, calls_by_label=got.population)
    return result


def _fields(spec: DownstreamSpec) -> dict[str, Any]:
    return {f: getattr(spec, f) for f in spec.__dataclass_fields__}


def pct(d: dict[str, Any]) -> str:
    if not d["n"]:
        return "     n/a (0 compared)"
    lo, hi = d["ci95"]
    return f"{100 * d['share']:6.1f} %  ({d['k']}/{d['n']}, 95% CI {100 * lo:.1f}-{100 * hi:.1f})"


def render(r: dict[str, Any]) -> str:
    out = [
        f"{r['language']}: {r['corpus']}; reference: {r['reference']}",
        f"call sites {r['calls']} ({', '.join(f'{k} {v}' for k, v in sorted(r['calls_by_label'].items()))}); "  # noqa: E501
        f"sampled {r['sites']} sites (seed {r['seed']}, N={r['sample']}: uniform + per label)",
        f"not located on their line: {sum(r['not_located'].values())} {r['not_located']}",
        f"reference asked at {r['timing']['answers']} sites in {r['timing']['files']} files, "
        f"{r['timing']['seconds']:.0f}s (warm-up {r['timing']['warm_up_seconds']:.0f}s); "
        f"asked again where it disagreed: {r['timing'].get('asked_again', 0)}, "
        f"answer changed: {r['timing'].get('changed_when_asked_again', 0)}",
    ]
    has_stubs = any(r["stub"]["precision"][k]["n"] for k in ("exact", "inferred"))
    for scope, title in TITLES.items():
        p, rc = r[scope]["precision"], r[scope]["recall"]
        if scope in ("stub", "all") and not (has_stubs or r["stub"]["recall"]["n"]):
            continue  # no stubs in this language: the same figures as the workspace's
        out.append(f"\n== reference answers {title}")
        for label in ("exact", "inferred"):
            out.append(f"  precision {label:<9}{pct(p[label])}")
        out.append(f"  precision resolved {pct(p['resolved'])}  (weighted by label counts)")
        if scope != "any":
            out.append(f"  recall             {pct(rc)}   (uniform sample)")
        if scope == "workspace":
            for label in ("exact", "inferred"):
                out.append(f"  reference's answers at {label} sites: {p[label]['reference']}")
            out.append(f"  recall: found {rc['found_by_label']}, missed {rc['missed_by_label']}")
        for label in ("exact", "inferred"):
            if p[label]["categories"]:
                out.append(f"  {label} disagreements by category: {p[label]['categories']}")
            if scope in ("workspace", "stub", "any"):
                shown = p[label]["disagreements"]  # "any": only those the others don't show
                out.extend(_fmt_example(ex) for ex in shown[: 5 if scope == "any" else None])
        if scope != "any" and rc["categories"]:
            cats = sorted(rc["categories"].items(), key=lambda kv: -kv[1])
            out.append("  misses by category: " + ", ".join(f"{k} {v}" for k, v in cats))
        if scope in ("workspace", "stub"):
            out.extend(_fmt_example(ex, "missed") for ex in rc["misses"])
    u = r["uniform"]
    out.append(f"\nuniform sample {u['n']}: isgraph {u['labels']}; reference {u['reference']}")
    un = r["unanswered"]
    out.append(f"no answer from the reference: {un['reasons']}")
    for ex in un["examples"][:3]:
        out.append(_fmt_example(ex, "no answer"))
    rv = r["resolved_where_reference_says_variable"]
    out.append(f"resolved edges where the reference answers a variable/parameter: {rv['n']}")
    for ex in rv["examples"]:
        out.append(_fmt_example(ex, "variable"))
    return "\n".join(out)


def _fmt_example(ex: dict[str, str], what: str = "") -> str:
    return (
        f"    {what or ex['label']:<8} {ex['site']}  {ex['target_name']}\n"
        f"             isgraph:   {ex['isgraph']}\n"
        f"             reference: {ex['reference']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    ap.add_argument("--language", default="python", choices=sorted(LANGUAGES))
    ap.add_argument("--db", help="an existing store of CORPUS (indexed in place)")
    ap.add_argument("--sample", type=int, default=300, help="N: uniform, and per label")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--server", help="the reference server's command line (default per language)")
    ap.add_argument("--examples", type=int, default=10)
    ap.add_argument("--java-home", help="Java: the JDK jdtls compiles the project against")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--exclude", action="append", help="passed to isgraph index (repeatable)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isgraph-rescheck-") as tmp:
        result = run(args, Path(tmp))
    print(json.dumps(result, indent=1) if args.json else render(result))


if __name__ == "__main__":
    main()
