"""Go build constraints decide which of a package's per-platform definitions a call means
(issue 15): ``File.Close`` is defined in ``file_plan9.go`` and ``file_posix.go``, ``unlock``
in ``lock_futex.go`` and ``lock_sema.go``; gopls, answering for the host's configuration,
goes to the file the toolchain compiles. Every file stays indexed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from isgraph.config import Config
from isgraph.index import service
from isgraph.index.gobuild import Platform, build_directive, builds, file_suffix
from isgraph.index.service import IndexService
from isgraph.store.connect import open_store

FILES = {
    "go.mod": "module example.com/m\n",
    "os/types.go": "package os\n\ntype File struct{ fd int }\n",
    # declared first in key order: the pick before build constraints
    "os/file_plan9.go": """
        package os

        func (f *File) Close() error { return nil }

        func Open(name string) *File { return nil }
        """,
    "os/file_posix.go": """
        //go:build unix || (js && wasm) || windows

        package os

        func (f *File) Close() error { return nil }
        """,
    "os/file_unix.go": """
        // Copyright line.

        //go:build unix || (js && wasm)

        package os

        func Open(name string) *File { return nil }
        """,
    "os/lock_futex.go": """
        //go:build dragonfly || freebsd || linux

        package os

        func unlock() {}
        """,
    "os/lock_sema.go": """
        // +build aix darwin plan9 solaris windows

        package os

        func unlock() {}
        """,
    # a type declared per platform, reached through what a function returns
    "os/fd_plan9.go": """
        package os

        type netFD struct{ n int }

        func (fd *netFD) Close() error { return nil }
        """,
    "os/fd_posix.go": """
        //go:build unix || windows

        package os

        type netFD struct{ fd int }

        func (fd *netFD) Close() error { return nil }
        """,
    "os/fd.go": "package os\n\nfunc newFD() *netFD { return nil }\n",
    "os/use.go": """
        package os

        func use() {
            f := Open("x")
            f.Close()
            unlock()
            fd := newFD()
            fd.Close()
        }
        """,
    "os/use_windows.go": """
        package os

        func useWindows() {
            unlock()
        }
        """,
}


async def _calls(root: Path) -> dict[tuple[str, str], str | None]:
    store = open_store("mem")
    try:
        async with IndexService(root, store, Config(jobs=1)) as svc:
            summary = await svc.index()
        assert summary.errors == []
        paths = {e.key: e.path for e in store.find_entities()}
        return {
            (e.src.rsplit(":", 1)[1], e.target_name): paths.get(e.dst or "")
            for e in store.edges(kind="calls")
        }
    finally:
        store.close()


@pytest.mark.parametrize("table", [False, True], ids=["store", "symbol-table"])
@pytest.mark.parametrize("goos", ["linux", "windows"])
async def test_calls_resolve_to_the_platforms_definition(
    tmp_path: Path, table: bool, goos: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "TABLE_MIN_FILES", 0 if table else 10**9)
    monkeypatch.setenv("GOOS", goos)
    monkeypatch.setenv("GOARCH", "amd64")
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text).lstrip())
    calls = await _calls(tmp_path)
    if goos == "linux":  # (on windows neither builds: both stay candidates)
        assert calls[("use", "Open")] == "os/file_unix.go"
    assert calls[("use", "f.Close")] == "os/file_posix.go"
    assert calls[("use", "fd.Close")] == "os/fd_posix.go"
    assert calls[("use", "unlock")] == (
        "os/lock_futex.go" if goos == "linux" else "os/lock_sema.go"
    )
    # a file written for one platform calls that platform's definitions
    assert calls[("useWindows", "unlock")] == "os/lock_sema.go"


def test_file_name_suffixes() -> None:
    assert file_suffix("a/x_linux_amd64_test.go") == ("linux", "amd64")
    assert file_suffix("x_arm64.go") == (None, "arm64")
    assert file_suffix("x_plan9.go") == ("plan9", None)
    assert file_suffix("linux.go") == (None, None)  # no `_`: no constraint
    assert file_suffix("x_unix.go") == (None, None)  # `unix` is a tag, not a GOOS
    assert file_suffix("x_linux_foo.go") == (None, None)


def test_constraint_expressions() -> None:
    linux = Platform("linux", "amd64")
    plan9 = Platform("plan9", "386", cgo=False)
    assert builds("x.go", "//go:build unix || (js && wasm)", linux)
    assert not builds("x.go", "//go:build unix || (js && wasm)", plan9)
    assert builds("x.go", "//go:build !windows && go1.18", linux)
    assert not builds("x.go", "//go:build cgo && !osusergo", plan9)
    assert not builds("x.go", "//go:build ignore", linux)
    assert builds("x.go", "//go:build goexperiment.regabiargs", linux)  # the default there
    assert not builds("x.go", "//go:build goexperiment.regabiargs", plan9)
    assert not builds("x_windows.go", "", linux)
    assert builds("x_android.go", "", Platform("android", "arm64"))
    assert builds("x_linux.go", "", Platform("android", "arm64"))  # android implies linux
    assert builds("x.go", "//go:build (unbalanced", linux)  # unreadable: not excluded
    header = b"// Copyright\n\n// +build linux,amd64 darwin\n// +build !cgo\n\npackage x\n"
    directive = build_directive(header)
    assert builds("x.go", directive, Platform("darwin", "arm64", cgo=False))
    assert not builds("x.go", directive, Platform("linux", "386", cgo=False))
    assert not builds("x.go", directive, Platform("linux", "amd64", cgo=True))
    assert build_directive(b"package x\n\n//go:build linux\n") == ""  # after the clause


async def _drift_after_edit(root: Path, edit: dict[str, str | None]) -> list[str]:
    """Index ``root``, apply ``edit`` (path -> content, None deletes), index again: the
    differences from a clean index of the edited tree."""
    from isgraph.index.verify import verify

    store = open_store(f"sqlite:{root.parent / 'i.db'}")
    try:
        async with IndexService(root, store, Config(jobs=1)) as svc:
            await svc.index()
        for rel, text in edit.items():
            if text is None:
                (root / rel).unlink()
            else:
                (root / rel).write_text(textwrap.dedent(text).lstrip())
        async with IndexService(root, store, Config(jobs=1)) as svc:
            await svc.index()
        async with IndexService(root, store, Config(jobs=1)) as fresh:
            report = await verify(fresh)
        return [d.describe() for d in report.differences]
    finally:
        store.close()


POSIX_CLOSE = FILES["os/file_posix.go"]
# Files whose only edges are calls of a per-platform method or function: nothing in them
# names the package (a parameter's type, a call within the package), and another package's.
CALLERS = {
    "os/close.go": "package os\n\nfunc closeIt(f *File) error {\n\treturn f.Close()\n}\n",
    "os/unlock.go": "package os\n\nfunc release() {\n\tunlock()\n}\n",
    "app/app.go": (
        'package app\n\nimport "example.com/m/os"\n\n'
        "func done(f *os.File) error {\n\treturn f.Close()\n}\n"
    ),
    **{f"os/extra{i}.go": f"package os\n\nfunc extra{i}() {{}}\n" for i in range(6)},
}


@pytest.mark.parametrize(
    "edit",
    [
        # the build line edited: posix's Close no longer builds on linux, plan9's is picked
        {"os/file_posix.go": POSIX_CLOSE.replace("unix || (js && wasm) || windows", "windows")},
        # the build line removed from the variant that was not picked
        {"os/lock_sema.go": "package os\n\nfunc unlock() {}\n"},
        # a file renamed to another platform's suffix
        {"os/file_posix.go": None, "os/file_windows.go": POSIX_CLOSE},
        # a new variant of a name other files call
        {"os/lock_linux.go": "package os\n\nfunc unlock() {}\n"},
    ],
    ids=["build-line", "build-line-removed", "renamed-suffix", "new-variant"],
)
async def test_an_edited_constraint_re_resolves_other_files(
    tmp_path: Path, edit: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing which platforms a file builds for moves the exact calls other files resolved
    among a package's per-platform variants, as a clean index decides them."""
    monkeypatch.setenv("GOOS", "linux")
    monkeypatch.setenv("GOARCH", "amd64")
    root = tmp_path / "tree"
    for rel, text in {**FILES, **CALLERS}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    assert await _drift_after_edit(root, edit) == []
