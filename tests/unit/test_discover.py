"""Discovery: gitignore semantics (checked against git itself), skips, symlinks, laziness, order."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from isgraph.index import discover as discover_mod
from isgraph.index.discover import Found, IgnoreRules, Skip, discover
from isgraph.index.languages import LANGUAGE_BY_EXTENSION, LANGUAGES, language_for


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def found(root: Path, **kw: object) -> list[str]:
    return [f.relpath for f in discover(root, **kw) if isinstance(f, Found)]  # type: ignore[arg-type]


def skips(root: Path, **kw: object) -> dict[str, str]:
    return {s.relpath: s.reason for s in discover(root, **kw) if isinstance(s, Skip)}  # type: ignore[arg-type]


# -- gitignore semantics --------------------------------------------------------------------


def test_nested_gitignore_negation_and_directory_patterns(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "build/\n*.gen.py\n!keep.gen.py\nbuild2/\n!build2/keep.py\n",
            "a.py": "",
            "keep.gen.py": "",
            "drop.gen.py": "",
            "build/x.py": "",
            "sub/build/x.py": "",  # an unanchored directory pattern matches at any depth
            "build2/keep.py": "",  # as in git: no re-including inside an ignored directory
            "sub/.gitignore": "local.py\n!drop.gen.py\n",
            "sub/local.py": "",
            "sub/drop.gen.py": "",  # the deeper file re-includes what the root ignored
            "sub/ok.py": "",
            "other/local.py": "",  # sub's rules do not apply here
            "deeper/.gitignore": "*.py\n",
            "deeper/inner/.gitignore": "!wanted.py\n",
            "deeper/inner/wanted.py": "",
            "deeper/inner/unwanted.py": "",
        },
    )
    assert found(root) == [
        "a.py",
        "deeper/inner/wanted.py",
        "keep.gen.py",
        "other/local.py",
        "sub/drop.gen.py",
        "sub/ok.py",
    ]


def test_directory_not_ignored_by_a_pattern_for_its_contents(tmp_path: Path) -> None:
    # pathspec's GitIgnoreSpec.check_file gets both wrong for a walk that prunes directories.
    root = tree(
        tmp_path,
        {
            "wl/.gitignore": "*\n!*/\n!*.py\n",  # the whitelist idiom
            "wl/a/x.py": "",
            "wl/a/x.txt.py.bak": "",
            "dist/.gitignore": "",
            "gen/x.py": "",
            "gen/keep.py": "",
            "gen/sub/y.py": "",
            ".gitignore": "gen/**\n!gen/keep.py\n",  # inside gen, not gen itself
        },
    )
    assert found(root) == ["gen/keep.py", "wl/a/x.py"]


def test_anchored_patterns(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "/top.py\n/only_root/\n",
            "top.py": "",
            "sub/top.py": "",
            "only_root/x.py": "",
            "sub/only_root/x.py": "",
            "sub/.gitignore": "/here.py\nmid/deep.py\n",  # anchored to sub/
            "sub/here.py": "",
            "sub/x/here.py": "",
            "sub/mid/deep.py": "",
            "sub/x/mid/deep.py": "",  # a slash in the middle anchors too
        },
    )
    assert found(root) == ["sub/only_root/x.py", "sub/top.py", "sub/x/here.py", "sub/x/mid/deep.py"]


def test_double_star_patterns(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "**/generated/\na/**/b.py\ndocs/**\n!docs/conf.py\n",
            "generated/x.py": "",
            "x/y/generated/z.py": "",
            "a/b.py": "",  # ** matches zero directories
            "a/x/y/b.py": "",
            "a/c.py": "",
            "docs/conf.py": "",
            "docs/api/ref.py": "",
        },
    )
    assert found(root) == ["a/c.py", "docs/conf.py"]


def test_info_exclude_is_below_gitignore(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".git/info/exclude": "secret.py\nlocal/\nback.py\n",
            ".gitignore": "!back.py\n",
            "secret.py": "",
            "local/x.py": "",
            "back.py": "",
            "ok.py": "",
        },
    )
    assert found(root) == ["back.py", "ok.py"]


def test_configured_excludes_beat_gitignore(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "vendor/\n!keep.py\n",
            "vendor/lib.py": "",
            "vendor/.gitignore": "gen.py\n",
            "vendor/gen.py": "",
            "gen/x.py": "",
            "keep.py": "",
            "sub/gen/y.py": "",
            "ok.py": "",
        },
    )
    assert found(root, excludes=["/gen/", "keep.py"]) == ["ok.py", "sub/gen/y.py"]
    # "!" re-includes a gitignored directory; the rules inside it still apply
    assert found(root, excludes=["!vendor/"]) == [
        "gen/x.py",
        "keep.py",
        "ok.py",
        "sub/gen/y.py",
        "vendor/lib.py",
    ]
    with pytest.raises(TypeError):
        discover(root, excludes="gen/")


def test_git_and_index_directories_are_skipped(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".git/hooks/x.py": "",
            "sub/.git/y.py": "",  # a nested repository's .git too
            "sub/z.py": "",
            ".isgraph/cache.py": "",
            "custom_index/i.py": "",
            "ok.py": "",
        },
    )
    assert found(root) == ["custom_index/i.py", "ok.py", "sub/z.py"]
    assert found(root, index_dir=root / "custom_index") == [
        ".isgraph/cache.py",
        "ok.py",
        "sub/z.py",
    ]
    assert found(root, index_dir=Path("custom_index")) == [".isgraph/cache.py", "ok.py", "sub/z.py"]
    assert ".isgraph/cache.py" in found(root, index_dir=tmp_path.parent / "elsewhere")


def test_differs_from_git_nowhere(tmp_path: Path) -> None:
    """Random trees and rules files, compared with ``git ls-files --others --exclude-standard``
    (configured excludes passed as ``--exclude``, git's highest-precedence source, as ours)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: cannot compare with it")
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    dirs, files = ["a", "b", "d.py"], ["x.py", "y.py", "a.py"]

    def pattern(r: random.Random) -> str:
        d, f = r.choice(dirs), r.choice(files)
        p = r.choice(
            [f, d, f"{d}/", f"/{d}", f"/{f}", "*.py", f"**/{d}", f"{d}/**", f"{d}/**/{f}",
             f"{d}/{f}", f"{d}/*", "*", "*/", f"{d}/{r.choice(dirs)}/", f"{d}/**/", "a*",
             "**", "?.py", "[ax].py", f"**/{d}/**", f"/{d}/", f"*/{f}", "/*", "*/**"]
        )  # fmt: skip
        return "!" + p if r.random() < 0.35 else p

    for seed in range(40):
        r = random.Random(seed)
        root = tmp_path / str(seed)
        made = [""]
        for _ in range(r.randint(1, 6)):
            parent = r.choice(made)
            if parent.count("/") < 2:
                made.append(f"{parent}/{r.choice(dirs)}" if parent else r.choice(dirs))
        for d in dict.fromkeys(made):
            (root / d).mkdir(parents=True, exist_ok=True)
            for f in r.sample(files, r.randint(1, 3)):
                (root / d / f).write_text("")
            if r.random() < 0.6:
                lines = [pattern(r) for _ in range(r.randint(1, 4))]
                (root / d / ".gitignore").write_text("\n".join(lines) + "\n")
        subprocess.run([git, "init", "-q", str(root)], check=True, env=env)
        if r.random() < 0.3:
            (root / ".git/info/exclude").write_text(pattern(r) + "\n" + pattern(r) + "\n")
        excludes = [pattern(r) for _ in range(r.randint(0, 2))]
        out = subprocess.run(
            [git, "-C", str(root), "ls-files", "-o", "--exclude-standard"]
            + [f"--exclude={e}" for e in excludes],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        expected = sorted(p for p in out.splitlines() if p.endswith(".py"))
        got = found(root, excludes=excludes)
        assert sorted(got) == expected, (seed, excludes)
        rules = IgnoreRules(root, excludes=excludes)
        every = [p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file()]
        assert sorted(p for p in every if not rules.is_ignored(p)) == sorted(got), seed


# -- languages ------------------------------------------------------------------------------


def test_language_detection(tmp_path: Path) -> None:
    names = {
        "a.py": "python", "b.pyi": "python", "c.pyw": "python", "d.js": "javascript",
        "e.mjs": "javascript", "f.cjs": "javascript", "g.jsx": "javascript", "h.ts": "typescript",
        "i.mts": "typescript", "j.cts": "typescript", "k.tsx": "tsx", "l.go": "go", "m.rs": "rust",
        "n.java": "java", "o.c": "c", "p.h": "c", "q.cc": "cpp", "r.cpp": "cpp", "s.cxx": "cpp",
        "t.hpp": "cpp", "u.hh": "cpp", "v.hxx": "cpp", "w.h++": "cpp", "x.c++": "cpp",
        "y.rb": "ruby", "z.php": "php", "za.cs": "csharp", "zb.swift": "swift", "zc.kt": "kotlin",
        "zd.kts": "kotlin", "ze.scala": "scala", "zf.sc": "scala", "zg.lua": "lua", "zh.sh": "bash",
        "zi.bash": "bash", "zj.jl": "julia", "zk.dart": "dart", "zl.r": "r", "zm.R": "r",
        "zn.sol": "solidity", "zo.nim": "nim", "zp.ml": "ocaml",
    }  # fmt: skip
    for name, language in names.items():
        assert language_for(name) == language, name
        assert language_for(f"dir.x/{name}") == language, name
    for name in ["Makefile", "x.txt", "x.PY", ".py", "x.py.bak", "dir.py/x"]:
        assert language_for(name) is None, name
    assert len(LANGUAGE_BY_EXTENSION) == len(names)
    root = tree(tmp_path, dict.fromkeys([*names, "x.txt", "Makefile"], ""))
    assert {f.relpath: f.language for f in discover(root) if isinstance(f, Found)} == names


def test_language_names_are_the_grammar_packs() -> None:
    pack = pytest.importorskip("tree_sitter_language_pack")
    for language in sorted(LANGUAGES):
        assert pack.get_language(language) is not None, language


def test_languages_filter(tmp_path: Path) -> None:
    root = tree(
        tmp_path, {"a.py": "", "b.ts": "", "c.rs": "", "d.txt": "", "e.pyi": "", "f.tsx": ""}
    )
    assert found(root) == ["a.py", "b.ts", "c.rs", "e.pyi", "f.tsx"]
    assert found(root, languages={"python"}) == ["a.py", "e.pyi"]
    assert found(root, languages=["typescript", "rust"]) == ["b.ts", "c.rs"]
    assert found(root, languages=set()) == []
    with pytest.raises(ValueError, match="c_sharp"):
        discover(root, languages={"c_sharp"})


# -- symlinks -------------------------------------------------------------------------------


def test_symlinked_file_inside_is_yielded_under_its_own_path(tmp_path: Path) -> None:
    root = tree(tmp_path, {"ok.py": "x = 1\n", "lib/real.py": ""})
    (root / "alias.py").symlink_to("ok.py")
    (root / "lib" / "up.py").symlink_to("../ok.py")
    (root / "readme").symlink_to("ok.py")  # not a source-file name: not yielded, not reported
    items = list(discover(root))
    assert [f.relpath for f in items if isinstance(f, Found)] == [
        "alias.py",
        "lib/real.py",
        "lib/up.py",
        "ok.py",
    ]
    alias = next(f for f in items if isinstance(f, Found) and f.relpath == "alias.py")
    assert alias.abspath == str(root.resolve() / "alias.py")
    assert Path(alias.abspath).read_text() == "x = 1\n"
    assert not [s for s in items if isinstance(s, Skip)]


def test_directory_symlink_never_yields_a_file_twice(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {"pkg/m.py": "", "vendor/lib/v.py": "", ".gitignore": "vendor/\n"},
    )
    (root / "a_link").symlink_to("pkg", target_is_directory=True)  # sorts before its target
    (root / "z_link").symlink_to("pkg", target_is_directory=True)  # and after it
    (root / "lib").symlink_to("vendor/lib", target_is_directory=True)  # into an ignored dir
    (root / "lib2").symlink_to("vendor/lib", target_is_directory=True)
    assert found(root) == ["lib/v.py", "pkg/m.py"]
    s = skips(root)
    assert s["a_link"] == "symlink to pkg, indexed at its real path"
    assert s["z_link"] == "already visited via pkg"
    assert s["lib2"] == "already visited via lib"


def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    root = tree(tmp_path, {"real/a.py": "", "ok.py": "", "ign/x.py": "", ".gitignore": "ign/\n"})
    (root / "loop").symlink_to(".", target_is_directory=True)
    (root / "real" / "up").symlink_to("..", target_is_directory=True)
    (root / "real" / "self").symlink_to(".", target_is_directory=True)
    (root / "ign" / "back").symlink_to("../ign", target_is_directory=True)
    (root / "into_ign").symlink_to("ign", target_is_directory=True)  # followed: ign is ignored
    (root / "cycle_a.py").symlink_to("cycle_b.py")
    (root / "cycle_b.py").symlink_to("cycle_a.py")
    assert found(root) == ["into_ign/x.py", "ok.py", "real/a.py"]
    s = skips(root)
    assert s["loop"] == "symlink loop: leads back to ."
    assert s["real/up"] == "symlink loop: leads back to ."
    assert s["real/self"] == "symlink loop: leads back to real"
    assert s["into_ign/back"] == "symlink loop: leads back to into_ign"
    assert s["cycle_a.py"].startswith("broken symlink")


def test_symlinks_outside_the_root_are_not_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "ws", {"ok.py": "", ".git/hooks/h.py": ""})
    outside = tree(tmp_path / "outside", {"secret.py": ""})
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "sneaky").symlink_to("../outside", target_is_directory=True)
    (root / "hooks").symlink_to(".git/hooks", target_is_directory=True)
    (root / "dangling.py").symlink_to("nope.py")
    (root / "ignored_escape").symlink_to(outside, target_is_directory=True)
    (root / ".gitignore").write_text("ignored_escape\n")
    assert found(root) == ["ok.py"]
    real_outside = outside.resolve()
    assert skips(root) == {
        "dangling.py": "broken symlink: No such file or directory",
        "escape": f"symlink points outside the workspace: {real_outside}",
        "escape.py": f"symlink points outside the workspace: {real_outside / 'secret.py'}",
        "hooks": "symlink into a directory never indexed: .git/hooks",
        "sneaky": f"symlink points outside the workspace: {real_outside}",
    }


def test_root_reached_through_a_symlink(tmp_path: Path) -> None:
    real = tree(tmp_path / "real", {"a.py": "", "sub/b.py": ""})
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    items = [f for f in discover(tmp_path / "link") if isinstance(f, Found)]
    assert [f.relpath for f in items] == ["a.py", "sub/b.py"]
    assert items[0].abspath == str(real.resolve() / "a.py")


# -- errors and odd entries -----------------------------------------------------------------


def test_unreadable_directory_is_reported_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path, {"a.py": "", "locked/b.py": "", "z.py": ""})
    locked = root / "locked"
    locked.chmod(0)
    try:
        try:
            os.listdir(locked)
            privileged = True  # e.g. root: permissions do not stop listing
        except PermissionError:
            privileged = False
        if privileged:  # make listing it fail the way it would for anyone else
            real_scandir = os.scandir

            def scandir(path: str) -> object:
                if os.path.realpath(path) == str(locked.resolve()):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
                return real_scandir(path)

            monkeypatch.setattr(discover_mod.os, "scandir", scandir)
        items = list(discover(root))
    finally:
        locked.chmod(0o755)
    assert items == [
        Found("a.py", str(root.resolve() / "a.py"), "python"),
        Skip("locked", "cannot list directory: Permission denied"),
        Found("z.py", str(root.resolve() / "z.py"), "python"),
    ]


def test_directory_vanishing_during_the_walk(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "", "gone/x.py": "", "gone/deeper/y.py": "", "z.py": ""})
    it = discover(root)
    assert next(it) == Found("a.py", str(root.resolve() / "a.py"), "python")
    shutil.rmtree(root / "gone")
    assert list(it) == [
        Skip("gone", "cannot list directory: No such file or directory"),
        Found("z.py", str(root.resolve() / "z.py"), "python"),
    ]


def test_bad_roots_raise_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "missing")
    (tmp_path / "file.py").write_text("")
    with pytest.raises(NotADirectoryError):
        discover(tmp_path / "file.py")


def test_directory_named_like_a_source_file_is_walked(tmp_path: Path) -> None:
    root = tree(tmp_path, {"weird.py/inner.py": "", "weird.py/x.txt": "", "w.pyi/deeper/a.rs": ""})
    os.mkfifo(root / "pipe.py")
    assert found(root) == ["w.pyi/deeper/a.rs", "weird.py/inner.py"]
    assert skips(root) == {"pipe.py": "not a regular file"}
    # as in git, "*.py" also matches a directory named like that
    (root / ".gitignore").write_text("*.py\n!inner.py\n")
    assert found(root) == ["w.pyi/deeper/a.rs"]


def test_undecodable_file_name_is_reported(tmp_path: Path) -> None:
    try:
        with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.py"), "wb"):
            pass
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    (tmp_path / "ok.py").write_text("")
    assert found(tmp_path) == ["ok.py"]
    assert skips(tmp_path) == {"caf\\udce9.py": "file name is not valid UTF-8"}


# -- order and laziness ---------------------------------------------------------------------


def test_order_is_deterministic_and_sorted_by_path_components(tmp_path: Path) -> None:
    paths = ["b.py", "a/z.py", "a/b/c.py", "c.py", "A.py", "a.py", "a-b/x.py", "a/a.py"]
    first = tree(tmp_path / "one", dict.fromkeys(paths, ""))
    second = tree(tmp_path / "two", dict.fromkeys(reversed(paths), ""))
    expected = ["A.py", "a/a.py", "a/b/c.py", "a/z.py", "a-b/x.py", "a.py", "b.py", "c.py"]
    assert found(first) == expected == found(second) == found(first)
    assert expected == sorted(paths, key=lambda p: p.split("/"))


class CountingScandir:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.real = os.scandir

    def __call__(self, path: str) -> object:
        self.calls.append(os.path.basename(path))
        return self.real(path)


def test_walk_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path, {"a.py": "", **{f"d{i}/f.py": "" for i in range(20)}})
    counter = CountingScandir()
    monkeypatch.setattr(discover_mod.os, "scandir", counter)
    it = discover(root)
    assert counter.calls == []  # nothing is listed before the first next()
    assert next(it) == Found("a.py", str(root.resolve() / "a.py"), "python")
    assert len(counter.calls) == 1  # only the root was listed to yield the first file
    assert next(it) == Found("d0/f.py", str(root.resolve() / "d0/f.py"), "python")
    assert len(counter.calls) == 2
    assert len(list(it)) == 19 and len(counter.calls) == 21


def test_first_deep_file_lists_only_its_ancestors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path, {"a/b/c.py": "", **{f"z{i}/f.py": "" for i in range(10)}})
    counter = CountingScandir()
    monkeypatch.setattr(discover_mod.os, "scandir", counter)
    it = discover(root)
    first = next(it)
    assert isinstance(first, Found) and first.relpath == "a/b/c.py"
    assert counter.calls == [root.resolve().name, "a", "b"]


# -- IgnoreRules ----------------------------------------------------------------------------


def test_is_ignored_agrees_with_discover(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "out/\n*.tmp.py\n!keep.tmp.py\nlib/**\n!lib/keep.py\n",
            "wl/.gitignore": "*\n!*/\n!*.py\n",
            "wl/a/b.py": "",
            "wl/c.py": "",
            ".git/info/exclude": "local.py\n",
            "out/a.py": "",
            "out/keep.tmp.py": "",
            "x.tmp.py": "",
            "keep.tmp.py": "",
            "local.py": "",
            "src/ok.py": "",
            "src/.gitignore": "gen.py\n/anchored.py\n",
            "src/gen.py": "",
            "src/anchored.py": "",
            "src/deep/anchored.py": "",
            "src/deep/gen.py": "",
            "lib/keep.py": "",
            "lib/drop.py": "",
            "conf/excluded.py": "",
        },
    )
    rules = IgnoreRules(root, excludes=["conf/"])
    listed = set(found(root, excludes=["conf/"]))
    every = [p.relative_to(root).as_posix() for p in root.rglob("*.py")]
    assert listed == {
        "keep.tmp.py",
        "lib/keep.py",
        "src/deep/anchored.py",
        "src/ok.py",
        "wl/a/b.py",
        "wl/c.py",
    }
    for rel in every:
        assert rules.is_ignored(rel) == (rel not in listed), rel
    assert rules.is_ignored(".isgraph/index.db") and rules.is_ignored(".git/HEAD")
    assert rules.is_ignored("out", is_dir=True) and rules.is_ignored("out/")
    assert not rules.is_ignored("src", is_dir=True) and not rules.is_ignored("")
    assert rules.is_ignored("../elsewhere.py")
    assert not rules.is_ignored("./src/../src/ok.py")
    with pytest.raises(ValueError):
        rules.is_ignored("/abs/path.py")


def test_refresh_after_a_rules_file_changes(tmp_path: Path) -> None:
    root = tree(tmp_path, {"src/a.py": "", "src/b.py": ""})
    rules = IgnoreRules(root)
    assert not rules.is_ignored("src/a.py")
    (root / "src" / ".gitignore").write_text("a.py\n")
    assert not rules.is_ignored("src/a.py")  # cached until told
    assert rules.refresh("src/.gitignore")
    assert rules.is_ignored("src/a.py") and not rules.is_ignored("src/b.py")
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".git" / "info" / "exclude").write_text("src/\n")
    assert rules.refresh(".git/info/exclude")
    assert rules.is_ignored("src/b.py")
    assert not rules.refresh("src/b.py")


def test_symlinked_gitignore_is_not_read(tmp_path: Path) -> None:
    root = tree(tmp_path, {"rules.txt": "a.py\n", "a.py": "", "b.py": ""})
    (root / ".gitignore").symlink_to("rules.txt")
    assert found(root) == ["a.py", "b.py"]
    assert not IgnoreRules(root).is_ignored("a.py")
