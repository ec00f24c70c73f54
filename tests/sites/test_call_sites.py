"""Every call site is kept: three calls of one function from one caller are three sites in
`callers --json`, in `textDocument/references` and in the call hierarchy's `fromRanges`, for
each of the twelve languages with edges (the real CLI and the real `isgraph serve` through a
real LSP client). The expected sites are found in the source text by a regular expression,
independently of tree-sitter. Also: two cold indexes of one real tree are the same graph."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from dataclasses import astuple
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from isgraph.store.connect import open_store
from tests.lsp.test_server import fresh
from tests.pipeline.conftest import cli_items, copy_stdlib, run_cli, write_tree

# language -> (file, source); the callee is `help_<lang>`, the caller `run_<lang>`, and every
# call of the callee sits inside the caller. Names differ per language because C/C++ and
# JS/TS share a resolution family.
SOURCES: dict[str, tuple[str, str]] = {
    "python": (
        "py/m.py",
        "def help_python(x):\n    return x\n\n\ndef run_python():\n"
        "    help_python(1)\n    help_python(2); help_python(3)\n",
    ),
    "javascript": (
        "js/m.js",
        "function help_javascript(x) { return x; }\nfunction run_javascript() {\n"
        "  help_javascript(1);\n  help_javascript(2); help_javascript(3);\n}\n",
    ),
    "typescript": (
        "ts/m.ts",
        "function help_typescript(x: number): number { return x; }\n"
        "function run_typescript(): void {\n"
        "  help_typescript(1);\n  help_typescript(2); help_typescript(3);\n}\n",
    ),
    "go": (
        "go/m.go",
        "package main\n\nfunc help_go(x int) int { return x }\n\nfunc run_go() {\n"
        "\thelp_go(1)\n\thelp_go(2); help_go(3)\n}\n",
    ),
    "rust": (
        "rs/m.rs",
        "fn help_rust(x: i32) -> i32 { x }\n\nfn run_rust() {\n"
        "    help_rust(1);\n    help_rust(2); help_rust(3);\n}\n",
    ),
    "java": (
        "java/Main.java",
        "class Main {\n    static int help_java(int x) { return x; }\n"
        "    static void run_java() {\n        help_java(1);\n"
        "        help_java(2); help_java(3);\n    }\n}\n",
    ),
    "c": (
        "c/m.c",
        "int help_c(int x) { return x; }\n\nvoid run_c(void) {\n"
        "    help_c(1);\n    help_c(2); help_c(3);\n}\n",
    ),
    "cpp": (
        "cpp/m.cpp",
        "int help_cpp(int x) { return x; }\n\nvoid run_cpp() {\n"
        "    help_cpp(1);\n    help_cpp(2); help_cpp(3);\n}\n",
    ),
    "ruby": (
        "rb/m.rb",
        "def help_ruby(x)\n  x\nend\n\ndef run_ruby\n  help_ruby(1)\n"
        "  help_ruby(2); help_ruby(3)\nend\n",
    ),
    "php": (
        "php/m.php",
        "<?php\nfunction help_php($x) { return $x; }\nfunction run_php() {\n"
        "    help_php(1);\n    help_php(2); help_php(3);\n}\n",
    ),
    "csharp": (
        "cs/Main.cs",
        "class Main {\n    static int help_csharp(int x) { return x; }\n"
        "    static void run_csharp() {\n        help_csharp(1);\n"
        "        help_csharp(2); help_csharp(3);\n    }\n}\n",
    ),
    "swift": (
        "swift/m.swift",
        "func help_swift(_ x: Int) -> Int { return x }\n\nfunc run_swift() {\n"
        "    help_swift(1)\n    help_swift(2); help_swift(3)\n}\n",
    ),
}
LANGS = sorted(SOURCES)


def expected_sites(lang: str) -> list[tuple[int, int]]:
    """(1-based line, 0-based column) of each `help_<lang>(` call: every occurrence but the
    definition's."""
    _, text = SOURCES[lang]
    name = f"help_{lang}"
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(rf"\b{name}\(", line):
            before = line[: m.start()]
            if not re.search(r"(def|fn|func|function|int|static int)\s+$", before):
                out.append((i, m.start()))
    assert len(out) == 3, out
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tree(tmp_path_factory.mktemp("sites") / "ws", dict(SOURCES.values()))
    run_cli("index", str(root), "--quiet")
    return root


@pytest.mark.parametrize("lang", LANGS)
def test_callers_json_lists_every_site(workspace: Path, lang: str) -> None:
    path, _ = SOURCES[lang]
    rows = cli_items("callers", f"help_{lang}", cwd=workspace)
    assert [r["name"] for r in rows] == [f"run_{lang}"], rows
    got = [(s["line"], s["col"]) for s in rows[0]["sites"]]
    assert got == expected_sites(lang)
    assert {s["path"] for s in rows[0]["sites"]} == {path}
    # and the other way round: the callee, reached through the same three sites
    down = cli_items("callees", f"run_{lang}", cwd=workspace)
    assert [(s["line"], s["col"]) for s in down[0]["sites"]] == expected_sites(lang)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "isgraph", "serve"])
)
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        )
    )
    assert await fresh(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


def _ranges(ranges: list[types.Range]) -> list[tuple[int, int, int]]:
    return sorted((r.start.line + 1, r.start.character, r.end.character) for r in ranges)


async def test_references_and_call_hierarchy_list_every_site(
    client: LanguageClient, workspace: Path
) -> None:
    for lang in LANGS:
        path, text = SOURCES[lang]
        uri = (workspace / path).as_uri()
        name = f"help_{lang}"
        want = sorted((ln, col, col + len(name)) for ln, col in expected_sites(lang))
        # the cursor on the definition's name
        def_line = next(i for i, t in enumerate(text.splitlines()) if name in t)
        pos = types.Position(def_line, text.splitlines()[def_line].index(name))
        refs = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri),
                position=pos,
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        assert refs is not None
        assert _ranges([r.range for r in refs if r.uri == uri]) == want, lang
        items = await client.text_document_prepare_call_hierarchy_async(
            types.CallHierarchyPrepareParams(types.TextDocumentIdentifier(uri), pos)
        )
        assert items and items[0].name == name, (lang, items)
        incoming = await client.call_hierarchy_incoming_calls_async(
            types.CallHierarchyIncomingCallsParams(item=items[0])
        )
        assert incoming is not None
        assert [c.from_.name for c in incoming] == [f"run_{lang}"], lang
        assert _ranges(incoming[0].from_ranges) == want, lang


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row a store holds that an index decides: entities, edges (with sites), aliases."""
    store = open_store(f"sqlite:{db}")
    try:
        ents = sorted(astuple(e) for e in store.find_entities())
        edges = sorted(
            (e.src, e.kind, e.target_name, e.dst or "", e.resolution, e.candidates, e.sites)
            for e in store.edges()
        )
        aliases = sorted(
            (a.path, a.fqn, a.target)
            for path in store.file_states()
            for a in store.aliases_of(path)
        )
    finally:
        store.close()
    return {"entities": ents, "edges": edges, "aliases": aliases}


def test_two_cold_indexes_are_the_same_graph(tmp_path: Path) -> None:
    """Real code, indexed twice from scratch under different hash seeds (set iteration
    order differs between the runs): every row is the same."""
    corpus = copy_stdlib(tmp_path / "corpus", ["json", "email", "asyncio", "unittest"])
    got = []
    for seed in ("1", "2"):
        db = tmp_path / f"run{seed}.db"
        run_cli(
            "index", str(corpus), "--db", f"sqlite:{db}", "--quiet", env={"PYTHONHASHSEED": seed}
        )
        got.append(_rows(db))
    for part in ("entities", "edges", "aliases"):
        assert got[0][part], part
        assert got[0][part] == got[1][part], part
