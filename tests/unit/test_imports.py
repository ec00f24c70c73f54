"""Import boundaries: each outside library stays in the modules that own it, and the query
layer depends on no front. Read from the source (ast), so a lazy import inside a function
counts too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "isgraph"

# library -> the package-relative paths (files, or directories ending in /) allowed to import it
OWNERS: dict[str, tuple[str, ...]] = {
    "pycozo": ("store/cozo.py",),
    "psycopg": ("store/postgres.py",),
    "pygls": ("lsp/", "proxy/"),
    "lsprotocol": ("lsp/", "proxy/"),
    "mcp": ("agents/server.py",),
}
# the query layer answers every front: it imports none of them
FRONTS = ("isgraph.cli", "isgraph.lsp", "isgraph.agents", "isgraph.proxy", "typer", "rich")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _allowed(rel: str, owners: tuple[str, ...]) -> bool:
    return any(rel == o or (o.endswith("/") and rel.startswith(o)) for o in owners)


def test_libraries_stay_in_their_modules() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for name in imports(path):
            top = name.split(".")[0]
            if top in OWNERS and not _allowed(rel, OWNERS[top]):
                wrong.append(f"{rel} imports {name}")
    assert wrong == []


def test_every_owner_really_imports_its_library() -> None:
    """The table is not stale: each owning file exists and imports the library."""
    for lib, owners in OWNERS.items():
        files = [
            p
            for o in owners
            for p in ([PACKAGE / o] if not o.endswith("/") else sorted((PACKAGE / o).rglob("*.py")))
        ]
        assert files and all(p.exists() for p in files), lib
        assert any(any(n.split(".")[0] == lib for n in imports(p)) for p in files), lib


def test_the_query_layer_imports_no_front() -> None:
    wrong = [
        f"{p.name} imports {n}"
        for p in sorted((PACKAGE / "queries").rglob("*.py"))
        for n in imports(p)
        if any(n == f or n.startswith(f + ".") for f in FRONTS)
    ]
    assert wrong == []


def test_stages_depend_one_way() -> None:
    """index/ and store/ (and the watched workspace) import no front and no downstream
    stage: proxy/ writes through index/'s writer, index/ sees it as a protocol."""
    above = ("isgraph.proxy", "isgraph.lsp", "isgraph.agents", "isgraph.cli", "isgraph.queries")
    paths = [
        *sorted((PACKAGE / "index").rglob("*.py")),
        *sorted((PACKAGE / "store").rglob("*.py")),
        PACKAGE / "workspace.py",
    ]
    wrong = [
        f"{p.relative_to(PACKAGE)} imports {n}"
        for p in paths
        for n in imports(p)
        if any(n == a or n.startswith(a + ".") for a in above)
    ]
    assert wrong == []
