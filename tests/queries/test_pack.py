"""Symbol details, context packs and changes on the fixture repo (real store, real git)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from isgraph.queries import changes, context, detail, lookup, tokens
from isgraph.queries.lookup import QueryError
from isgraph.queries.tokens import estimate_tokens, json_tokens
from isgraph.store.base import Store
from isgraph.store.connect import default_store_url, open_store
from tests.pipeline.conftest import run_cli


def test_estimate_leans_high_and_counts_json() -> None:
    assert estimate_tokens("") == 0
    # 11 pieces (def foo ( bar ) : return bar . baz ( 1 , 2 ) -> 15), 40 bytes / 3 -> 14
    assert estimate_tokens("def foo(bar):\n    return bar.baz(1, 2)\n") == 15
    assert json_tokens({"a": [1, 2]}) == estimate_tokens('{"a":[1,2]}')


def test_detail_of_a_class(store: Store, repo: Path) -> None:
    (engine,) = lookup.find_targets(store, "Engine")
    rec = detail.detail(store, repo, engine).record()
    assert rec["source"].splitlines()[0] == "class Engine(Base):"
    assert rec["source_truncated"] is False and rec["doc"] == "Runs things."
    assert [b["qualname"] for b in rec["bases"]] == ["Base"]
    assert [m["qualname"] for m in rec["members"]["items"]] == ["Engine.run"]
    assert [c["qualname"] for c in rec["callers"]["items"]] == ["make", "go", "test_run"]
    assert rec["callees"] == {"items": [], "total": 0, "truncated": False}
    short = detail.detail(store, repo, engine, limit=1, max_lines=2).record()
    assert short["source"] == 'class Engine(Base):\n    """Runs things."""'
    assert short["source_truncated"] is True
    assert short["callers"]["total"] == 3 and short["callers"]["truncated"] is True


def test_context_pack_ranks_the_seed_and_its_neighbours(store: Store, repo: Path) -> None:
    got = context.pack(store, repo, symbols=["Engine.run"], max_tokens=4000)
    names = [i.entity.qualname for i in got.items]
    assert names[0] == "Engine.run"
    assert {"Base.start", "make", "go", "test_run"} <= set(names)
    assert got.items[0].body is not None and got.items[0].body.lstrip().startswith("def run(self)")
    assert got.tokens <= 4000 and got.bodies >= 1
    assert got.record()["seeds"] == ["python:method:pkg/core.py:Engine.run"]


def test_context_pack_binds_to_its_budget(store: Store, repo: Path) -> None:
    small = context.pack(store, repo, symbols=["Engine.run"], max_tokens=150)
    assert small.truncated and small.tokens <= 150
    assert json_tokens([i.record() for i in small.items]) <= 150
    assert len(small.items) < small.total


def test_context_pack_from_text_and_files(store: Store, repo: Path) -> None:
    by_text = context.pack(store, repo, text="why does helper return one?", max_tokens=2000)
    assert by_text.seeds == ["python:method:pkg/core.py:Base.helper"]
    by_file = context.pack(store, repo, files=["pkg/loose.py"], max_tokens=2000)
    assert {i.entity.qualname for i in by_file.items} >= {"poke", "far"}
    none = context.pack(store, repo, symbols=["no_such_thing"])
    assert none.items == [] and none.unmatched == ["no_such_thing"]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def git_repo(repo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "g"
    shutil.copytree(repo, root, ignore=shutil.ignore_patterns(".isgraph"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return root


def test_changes_in_the_working_tree(git_repo: Path) -> None:
    core = git_repo / "pkg" / "core.py"
    core.write_text(core.read_text().replace("return 1", "return 2"))  # Base.helper's body
    (git_repo / "pkg" / "new.py").write_text("def fresh():\n    pass\n")
    run_cli("index", str(git_repo), "--quiet")
    files = changes.git_changes(git_repo)
    assert [(f.path, f.lines) for f in files] == [
        ("pkg/core.py", [(6, 6)]),
        ("pkg/new.py", [(1, 1 << 30)]),
    ]
    store = open_store(default_store_url(git_repo), git_repo)
    try:
        got = changes.changes(store, files).record()
    finally:
        store.close()
    # a new file: what it defines (its module only where a hunk touches no definition)
    assert [s["qualname"] for s in got["symbols"]["items"]] == ["Base.helper", "fresh"]
    helper = got["symbols"]["items"][0]
    assert (helper["certain"], helper["possible"], helper["unresolved_frontier"]) == (4, 3, 0)
    via = {i["qualname"]: i["via"] for i in got["impacted"]["items"]}
    assert via == {
        "Base.start": "certain",
        "Engine.run": "certain",
        "go": "certain",
        "test_run": "certain",
        "poke": "possible",
        "test_loose": "possible",
        "test_poke": "possible",
    }
    assert [t["qualname"] for t in got["tests"]["items"]] == ["test_run", "test_poke"]


def test_changes_of_a_revision_range_and_bad_revisions(git_repo: Path) -> None:
    util = git_repo / "pkg" / "util.py"
    util.write_text(util.read_text() + "\n\ndef extra():\n    go()\n")
    _git(git_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "more")
    (f,) = changes.git_changes(git_repo, "HEAD~1..HEAD")
    assert f.path == "pkg/util.py" and f.lines == [(13, 16)]
    for bad in ("--output=/tmp/x", "", "a b", "no-such-rev"):
        with pytest.raises(QueryError):
            changes.git_changes(git_repo, bad)
    # a workspace in a subdirectory of its repository: paths relative to it
    (sub,) = changes.git_changes(git_repo / "pkg", "HEAD~1..HEAD")
    assert sub.path == "util.py" and sub.lines == [(13, 16)]
    assert changes.is_test_path("tests/x.py") and changes.is_test_path("a/foo_test.go")
    assert changes.is_test_path("web/a.spec.ts") and not changes.is_test_path("pkg/core.py")


def test_fit_cuts_innermost_lists_first_and_keeps_totals() -> None:
    record = {
        "targets": {
            "items": [{"name": "t", "callers": {"items": [f"caller{i}" for i in range(500)],
                                                "total": 500, "truncated": False}}],
            "total": 1,
            "truncated": False,
        }
    }  # fmt: skip
    assert tokens.fit(record, 300)
    inner = record["targets"]["items"][0]["callers"]  # type: ignore[index]
    assert record["targets"]["items"] and record["targets"]["truncated"] is False  # type: ignore[index]
    assert inner["truncated"] is True and inner["total"] == 500 and 0 < len(inner["items"]) < 500
    assert json_tokens(record) <= 300
    assert not tokens.fit(record, 300)  # already within: nothing cut
    long = {"source": "x = 1\n" * 400, "items": [], "truncated": False}
    assert tokens.fit(long, 200) and json_tokens(long) <= 200


def test_fit_keeps_as_many_items_as_fit() -> None:
    """Measuring the tail a chunk at a time cuts no more than measuring item by item did:
    the page keeps all but at most a few of the items that would fit (varied sizes, so a
    chunk's estimate is not every item's)."""
    items = [{"key": f"k{i}", "doc": "word " * (i % 7) * 5, "depth": i % 3} for i in range(400)]

    def record(n: int) -> dict[str, object]:
        return {"certain": {"items": items[:n], "total": 400, "truncated": False}}

    for budget in (300, 2_000, 9_000):
        fitting = max(n for n in range(401) if json_tokens(record(n)) <= budget)
        got = record(400)
        assert tokens.fit(got, budget)
        kept = len(got["certain"]["items"])  # type: ignore[index]
        assert json_tokens(got) <= budget
        assert fitting - 3 <= kept <= fitting, (budget, kept, fitting)
        assert got["certain"]["items"] == items[:kept]  # type: ignore[index]
