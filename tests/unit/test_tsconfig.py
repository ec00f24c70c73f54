"""tsconfig.json `paths` / `baseUrl`: which module a bare specifier names (real files in a
temporary repo; the fixture project tests/fixtures/langs/typescript covers the whole pipeline)."""

from __future__ import annotations

import os
from pathlib import Path

from isgraph.index.extract.lang.tsconfig import config_for, map_specifier


def tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def mapped(root: Path, importer: str, spec: str) -> str | None:
    module = config_for(str(root), importer)
    return map_specifier(module, spec) if module else None


def test_exact_pattern_then_the_longest_prefix(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "tsconfig.json": """{"compilerOptions": {"paths": {
                "*": ["types/*"], "@a/*": ["a/*"], "@a/b/*": ["ab/*"], "@a/b/c": ["exact"],
                "pre-*-post": ["mid/*"]}}}""",
            "src/x.ts": "",
        },
    )
    assert mapped(tmp_path, "src/x.ts", "@a/b/c") == "exact"
    assert mapped(tmp_path, "src/x.ts", "@a/b/d") == "ab/d"
    assert mapped(tmp_path, "src/x.ts", "@a/z") == "a/z"
    assert mapped(tmp_path, "src/x.ts", "pre-q-post") == "mid/q"
    # no baseUrl: targets are relative to the config's directory
    assert mapped(tmp_path, "src/x.ts", "react") == "types/react"


def test_first_existing_target_and_base_url_only_for_files_that_exist(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "web/tsconfig.json": """{
                // comments and trailing commas, as tsc allows
                "compilerOptions": {"baseUrl": "src", "paths": {"@/*": ["gen/*", "lib/*",],},},
            }""",
            "web/src/lib/util/index.ts": "",
            "web/src/models.d.ts": "",
            "web/src/app.ts": "",
        },
    )
    assert mapped(tmp_path, "web/src/app.ts", "@/util") == "web/src/lib/util"  # an index
    assert mapped(tmp_path, "web/src/app.ts", "@/none") == "web/src/gen/none"  # the first
    assert mapped(tmp_path, "web/src/app.ts", "models") == "web/src/models"  # baseUrl
    assert mapped(tmp_path, "web/src/app.ts", "react") is None  # a package
    assert mapped(tmp_path, "other/app.ts", "@/util") is None  # no config governs it


def test_extends_nearest_config_and_reload(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "tsconfig.base.json": '{"compilerOptions": {"baseUrl": ".", '
            '"paths": {"~/*": ["a/*"]}}}',
            "pkg/tsconfig.json": '{"extends": "../tsconfig.base", "compilerOptions": {}}',
            "pkg/deep/tsconfig.json": """{"extends": ["../../tsconfig.base.json", "./own.json"]}""",
            "pkg/deep/own.json": '{"compilerOptions": {"paths": {"~/*": ["b/*"]}}}',
            "jsonly/jsconfig.json": '{"compilerOptions": {"paths": {"#x": ["x.js"]}}}',
            "outside.json": "{}",
        },
    )
    # inherited: baseUrl from the base config, relative to where it is defined
    assert mapped(tmp_path, "pkg/m.ts", "~/q") == "a/q"
    # a later entry of an `extends` list overrides an earlier one; baseUrl still the base's
    assert mapped(tmp_path, "pkg/deep/m.ts", "~/q") == "b/q"
    assert mapped(tmp_path, "jsonly/m.js", "#x") == "jsonly/x.js"
    # an edited config is read again (mtime)
    cfg = tmp_path / "pkg/tsconfig.json"
    cfg.write_text('{"compilerOptions": {"paths": {"~/*": ["c/*"]}}}')
    st = cfg.stat()
    os.utime(cfg, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert mapped(tmp_path, "pkg/m.ts", "~/q") == "pkg/c/q"


def test_nothing_outside_the_root_and_broken_configs(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    tree(
        tmp_path,
        {
            "evil.json": '{"compilerOptions": {"paths": {"*": ["x/*"]}}}',
            "repo/tsconfig.json": '{"extends": "../evil.json", "compilerOptions": {"paths": '
            '{"up/*": ["../../*"], "ok/*": ["ok/*"]}}}',
            "repo/bad/tsconfig.json": "{ not json",
            "repo/list/tsconfig.json": "[1, 2]",
        },
    )
    assert mapped(root, "m.ts", "react") is None  # evil.json was not read
    assert mapped(root, "m.ts", "up/etc/passwd") is None
    assert mapped(root, "m.ts", "ok/z") == "ok/z"
    assert mapped(root, "bad/m.ts", "ok/z") is None
    assert mapped(root, "list/m.ts", "ok/z") is None
