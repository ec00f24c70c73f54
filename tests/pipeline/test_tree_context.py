"""A file is extracted again when what its extraction reads of the tree changes, though its
own content did not (`index/context.py`): an `__init__.py` created or deleted (Python module
names), a `go.mod` edited (Go import paths), a `Cargo.toml` (the crate's name), a tsconfig
`paths` edited in the config a tsconfig extends, a file created where `paths` maps a
specifier. Each case is an incremental run compared with a clean index (`verify`), through
one pool kept across runs, as the server keeps it (its workers cache what they read)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index.pipeline import make_pool
from isgraph.index.service import IndexService
from isgraph.index.verify import verify
from isgraph.store.base import Store
from isgraph.store.connect import open_store

CONFIG = Config(jobs=1)


@pytest.fixture
async def pool() -> AsyncIterator[ProcessPoolExecutor]:
    p = make_pool(1)
    yield p
    p.shutdown(wait=True, cancel_futures=True)


async def _drift_after(
    root: Path, store: Store, pool: ProcessPoolExecutor, edit: Callable[[], None]
) -> tuple[list[str], list[str]]:
    """Index, edit, index again: (differences from a clean index, files extracted again).
    The clean index parses in a pool of its own: what the kept pool's workers cached of the
    tree before the edit must not leak into either side."""
    async with IndexService(root, store, CONFIG, pool) as service:
        await service.index()
    edit()
    async with IndexService(root, store, CONFIG, pool) as service:
        summary = await service.index()
    async with IndexService(root, store, CONFIG) as fresh:
        report = await verify(fresh)
    return [d.describe() for d in report.differences], summary.reextracted


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:{tmp_path / 'i.db'}")
    yield s
    s.close()


async def test_package_marker_deleted_renames_modules(
    tmp_path: Path, store: Store, pool: ProcessPoolExecutor
) -> None:
    root = tmp_path / "tree"
    _write(
        root,
        {
            "pkg/__init__.py": "",
            "pkg/mod.py": "def f():\n    return 1\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/deep.py": "from pkg.mod import f\n\n\ndef g():\n    return f()\n",
            "other.py": "def h():\n    return 2\n",
        },
    )
    diffs, again = await _drift_after(
        root, store, pool, lambda: (root / "pkg/__init__.py").unlink()
    )
    assert diffs == []
    assert again == ["pkg/mod.py", "pkg/sub/__init__.py", "pkg/sub/deep.py"]
    diffs, again = await _drift_after(
        root, store, pool, lambda: (root / "pkg/__init__.py").write_text("")
    )
    assert diffs == [] and "pkg/sub/deep.py" in again


async def test_go_mod_edited(tmp_path: Path, store: Store, pool: ProcessPoolExecutor) -> None:
    root = tmp_path / "tree"
    _write(
        root,
        {
            "go.mod": "module example.com/app\n\ngo 1.22\n",
            "util/util.go": "package util\n\nfunc Add(a, b int) int { return a + b }\n",
            "main.go": (
                'package main\n\nimport "example.com/app/util"\n\nfunc main() { util.Add(1, 2) }\n'
            ),
        },
    )
    diffs, again = await _drift_after(
        root,
        store,
        pool,
        lambda: (root / "go.mod").write_text("module example.com/renamed\n\ngo 1.22\n"),
    )
    assert diffs == []
    assert again == ["main.go", "util/util.go"]


async def test_cargo_toml_edited(tmp_path: Path, store: Store, pool: ProcessPoolExecutor) -> None:
    root = tmp_path / "tree"
    _write(
        root,
        {
            "crate/Cargo.toml": '[package]\nname = "first"\nversion = "0.1.0"\n',
            "crate/src/lib.rs": "pub mod util;\npub fn top() -> i32 { util::one() }\n",
            "crate/src/util.rs": "pub fn one() -> i32 { 1 }\n",
        },
    )
    edit = lambda: (root / "crate/Cargo.toml").write_text(  # noqa: E731
        '[package]\nname = "second"\nversion = "0.1.0"\n'
    )
    diffs, again = await _drift_after(root, store, pool, edit)
    assert diffs == [] and again == ["crate/src/lib.rs", "crate/src/util.rs"]


TS = {
    "tsconfig.base.json": json.dumps(
        {"compilerOptions": {"baseUrl": ".", "paths": {"@u/*": ["src/util/*"]}}}
    ),
    "tsconfig.json": json.dumps({"extends": "./tsconfig.base.json"}),
    "src/util/math.ts": "export function add(a: number, b: number) { return a + b; }\n",
    "src/lib/math.ts": "export function add(a: number, b: number) { return a - b; }\n",
    "src/app.ts": 'import { add } from "@u/math";\n\nexport function run() { return add(1, 2); }\n',
}


async def test_extended_tsconfig_paths_edited(
    tmp_path: Path, store: Store, pool: ProcessPoolExecutor
) -> None:
    root = tmp_path / "tree"
    _write(root, TS)

    def edit() -> None:
        conf = {"compilerOptions": {"baseUrl": ".", "paths": {"@u/*": ["src/lib/*"]}}}
        (root / "tsconfig.base.json").write_text(json.dumps(conf))

    diffs, again = await _drift_after(root, store, pool, edit)
    assert diffs == [] and "src/app.ts" in again


async def test_file_created_where_paths_map(
    tmp_path: Path, store: Store, pool: ProcessPoolExecutor
) -> None:
    """`paths` lists two targets; the first does not exist until the edit creates it."""
    root = tmp_path / "tree"
    _write(root, TS)
    conf = {"compilerOptions": {"baseUrl": ".", "paths": {"@u/*": ["src/new/*", "src/util/*"]}}}
    (root / "tsconfig.base.json").write_text(json.dumps(conf))
    edit = lambda: _write(root, {"src/new/math.ts": "export function add() { return 0; }\n"})  # noqa: E731
    diffs, again = await _drift_after(root, store, pool, edit)
    assert diffs == [] and "src/app.ts" in again


async def test_nothing_extracted_again_for_a_plain_edit(
    tmp_path: Path, store: Store, pool: ProcessPoolExecutor
) -> None:
    root = tmp_path / "tree"
    _write(root, TS)
    edit = lambda: _write(root, {"src/lib/math.ts": "export function add() { return 9; }\n"})  # noqa: E731
    diffs, again = await _drift_after(root, store, pool, edit)
    assert diffs == [] and again == []


async def test_a_file_extracted_again_is_read_from_its_unsaved_buffer(tmp_path: Path) -> None:
    """In the server, a file extracted again because a file appeared where `paths` maps
    (here `src/app.ts`) is read from the editor's buffer when it has one, as a clean index
    with the buffers does (found by the differential tester: the disk's version was read)."""
    import asyncio

    from tests.lsp.rawclient import RawClient

    root = tmp_path / "tree"
    _write(root, TS)
    client = await RawClient.start(root, f"sqlite:{tmp_path / 'db' / 'i.db'}")
    try:

        async def verify_now() -> dict[str, object]:
            answer = await client.request(
                "workspace/executeCommand",
                {"command": "isgraph.verify", "arguments": [{"thorough": True}]},
                300,
            )
            return dict(answer["result"])

        for _ in range(600):  # the folder opens after `initialized`; verify waits for its index
            first = await verify_now()
            if first.get("folders"):
                break
            await asyncio.sleep(0.05)
        assert first.get("drift") is False, first
        app = root / "src/app.ts"
        text = app.read_text() + "\nexport function unsaved() { return add(3, 4); }\n"
        doc = {"uri": app.as_uri(), "languageId": "typescript", "version": 1, "text": text}
        await client.notify("textDocument/didOpen", {"textDocument": doc})
        await asyncio.sleep(1.0)  # the buffer's debounce, then its run
        _write(root, {"src/util/extra.ts": "export function extra() { return 1; }\n"})
        await asyncio.sleep(1.5)  # the watcher's event, then its run
        result = await verify_now()
        assert result["drift"] is False, result["rows"]
    finally:
        await client.request("shutdown", None)
        await client.notify("exit", None)
        await asyncio.wait_for(client.proc.wait(), 30)


async def test_a_barrels_star_reexport_retargeted(
    tmp_path: Path, store: Store, pool: ProcessPoolExecutor
) -> None:
    """`export * from "./strings"` in a barrel renamed to another module: its importers'
    `util.shout()` are decided again (they name the barrel's directory as their owner;
    found by the differential tester, seed 2111)."""
    root = tmp_path / "tree"
    _write(
        root,
        {
            "src/util/strings.ts": "export function shout(s: string) { return s; }\n",
            "src/util/loud.ts": "export function whisper(s: string) { return s; }\n",
            "src/util/index.ts": 'export * from "./strings";\n',
            "src/app.ts": (
                'import * as util from "./util";\n\n'
                'export function run() { return util.shout("a"); }\n'
            ),
            # enough other files that one edit is re-resolved incrementally, not in full
            **{f"src/other{i}.ts": f"export function f{i}() {{ return {i}; }}\n" for i in range(8)},
        },
    )
    edit = lambda: _write(root, {"src/util/index.ts": 'export * from "./loud";\n'})  # noqa: E731
    diffs, _ = await _drift_after(root, store, pool, edit)
    assert diffs == []


async def test_a_base_resolving_elsewhere_under_the_same_name(
    tmp_path: Path, store: Store, pool: ProcessPoolExecutor
) -> None:
    """`import { Base } from "./base"` pointed at a module that does not exist: `Square`
    no longer inherits `describe`, and `build().describe()` in another file is decided again
    (found by the differential tester, cli seed 2131; then the way back)."""
    root = tmp_path / "tree"
    square = (
        'import { Base } from "./base";\n\n'
        "export class Square extends Base {\n  area(): number { return 1; }\n}\n"
    )
    _write(
        root,
        {
            "src/base.ts": "export class Base {\n  describe(): string { return 'b'; }\n}\n",
            "src/square.ts": square,
            "src/typed.ts": (
                'import { Square } from "./square";\n\n'
                "export function build(): Square { return new Square(); }\n\n"
                "export function run() { return build().describe(); }\n"
            ),
            **{f"src/other{i}.ts": f"export function f{i}() {{ return {i}; }}\n" for i in range(8)},
        },
    )
    moved = square.replace('"./base"', '"./base_7"')
    diffs, _ = await _drift_after(root, store, pool, lambda: _write(root, {"src/square.ts": moved}))
    assert diffs == []
    diffs, _ = await _drift_after(
        root, store, pool, lambda: _write(root, {"src/square.ts": square})
    )
    assert diffs == []


async def test_a_cold_build_looks_for_no_inheritors(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build resolves every file, so the bases that change target on the way
    (unresolved -> resolved) leave no other file to decide again: the search for their
    inheritors' callers (`edge_paths_to_recheck`) is skipped, and the graph is still the
    clean one."""
    root = tmp_path / "tree"
    _write(
        root,
        {
            "pkg/__init__.py": "",
            "pkg/base.py": "class Base:\n    def describe(self):\n        return 'b'\n",
            "pkg/square.py": "from pkg.base import Base\n\nclass Square(Base):\n    pass\n",
            "pkg/use.py": "from pkg.square import Square\n\ndef run():\n"
            "    return Square().describe()\n",
        },
    )
    asked: list[set[str]] = []
    real = type(store).edge_paths_to_recheck

    def spy(self: Store, names: object) -> set[str]:
        asked.append(set(names))  # type: ignore[call-overload]
        return real(self, names)  # type: ignore[arg-type]

    monkeypatch.setattr(type(store), "edge_paths_to_recheck", spy)
    async with IndexService(root, store, CONFIG) as service:
        await service.index()
    assert asked == []
    monkeypatch.undo()
    async with IndexService(root, store, CONFIG) as fresh:
        report = await verify(fresh)
    assert [d.describe() for d in report.differences] == []
    use = store.edges(path="pkg/use.py")
    assert any(e.dst and e.dst.endswith("base.py:Base.describe") for e in use)
