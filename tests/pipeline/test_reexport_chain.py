"""The end of a re-export chain coming back: a barrel re-exports `add as plus` from a module
that is deleted, then restored. The importer's edges name `plus`, never `add`, so the match
names of the restored module's entities do not reach them; the run must still decide them
again (they point at the barrel's fallback meanwhile). Each case is an incremental run
compared with a clean index (`verify`), as the differential tester does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index.service import IndexService
from isgraph.index.verify import verify
from isgraph.store.base import Store
from isgraph.store.connect import open_store

CONFIG = Config(jobs=1)
# Enough other files that one edit is re-resolved incrementally, not in full.
FILLER_TS = {f"src/other{i}.ts": f"export function f{i}() {{ return {i}; }}\n" for i in range(8)}
FILLER_PY = {f"other{i}.py": f"def f{i}():\n    return {i}\n" for i in range(8)}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:{tmp_path / 'i.db'}")
    yield s
    s.close()


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


async def _index_and_verify(root: Path, store: Store) -> list[str]:
    async with IndexService(root, store, CONFIG) as service:
        await service.index()
    async with IndexService(root, store, CONFIG) as fresh:
        report = await verify(fresh)
    return [d.describe() for d in report.differences]


async def _delete_then_restore(root: Path, store: Store, files: dict[str, str], end: str) -> None:
    _write(root, {**files})
    assert await _index_and_verify(root, store) == []
    (root / end).unlink()
    assert await _index_and_verify(root, store) == []
    _write(root, {end: files[end]})
    assert await _index_and_verify(root, store) == []


async def test_ts_renamed_reexport_end_restored(tmp_path: Path, store: Store) -> None:
    files = {
        "src/math.ts": "export function add(a: number, b: number) { return a + b; }\n",
        "src/index.ts": 'export { add as plus } from "./math";\n',
        "src/app.ts": (
            'import { plus } from "./index";\n\nexport function run() { return plus(1, 2); }\n'
        ),
        **FILLER_TS,
    }
    await _delete_then_restore(tmp_path / "tree", store, files, "src/math.ts")


async def test_ts_two_barrels_end_restored(tmp_path: Path, store: Store) -> None:
    """A chain of two renaming barrels: the alias of an alias."""
    files = {
        "src/math.ts": "export function add(a: number, b: number) { return a + b; }\n",
        "src/inner.ts": 'export { add as plus } from "./math";\n',
        "src/index.ts": 'export { plus as sum } from "./inner";\n',
        "src/app.ts": (
            'import { sum } from "./index";\n\nexport function run() { return sum(1, 2); }\n'
        ),
        **FILLER_TS,
    }
    await _delete_then_restore(tmp_path / "tree", store, files, "src/math.ts")


async def test_ts_star_chain_end_restored(tmp_path: Path, store: Store) -> None:
    files = {
        "src/util/strings.ts": "export function shout(s: string) { return s; }\n",
        "src/util/inner.ts": 'export * from "./strings";\n',
        "src/util/index.ts": 'export * from "./inner";\n',
        "src/app.ts": (
            'import { shout } from "./util";\n\nexport function run() { return shout("a"); }\n'
        ),
        **FILLER_TS,
    }
    await _delete_then_restore(tmp_path / "tree", store, files, "src/util/strings.ts")


async def test_python_renamed_reexport_end_restored(tmp_path: Path, store: Store) -> None:
    files = {
        "pkg/__init__.py": "from .math import add as plus\n",
        "pkg/math.py": "def add(a, b):\n    return a + b\n",
        "app.py": "from pkg import plus\n\n\ndef run():\n    return plus(1, 2)\n",
        **FILLER_PY,
    }
    await _delete_then_restore(tmp_path / "tree", store, files, "pkg/math.py")


async def test_python_star_chain_end_restored(tmp_path: Path, store: Store) -> None:
    files = {
        "pkg/__init__.py": "from .inner import *\n",
        "pkg/inner.py": "from .math import *\n",
        "pkg/math.py": "def add(a, b):\n    return a + b\n",
        "app.py": "import pkg\n\n\ndef run():\n    return pkg.add(1, 2)\n",
        **FILLER_PY,
    }
    await _delete_then_restore(tmp_path / "tree", store, files, "pkg/math.py")
