"""The word under the cursor while resolution is pending (issue 19, point 4): a reference the
resolver has not decided yet answers with the one definition of its name, marked provisional
(`inferred`), instead of nothing; several definitions: no guess; once resolution has run, its
verdict stands. Real pipeline, real embedded store, the query layer called directly."""

from __future__ import annotations

from pathlib import Path

from isgraph.config import Config
from isgraph.index.service import IndexService
from isgraph.queries import at
from isgraph.store.base import RESOLVE_PENDING
from isgraph.store.connect import open_store
from tests.pipeline.conftest import write_tree

FILES = {
    "lib.py": """
        def helper(value):
            return value


        class A:
            def twin(self):
                pass


        class B:
            def twin(self):
                pass
        """,
    "app.py": """
        from lib import helper


        def local():
            return 1


        def render(value, obj):
            helper(value)
            local()
            return obj.twin()
        """,
}
# 1-based lines of app.py, and the column of the called name on each
HELPER, LOCAL, TWIN = 9, 10, 11


def _line(root: Path, n: int) -> str:
    return (root / "app.py").read_text().splitlines()[n - 1]


async def test_pending_references_answer_with_the_only_definition(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", FILES)
    lines = (root / "app.py").read_text().splitlines()
    store = open_store(f"sqlite:{tmp_path / 'index.db'}", root)
    try:
        async with IndexService(root, store, Config(jobs=1)) as service:
            await service.index(resolve=False)  # written, not resolved: as mid-first-index
            assert store.get_meta(RESOLVE_PENDING) == "1"

            def at_word(line: int, word: str) -> at.Symbol | None:
                return at.symbol_at(store, "app.py", line, _line(root, line).index(word), lines)

            helper = at_word(HELPER, "helper")
            assert helper is not None and helper.entity is not None
            assert (helper.entity.path, helper.entity.name, helper.provisional) == (
                "lib.py",
                "helper",
                True,
            )
            local = at_word(LOCAL, "local")  # same-file: decided by the extractor already
            assert local is not None and local.entity is not None and not local.provisional
            assert local.edge is not None and local.edge.resolution == "exact"
            twin = at_word(TWIN, "twin")  # two methods so named: no guess
            assert twin is not None and twin.entity is None and twin.candidates == 2

            await service.resolve_owed()
        assert store.get_meta(RESOLVE_PENDING) == "0"
        helper = at.symbol_at(store, "app.py", HELPER, _line(root, HELPER).index("helper"), lines)
        assert helper is not None and helper.entity is not None and not helper.provisional
        twin = at.symbol_at(store, "app.py", TWIN, _line(root, TWIN).index("twin"), lines)
        assert twin is not None and twin.entity is None and not twin.provisional
    finally:
        store.close()
