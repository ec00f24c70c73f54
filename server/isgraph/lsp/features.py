"""Graph-backed LSP features: workspace and document symbols, hover, definition, references,
call and type hierarchies, code lens, code actions."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from isgraph.lsp.server import IsgraphServer, as_dict, server
from isgraph.model import Edge, Entity, Site, referenced_word
from isgraph.proxy import lsp as proxy
from isgraph.queries import at, graph, lookup, source
from isgraph.workspace import Folder

log = logging.getLogger(__name__)

SYMBOL_LIMIT = 100
LENS_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "function", "method"})

_KINDS = {
    "module": types.SymbolKind.Module,
    "class": types.SymbolKind.Class,
    "struct": types.SymbolKind.Struct,
    "interface": types.SymbolKind.Interface,
    "trait": types.SymbolKind.Interface,
    "enum": types.SymbolKind.Enum,
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "property": types.SymbolKind.Property,
    "constant": types.SymbolKind.Constant,
    "namespace": types.SymbolKind.Namespace,
}


def location(folder: Folder, e: Entity) -> types.Location:
    uri = from_fs_path(str(folder.root / e.path)) or ""
    return types.Location(uri=uri, range=_range(e))


def _range(e: Entity) -> types.Range:
    return types.Range(
        start=types.Position(line=max(0, e.start_line - 1), character=e.start_col),
        end=types.Position(line=max(0, e.end_line - 1), character=e.end_col),
    )


def _lines(ls: IsgraphServer, folder: Folder, rel: str) -> list[str] | None:
    """A file's text as the editor holds it (an open document), else as on disk in the
    folder (`source.file_lines`: never outside it)."""
    uri = from_fs_path(str(folder.root / rel)) or ""
    doc = ls.workspace.text_documents.get(uri)
    return list(doc.lines) if doc is not None else source.file_lines(folder.root, rel)


def _symbol(ls: IsgraphServer, folder: Folder, rel: str, pos: types.Position) -> at.Symbol | None:
    """What the word under the cursor means (`queries.at`); blocking, run in a thread."""
    lines = _lines(ls, folder, rel)
    text = lines[pos.line] if lines is not None and pos.line < len(lines) else None
    index = source.char_index(text, pos.character) if text is not None else pos.character
    return at.symbol_at(folder.store, rel, pos.line + 1, index, lines)


def _span_range(span: at.Span, text: str | None) -> types.Range:
    """An LSP range (UTF-16 units) of a word's span."""

    def units(index: int) -> int:
        return source.utf16_len(text[:index]) if text is not None else index

    return types.Range(
        start=types.Position(line=span.line - 1, character=units(span.start)),
        end=types.Position(line=span.line - 1, character=units(span.end)),
    )


def _selection(
    ls: IsgraphServer,
    folder: Folder,
    e: Entity,
    texts: dict[str, list[str] | None] | None = None,
) -> types.Range:
    """The range of an entity's name at its definition (LSP's selection range), or the
    start of its whole range when the name is not found in the file's text. ``texts``:
    files already read for this answer (a list of items often shares a few files)."""
    if texts is None:
        lines = _lines(ls, folder, e.path)
    else:
        if e.path not in texts:
            texts[e.path] = _lines(ls, folder, e.path)
        lines = texts[e.path]
    span = at.name_span(lines, e)
    if span is None or lines is None:
        start = _range(e).start
        return types.Range(start=start, end=start)
    return _span_range(span, lines[span.line - 1])


def _name_location(ls: IsgraphServer, folder: Folder, e: Entity) -> types.Location:
    uri = from_fs_path(str(folder.root / e.path)) or ""
    return types.Location(uri=uri, range=_selection(ls, folder, e))


_WHAT = {"calls": "call", "imports": "import", "inherits": "base class"}


@server.feature(types.WORKSPACE_SYMBOL)
async def workspace_symbol(
    ls: IsgraphServer, params: types.WorkspaceSymbolParams
) -> list[types.SymbolInformation]:
    out: list[types.SymbolInformation] = []
    for folder in ls.folders:
        page = await asyncio.to_thread(
            lookup.search, folder.store, params.query, SYMBOL_LIMIT, stubs=False
        )
        out += [
            types.SymbolInformation(
                name=e.name,
                kind=_KINDS.get(e.kind, types.SymbolKind.Variable),
                location=location(folder, e),
                container_name=e.qualname.rpartition(".")[0] or None,
            )
            for e in page.items
        ]
    return out[:SYMBOL_LIMIT]


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def document_symbol(
    ls: IsgraphServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found

    def tree() -> list[types.DocumentSymbol]:
        """Blocking (the store, and the file for the names' ranges): run in a thread."""
        ents = lookup.symbols(folder.store, path=rel).items
        kids: dict[str, list[types.DocumentSymbol]] = {e.key: [] for e in ents}
        texts: dict[str, list[str] | None] = {}
        modules = {e.key for e in ents if e.kind == "module"}
        roots: list[types.DocumentSymbol] = []
        # Parents come before their children (sorted by line), so children lists fill first.
        for e in sorted(ents, key=lambda e: (e.start_line, -e.end_line)):
            if e.kind == "module":
                continue
            node = types.DocumentSymbol(
                name=e.name,
                detail=e.signature or None,
                kind=_KINDS.get(e.kind, types.SymbolKind.Variable),
                range=_range(e),
                selection_range=_selection(ls, folder, e, texts),
                children=kids[e.key],
            )
            siblings = kids.get(e.parent or "")
            (roots if siblings is None or e.parent in modules else siblings).append(node)
        return roots

    return await asyncio.to_thread(tree)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: IsgraphServer, params: types.HoverParams) -> types.Hover | None:
    """Graph facts for the word under the cursor (`queries.at`: a call's callee, an imported
    name, a base class, a definition's name), after what the downstream servers say."""
    uri, pos = params.text_document.uri, params.position
    found = ls.folder_of(uri)
    if found is None and ls.proxy is None:
        return None

    def facts() -> tuple[str | None, Entity | None]:
        if found is None:
            return None, None
        folder, rel = found
        store = folder.store
        sym = _symbol(ls, folder, rel, pos)
        if sym is None:
            return None, None
        e = sym.entity
        if e is None:  # say so, rather than answer for something else
            what = _WHAT.get(str(sym.edge.kind), "reference") if sym.edge else "reference"
            k = sym.candidates
            return (
                f"unresolved {what} to `{sym.word}`, {k} candidate{'' if k == 1 else 's'} "
                f"by that name",
                None,
            )
        n = graph.facts(store, e.key)
        lines = [
            f"**{e.kind}** `{e.qualname}{e.signature}`",
            f"{e.path}:{e.start_line}",
            f"callers {n.callers} ({n.calls} call{'' if n.calls == 1 else 's'}) · "
            f"callees {n.callees} · impact {n.impact} "
            f"(depth {n.impact_depth})",
        ]
        if e.doc:
            lines.insert(1, e.doc)
        if sym.provisional:
            lines.append(
                "*inferred*: calls are still being resolved; this is the only definition "
                f"of `{sym.word}` found so far"
            )
        return "\n\n".join(lines), e

    text = await proxy.hover_text(
        ls.proxy,
        uri,
        pos.line,
        pos.character,
        asyncio.to_thread(facts),
        lambda: ls.workspace.get_text_document(uri).lines,
    )
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: IsgraphServer, params: types.DefinitionParams) -> list[types.Location]:
    """Where the word under the cursor is defined, ranged on the definition's name."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found

    def targets() -> list[types.Location]:
        sym = _symbol(ls, folder, rel, params.position)
        if sym is None or sym.entity is None:
            return []
        return [_name_location(ls, folder, sym.entity)]

    return await asyncio.to_thread(targets)


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def references(ls: IsgraphServer, params: types.ReferenceParams) -> list[types.Location]:
    """Where what the word under the cursor names is used: every site of the resolved edges
    to it, ranged on the name."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found

    def uses() -> list[types.Location]:
        sym = _symbol(ls, folder, rel, params.position)
        target = sym.entity if sym is not None else None
        if target is None:
            return []
        out = [
            types.Location(uri=from_fs_path(str(folder.root / r.edge.path)) or "", range=rng)
            for r in graph.references(folder.store, target.key).items
            for rng in _site_ranges(r.edge)
        ]
        if params.context.include_declaration:
            out.insert(0, _name_location(ls, folder, target))
        return out

    return await asyncio.to_thread(uses)


def _item_fields(
    ls: IsgraphServer,
    folder: Folder,
    e: Entity,
    default: types.SymbolKind,
    texts: dict[str, list[str] | None],
) -> dict[str, Any]:
    """What call- and type-hierarchy items of an entity share; the selection range is the
    name at the definition, as the editor highlights it when it reveals the item."""
    return {
        "name": e.name,
        "kind": _KINDS.get(e.kind, default),
        "uri": from_fs_path(str(folder.root / e.path)) or "",
        "range": _range(e),
        "selection_range": _selection(ls, folder, e, texts),
        "detail": e.qualname,
        "data": e.key,
    }


def _call_item(
    ls: IsgraphServer, folder: Folder, e: Entity, texts: dict[str, list[str] | None]
) -> types.CallHierarchyItem:
    """Blocking (reads the file for the name's range): run in a thread."""
    return types.CallHierarchyItem(**_item_fields(ls, folder, e, types.SymbolKind.Function, texts))


@server.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
async def prepare_call_hierarchy(
    ls: IsgraphServer, params: types.CallHierarchyPrepareParams
) -> list[types.CallHierarchyItem]:
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found

    def items() -> list[types.CallHierarchyItem]:
        """The word under the cursor if it names a function (a call, a definition's name),
        else the function the cursor is in."""
        sym = _symbol(ls, folder, rel, params.position)
        e: Entity | None
        if sym is not None and sym.entity is not None and sym.entity.kind != "module":
            e = sym.entity
        else:
            e = lookup.entity_at(folder.store, rel, params.position.line + 1)
        return [] if e is None or e.kind == "module" else [_call_item(ls, folder, e, {})]

    return await asyncio.to_thread(items)


async def _calls(
    ls: IsgraphServer, item: types.CallHierarchyItem, incoming: bool
) -> list[tuple[types.CallHierarchyItem, list[types.Range]]]:
    found = ls.folder_of(item.uri)
    if found is None or not isinstance(item.data, str):
        return []
    folder, key = found[0], item.data

    def calls() -> list[tuple[types.CallHierarchyItem, list[types.Range]]]:
        texts: dict[str, list[str] | None] = {}
        return [
            (_call_item(ls, folder, r.other, texts), _site_ranges(r.edge))
            for r in graph.calls(folder.store, key, incoming)
            if r.other is not None
        ]

    return await asyncio.to_thread(calls)


def _site_range(site: Site, word: str) -> types.Range:
    """The range of a reference's name at one of its sites (columns as tree-sitter reports
    them: UTF-8 bytes, equal to UTF-16 units on ASCII lines)."""
    line, col = site
    return types.Range(
        start=types.Position(line=line - 1, character=col),
        end=types.Position(line=line - 1, character=col + len(word)),
    )


def _site_ranges(edge: Edge) -> list[types.Range]:
    """Every site of an edge (a function calling ``f`` three times: three ranges)."""
    word = referenced_word(edge.target_name)
    return [_site_range(site, word) for site in edge.occurrences()]


@server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
async def incoming_calls(
    ls: IsgraphServer, params: types.CallHierarchyIncomingCallsParams
) -> list[types.CallHierarchyIncomingCall]:
    return [
        types.CallHierarchyIncomingCall(from_=item, from_ranges=ranges)
        for item, ranges in await _calls(ls, params.item, incoming=True)
    ]


@server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
async def outgoing_calls(
    ls: IsgraphServer, params: types.CallHierarchyOutgoingCallsParams
) -> list[types.CallHierarchyOutgoingCall]:
    return [
        types.CallHierarchyOutgoingCall(to=item, from_ranges=ranges)
        for item, ranges in await _calls(ls, params.item, incoming=False)
    ]


def _type_item(
    ls: IsgraphServer, folder: Folder, e: Entity, texts: dict[str, list[str] | None]
) -> types.TypeHierarchyItem:
    """Blocking (reads the file for the name's range): run in a thread."""
    return types.TypeHierarchyItem(**_item_fields(ls, folder, e, types.SymbolKind.Class, texts))


@server.feature(types.TEXT_DOCUMENT_PREPARE_TYPE_HIERARCHY)
async def prepare_type_hierarchy(
    ls: IsgraphServer, params: types.TypeHierarchyPrepareParams
) -> list[types.TypeHierarchyItem]:
    """The type the word under the cursor names, else the innermost class (struct,
    interface, …) whose lines hold the cursor."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    line = params.position.line + 1

    def items() -> list[types.TypeHierarchyItem]:
        """The word under the cursor if it names a type (a base class, a class's name), else
        the class the cursor is in."""
        sym = _symbol(ls, folder, rel, params.position)
        e: Entity | None
        if sym is not None and sym.entity is not None and sym.entity.kind in lookup.TYPE_KINDS:
            e = sym.entity
        else:
            e = lookup.entity_at(folder.store, rel, line, lookup.TYPE_KINDS)
        return [] if e is None else [_type_item(ls, folder, e, {})]

    return await asyncio.to_thread(items)


async def _types(
    ls: IsgraphServer, item: types.TypeHierarchyItem, supertypes: bool
) -> list[types.TypeHierarchyItem]:
    """Classes one resolved ``inherits`` edge away: bases (supertypes) or subclasses."""
    found = ls.folder_of(item.uri)
    if found is None or not isinstance(item.data, str):
        return []
    folder, key = found[0], item.data

    def items() -> list[types.TypeHierarchyItem]:
        texts: dict[str, list[str] | None] = {}
        return [
            _type_item(ls, folder, e, texts) for e in graph.hierarchy(folder.store, key, supertypes)
        ]

    return await asyncio.to_thread(items)


@server.feature(types.TYPE_HIERARCHY_SUPERTYPES)
async def supertypes(
    ls: IsgraphServer, params: types.TypeHierarchySupertypesParams
) -> list[types.TypeHierarchyItem]:
    return await _types(ls, params.item, supertypes=True)


@server.feature(types.TYPE_HIERARCHY_SUBTYPES)
async def subtypes(
    ls: IsgraphServer, params: types.TypeHierarchySubtypesParams
) -> list[types.TypeHierarchyItem]:
    return await _types(ls, params.item, supertypes=False)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=True))
async def code_lens(ls: IsgraphServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """A lens on every function, method and class; its counts come with `codeLens/resolve`
    (an editor resolves only the lenses it shows)."""
    found = ls.folder_of(params.text_document.uri)
    if found is None:
        return []
    folder, rel = found
    ents = (await asyncio.to_thread(lookup.symbols, folder.store, path=rel)).items
    return [
        types.CodeLens(
            range=types.Range(start=_range(e).start, end=_range(e).start),
            data={"uri": params.text_document.uri, "key": e.key},
        )
        for e in ents
        if e.kind in LENS_KINDS
    ]


@server.feature(types.CODE_LENS_RESOLVE)
async def code_lens_resolve(ls: IsgraphServer, lens: types.CodeLens) -> types.CodeLens:
    data = as_dict(lens.data) if lens.data is not None else {}
    uri, key = data.get("uri"), data.get("key")
    found = ls.folder_of(uri) if isinstance(uri, str) else None
    if found is None or not isinstance(key, str):
        raise ValueError("codeLens/resolve: the lens carries no isgraph data")
    store = found[0].store

    n = await asyncio.to_thread(graph.facts, store, key, callees=False)
    noun = "caller" if n.callers == 1 else "callers"
    sites = "call" if n.calls == 1 else "calls"
    lens.command = types.Command(
        title=f"{n.callers} {noun} ({n.calls} {sites}) · impact {n.impact}",
        command="isgraph.impact",
        arguments=[key],
    )
    return lens


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
async def code_action(
    ls: IsgraphServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    """Actions on the word at the range's start (`queries.at`, as hover and definition):
    on a definition or a resolved reference, "Show callers" and "Show impact" of what it
    names (the commands `isgraph.callers` / `isgraph.impact` with its key); on an unresolved
    reference, its candidates (`isgraph.candidates` with the name); nothing elsewhere. Never
    for the function the cursor is merely inside. The actions have no kind (they are neither
    fixes nor refactorings): a request asking ``only`` for some kinds gets none. A client
    without code action literal support gets the bare commands, as the protocol says."""
    found = ls.folder_of(params.text_document.uri)
    if found is None or params.context.only:
        return None
    folder, rel = found
    sym = await asyncio.to_thread(_symbol, ls, folder, rel, params.range.start)
    if sym is None:
        return None
    e = sym.entity
    if e is None:
        k = sym.candidates
        if k == 0:
            return None  # nothing in the workspace is so named: no list to show
        title = f"isgraph: show the {k} definition{'' if k == 1 else 's'} named `{sym.word}`"
        commands = [_command(title, "isgraph.candidates", sym.word)]
    else:
        name = e.qualname or e.name
        commands = [
            _command(f"isgraph: show callers of `{name}`", "isgraph.callers", e.key),
            _command(f"isgraph: show impact of `{name}`", "isgraph.impact", e.key),
        ]
    caps = ls.client_capabilities.text_document
    supports = caps.code_action if caps is not None else None
    if supports is None or supports.code_action_literal_support is None:
        return list(commands)
    return [types.CodeAction(title=c.title, command=c) for c in commands]


def _command(title: str, command: str, argument: str) -> types.Command:
    return types.Command(title=title, command=command, arguments=[argument])
