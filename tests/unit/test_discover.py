"""Discovery: gitignore semantics, skips, symlinks, laziness, order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from isgraph.index import discover as discover_mod
from isgraph.index.discover import Found, IgnoreRules, Skip, discover
from isgraph.index.languages import language_for


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def found(root: Path, **kw: object) -> list[str]:
    return [f.relpath for f in discover(root, **kw) if isinstance(f, Found)]  # type: ignore[arg-type]


def skips(root: Path) -> dict[str, str]:
    return {s.relpath: s.reason for s in discover(root) if isinstance(s, Skip)}


def test_gitignore_nested_negation_anchoring(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "build/\n*.gen.py\n/top_only.py\n!keep.gen.py\n",
            "a.py": "",
            "keep.gen.py": "",
            "drop.gen.py": "",
            "top_only.py": "",
            "sub/top_only.py": "",  # anchored pattern: only the root one is ignored
            "build/x.py": "",
            "sub/.gitignore": "local.py\n!../a.py\n**/deep/\n",
            "sub/local.py": "",
            "sub/ok.py": "",
            "sub/x/deep/no.py": "",
            "other/local.py": "",  # sub's rules do not apply here
            "docs/readme.md": "",
            ".git/config.py": "",
            ".isgraph/cache.py": "",
            "deeper/.gitignore": "*.py\n",
            "deeper/inner/.gitignore": "!wanted.py\n",
            "deeper/inner/wanted.py": "",
            "deeper/inner/unwanted.py": "",
        },
    )
    assert found(root) == [
        "a.py",
        "keep.gen.py",
        "deeper/inner/wanted.py",
        "other/local.py",
        "sub/ok.py",
        "sub/top_only.py",
    ]


def test_order_is_deterministic(tmp_path: Path) -> None:
    # A directory's files (sorted), then its subdirectories (sorted), depth first.
    root = tree(tmp_path, {"b.py": "", "a/z.py": "", "a/b/c.py": "", "c.py": "", "A.py": ""})
    assert found(root) == ["A.py", "b.py", "c.py", "a/z.py", "a/b/c.py"]


def test_info_exclude_and_configured_excludes(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {".git/info/exclude": "secret.py\n", "secret.py": "", "gen/x.py": "", "ok.py": ""},
    )
    assert found(root, excludes=["gen/"]) == ["ok.py"]
    rules = IgnoreRules(root, excludes=["gen/"])
    assert rules.is_ignored("gen/x.py") and rules.is_ignored("secret.py")
    assert not rules.is_ignored("ok.py")


def test_languages_and_filter(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "", "b.ts": "", "c.rs": "", "d.txt": "", "e.pyi": ""})
    assert found(root) == ["a.py", "b.ts", "c.rs", "e.pyi"]
    assert found(root, languages={"python"}) == ["a.py", "e.pyi"]
    assert language_for("x/y.tsx") == "tsx" and language_for("x.cs") == "csharp"
    assert language_for("Makefile") is None


def test_symlinks_are_reported_not_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "ws", {"real/a.py": "", "ok.py": ""})
    outside = tree(tmp_path / "outside", {"secret.py": ""})
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "real" / "up").symlink_to(root / "real", target_is_directory=True)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "alias.py").symlink_to(root / "ok.py")
    (root / "dangling.py").symlink_to(root / "nope.py")
    assert found(root) == ["ok.py", "real/a.py"]
    s = skips(root)
    assert "outside the workspace" in s["escape"] and "outside the workspace" in s["escape.py"]
    assert "loop" in s["loop"] and "loop" in s["real/up"]
    assert "real path ok.py" in s["alias.py"]
    assert "broken" in s["dangling.py"]


def test_unlistable_directory_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path, {"a.py": "", "locked/b.py": "", "z.py": ""})
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    # As root, chmod 000 does not stop listing: inject the failure instead.
    monkeypatch.setattr(discover_mod.os, "scandir", scandir)
    items = list(discover(root))
    assert [f.relpath for f in items if isinstance(f, Found)] == ["a.py", "z.py"]
    assert [(s.relpath, s.reason) for s in items if isinstance(s, Skip)] == [
        ("locked", "cannot list directory: Permission denied")
    ]


def test_non_regular_files_and_dirs_named_like_files(tmp_path: Path) -> None:
    root = tree(tmp_path, {"weird.py/inner.py": ""})
    os.mkfifo(root / "pipe.py")
    assert found(root) == ["weird.py/inner.py"]
    assert skips(root) == {"pipe.py": "not a regular file"}


def test_walk_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path, {f"d{i}/f.py": "" for i in range(20)} | {"a.py": ""})
    calls = 0
    real_scandir = os.scandir

    def counting(path: str) -> object:
        nonlocal calls
        calls += 1
        return real_scandir(path)

    monkeypatch.setattr(discover_mod.os, "scandir", counting)
    it = discover(root)
    first = next(it)
    assert isinstance(first, Found) and first.relpath == "a.py"
    assert calls == 1  # only the root was listed to yield the first file
    assert len([x for x in it if isinstance(x, Found)]) == 20


def test_is_ignored_agrees_with_discover(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "out/\n*.tmp.py\n",
            "out/a.py": "",
            "x.tmp.py": "",
            "src/ok.py": "",
            "src/.gitignore": "gen.py\n",
            "src/gen.py": "",
        },
    )
    rules = IgnoreRules(root)
    listed = set(found(root))
    for rel in ["out/a.py", "x.tmp.py", "src/ok.py", "src/gen.py"]:
        assert rules.is_ignored(rel) == (rel not in listed), rel
    assert rules.is_ignored(".isgraph/index.db") and rules.is_ignored(".git/HEAD")
