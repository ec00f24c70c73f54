"""The differential tester: incremental equals clean, over seeded random edit sequences.

A working tree starts from real code (packages of CPython's standard library, the per-language
fixtures of tests/fixtures/langs, a small typed module pair whose calls are decided through a
return annotation). Each step draws an edit — add / delete / rename / move a file; add,
remove, rename a definition; move one to another module; change imports, `__all__`,
re-exports, base classes, return annotations, a Go package name, tsconfig `paths`, a C header;
a syntax error introduced then fixed; a branch switch touching many files — and applies it
through one route (how isgraph learns of changes):

- ``cli``: a new IndexService run over the tree, as `isgraph index` reruns do;
- ``postgres``: the same into a PostgreSQL store;
- ``watch``: a real `isgraph serve`, the edit written to disk (watchfiles);
- ``didchange``: a real `isgraph serve`, content edits sent as unsaved buffers (didOpen /
  didChange), creations and deletions on disk.

After each step the store is compared with a clean index of the tree (`index/verify.py`, the
server's `isgraph.verify` for the server routes). A difference prints a reproduction — route,
seed, step, the edit, the differing rows — and is repaired (clean rows written) so the next
steps start from a clean store again. `bench/incremental_check.py --steps N` is the long mode;
tests/pipeline/test_incremental.py runs a bounded number of steps per route.
"""

from __future__ import annotations

import ast
import asyncio
import json
import random
import re
import shutil
import sysconfig
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isgraph.config import Config
from isgraph.index.service import IndexService
from isgraph.index.verify import verify
from isgraph.store.base import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "langs"
STDLIB_PACKAGES = ("json",)  # small: a clean index per step is the cost
SKIP_NAMES = {"expected.txt"}

TYPED = {
    "typed/__init__.py": "",
    "typed/factory.py": (
        "class Alpha:\n    def ping(self):\n        return 1\n\n\n"
        "class Beta:\n    def ping(self):\n        return 2\n\n\n"
        "def make() -> Alpha:\n    return Alpha()\n\n\n"
        "shared = Alpha()\n"
    ),
    "typed/use.py": (
        "from typed.factory import make, shared\n\n\n"
        "def run():\n    x = make()\n    return x.ping()\n\n\n"
        "def again():\n    return shared.ping()\n"
    ),
}


def build_corpus(dest: Path, *, stdlib: tuple[str, ...] = STDLIB_PACKAGES) -> Path:
    """The starting tree: real code in every language with edges."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    for pkg in stdlib:
        shutil.copytree(lib / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for lang in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        shutil.copytree(
            lang, dest / "langs" / lang.name, ignore=shutil.ignore_patterns(*SKIP_NAMES)
        )
    for rel, text in TYPED.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    return dest


# An edit: repo-relative path -> new content, or None to delete the file.
Changes = dict[str, bytes | None]


@dataclass(slots=True)
class Edit:
    op: str
    what: str
    changes: Changes


IDENT = re.compile(rb"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
PROJECT_FILES = ("go.mod", "Cargo.toml", "package.json", "tsconfig.json", "tsconfig.base.json")


class Tree:
    """The tree as the editor sees it (buffers included) and the edits drawn on it."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.files: dict[str, bytes] = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and ".isgraph" not in p.parts
        }
        self.branches: list[dict[str, bytes]] = [dict(self.files)]
        self.broken: dict[str, bytes] = {}  # path -> content before its syntax error
        self.counter = 0
        self.ops: list[tuple[str, int, Callable[[], Edit | None]]] = [
            ("add_file", 3, self.add_file),
            ("delete_file", 2, self.delete_file),
            ("rename_file", 2, self.rename_file),
            ("move_file", 1, self.move_file),
            ("add_function", 4, self.add_function),
            ("remove_definition", 3, self.remove_definition),
            ("rename_definition", 3, self.rename_definition),
            ("move_definition", 3, self.move_definition),
            ("change_imports", 3, self.change_imports),
            ("change___all__", 2, self.change_all),
            ("reexport", 2, self.reexport),
            ("change_bases", 3, self.change_bases),
            ("return_annotation", 3, self.return_annotation),
            ("rename_identifier", 4, self.rename_identifier),
            ("go_package", 1, self.go_package),
            ("tsconfig_paths", 1, self.tsconfig_paths),
            ("c_header", 2, self.c_header),
            ("syntax_error", 2, self.syntax_error),
            ("fix_syntax", 3, self.fix_syntax),
            ("restore_file", 2, self.restore_file),
            ("branch_switch", 1, self.branch_switch),
        ]

    # -- drawing -----------------------------------------------------------------------------
    def draw(self) -> Edit:
        while True:
            _, _, make = self.rng.choices(self.ops, weights=[w for _, w, _ in self.ops])[0]
            edit = make()
            if edit is None:
                continue
            edit.changes = {p: c for p, c in edit.changes.items() if self.files.get(p) != c}
            if edit.changes:
                self.apply(edit.changes)
                return edit

    def apply(self, changes: Changes) -> None:
        for path, content in changes.items():
            if content is None:
                self.files.pop(path, None)
                self.broken.pop(path, None)
            else:
                self.files[path] = content

    def _pick(
        self, suffixes: tuple[str, ...] = (), pred: Callable[[str], bool] | None = None
    ) -> str | None:
        paths = [
            p
            for p in self.files
            if (not suffixes or p.endswith(suffixes)) and (pred is None or pred(p))
        ]
        return self.rng.choice(paths) if paths else None

    def _py(self) -> str | None:
        return self._pick((".py",), lambda p: p not in self.broken)

    def _tree(self, path: str) -> ast.Module | None:
        try:
            return ast.parse(self.files[path])
        except (SyntaxError, ValueError):
            return None

    def _top_defs(
        self, path: str, kinds: tuple[type, ...] = (ast.FunctionDef, ast.ClassDef)
    ) -> list[Any]:
        tree = self._tree(path)
        return [n for n in tree.body if isinstance(n, kinds)] if tree else []

    def _module(self, path: str) -> str:
        mod = path[:-3].replace("/", ".")
        return mod[: -len(".__init__")] if mod.endswith(".__init__") else mod

    def _fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def _lines(self, path: str) -> list[bytes]:
        return self.files[path].splitlines(keepends=True)

    # -- file operations -----------------------------------------------------------------------
    def add_file(self) -> Edit | None:
        src = self._py()
        defs = self._top_defs(src, (ast.FunctionDef,)) if src else []
        if not src or not defs:
            return None
        target = self.rng.choice(defs).name
        name = self._fresh("gen_")
        folder = self.rng.choice(["gen", "typed", src.rpartition("/")[0] or "gen"])
        text = (
            f"from {self._module(src)} import {target}\n\n\n"
            f"def {name}():\n    return {target}()\n\n\n"
            f"class {name.title()}:\n    def go(self):\n        return {name}()\n"
        )
        path = f"{folder}/{name}.py"
        return Edit(
            "add_file", f"add {path} calling {self._module(src)}.{target}", {path: text.encode()}
        )

    def delete_file(self) -> Edit | None:
        path = self._pick(pred=lambda p: not p.endswith(PROJECT_FILES))
        return Edit("delete_file", f"delete {path}", {path: None}) if path else None

    def rename_file(self) -> Edit | None:
        path = self._pick(pred=lambda p: not p.endswith(PROJECT_FILES))
        if not path:
            return None
        folder, _, base = path.rpartition("/")
        stem, dot, ext = base.rpartition(".")
        new = f"{folder}/{stem or ext}_{self._fresh('r')}{dot}{ext if stem else ''}".lstrip("/")
        return Edit("rename_file", f"rename {path} -> {new}", {path: None, new: self.files[path]})

    def move_file(self) -> Edit | None:
        path = self._pick(pred=lambda p: not p.endswith(PROJECT_FILES))
        if not path:
            return None
        folders = sorted({p.rpartition("/")[0] for p in self.files if "/" in p})
        dest = f"{self.rng.choice(folders)}/{path.rpartition('/')[2]}"
        if dest in self.files:
            return None
        return Edit("move_file", f"move {path} -> {dest}", {path: None, dest: self.files[path]})

    # -- Python definitions --------------------------------------------------------------------
    def add_function(self) -> Edit | None:
        path = self._py()
        if not path:
            return None
        callees = [d.name for d in self._top_defs(path, (ast.FunctionDef,))] or ["len"]
        name = self._fresh("added_")
        body = f"\n\ndef {name}():\n    return {self.rng.choice(callees)}()\n"
        return Edit(
            "add_function", f"add {name} to {path}", {path: self.files[path] + body.encode()}
        )

    def remove_definition(self) -> Edit | None:
        path = self._py()
        defs = self._top_defs(path) if path else []
        if not path or not defs:
            return None
        node = self.rng.choice(defs)
        lines = self._lines(path)
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        rest = lines[:start] + lines[node.end_lineno :]
        return Edit("remove_definition", f"remove {node.name} from {path}", {path: b"".join(rest)})

    def rename_definition(self) -> Edit | None:
        path = self._py()
        defs = self._top_defs(path) if path else []
        if not path or not defs:
            return None
        node = self.rng.choice(defs)
        lines = self._lines(path)
        new = self._fresh(f"{node.name}_")
        i = node.lineno - 1
        lines[i] = re.sub(
            rb"\b%s\b" % re.escape(node.name.encode()), new.encode(), lines[i], count=1
        )
        return Edit(
            "rename_definition", f"rename {node.name} -> {new} in {path}", {path: b"".join(lines)}
        )

    def move_definition(self) -> Edit | None:
        src, dst = self._py(), self._py()
        defs = self._top_defs(src, (ast.FunctionDef,)) if src else []
        if not src or not dst or src == dst or not defs:
            return None
        node = self.rng.choice(defs)
        if node.decorator_list:
            return None
        lines = self._lines(src)
        block = b"".join(lines[node.lineno - 1 : node.end_lineno])
        rest = b"".join(lines[: node.lineno - 1] + lines[node.end_lineno :])
        moved = self.files[dst] + b"\n\n" + block
        return Edit(
            "move_definition", f"move {node.name} from {src} to {dst}", {src: rest, dst: moved}
        )

    def change_imports(self) -> Edit | None:
        path = self._py()
        if not path:
            return None
        lines = self._lines(path)
        imports = [i for i, ln in enumerate(lines) if ln.startswith((b"import ", b"from "))]
        if imports and self.rng.random() < 0.5:
            i = self.rng.choice(imports)
            if lines[i].rstrip().endswith((b"(", b"\\")):
                return None
            what = lines[i].strip().decode(errors="replace")
            del lines[i]
            return Edit("change_imports", f"drop `{what}` in {path}", {path: b"".join(lines)})
        src = self._py()
        defs = self._top_defs(src) if src else []
        if not src or not defs or src == path:
            return None
        line = f"from {self._module(src)} import {self.rng.choice(defs).name}\n"
        return Edit(
            "change_imports",
            f"add `{line.strip()}` to {path}",
            {path: line.encode() + self.files[path]},
        )

    def change_all(self) -> Edit | None:
        path = self._py()
        defs = self._top_defs(path) if path else []
        if not path or not defs:
            return None
        names = self.rng.sample([d.name for d in defs], k=max(1, len(defs) // 2))
        text = re.sub(rb"(?ms)^__all__ = \[.*?\]\n", b"", self.files[path])
        text += f"\n__all__ = {names!r}\n".encode()
        return Edit("change___all__", f"__all__ = {names} in {path}", {path: text})

    def reexport(self) -> Edit | None:
        init = self._pick(("__init__.py",), lambda p: p not in self.broken)
        if not init:
            return None
        folder = init.rpartition("/")[0]
        siblings = [
            p
            for p in self.files
            if p.startswith(folder + "/")
            and p.count("/") == init.count("/")
            and p.endswith(".py")
            and p != init
            and p not in self.broken
        ]
        if not siblings:
            return None
        sib = self.rng.choice(siblings)
        defs = self._top_defs(sib)
        if not defs:
            return None
        name = self.rng.choice(defs).name
        stem = sib.rpartition("/")[2][:-3]
        if self.rng.random() < 0.5:
            line = f"from .{stem} import {name}\n"
            return Edit(
                "reexport",
                f"re-export {name} from {init}",
                {init: self.files[init] + line.encode()},
            )
        # Renamed, with a new file calling it by the new name: a later delete and restore of
        # `sib` is the end of a re-export chain coming back (its callers name the alias).
        alias = self._fresh(f"{name}_as_")
        line = f"from .{stem} import {name} as {alias}\n"
        user = f"gen/use_{alias}.py"
        text = f"from {self._module(init)} import {alias}\n\n\ndef use_{alias}():\n"
        text += f"    return {alias}()\n"
        return Edit(
            "reexport",
            f"re-export {name} as {alias} from {init}, called by {user}",
            {init: self.files[init] + line.encode(), user: text.encode()},
        )

    def change_bases(self) -> Edit | None:
        path = self._py()
        classes = self._top_defs(path, (ast.ClassDef,)) if path else []
        if not path or not classes:
            return None
        node = self.rng.choice(classes)
        others = [c.name for c in classes if c.name != node.name and c.lineno < node.lineno]
        base = self.rng.choice([*others, "object", "Exception", "dict"])
        lines = self._lines(path)
        i = node.lineno - 1
        new = re.sub(
            rb"class\s+(\w+)\s*(\([^)]*\))?\s*:",
            f"class {node.name}({base}):".encode(),
            lines[i],
            count=1,
        )
        if new == lines[i]:
            return None
        lines[i] = new
        return Edit("change_bases", f"class {node.name}({base}) in {path}", {path: b"".join(lines)})

    def return_annotation(self) -> Edit | None:
        path = (
            "typed/factory.py"
            if "typed/factory.py" in self.files and self.rng.random() < 0.5
            else self._py()
        )
        if not path or path in self.broken:
            return None
        funcs = self._top_defs(path, (ast.FunctionDef,))
        classes = [c.name for c in self._top_defs(path, (ast.ClassDef,))]
        if not funcs or not classes:
            return None
        node = self.rng.choice(funcs)
        lines = self._lines(path)
        i = node.lineno - 1
        if not lines[i].rstrip().endswith(b":"):
            return None  # a signature over several lines
        cls = self.rng.choice(classes)
        head = (
            re.sub(rb"\)\s*(->\s*[^:]+)?:\s*$", f") -> {cls}:".encode(), lines[i].rstrip()) + b"\n"
        )
        if head == lines[i]:
            return None
        lines[i] = head
        return Edit(
            "return_annotation", f"{node.name}() -> {cls} in {path}", {path: b"".join(lines)}
        )

    # -- any language --------------------------------------------------------------------------
    def rename_identifier(
        self, suffixes: tuple[str, ...] = (), op: str = "rename_identifier"
    ) -> Edit | None:
        path = self._pick(suffixes, lambda p: not p.endswith((*PROJECT_FILES, ".json", ".toml")))
        if not path:
            return None
        words = sorted(set(IDENT.findall(self.files[path])))
        if not words:
            return None
        word = self.rng.choice(words)
        new = self._fresh(word.decode() + "_")
        text = re.sub(rb"\b%s\b" % re.escape(word), new.encode(), self.files[path])
        return Edit(op, f"rename {word.decode()} -> {new} in {path}", {path: text})

    def c_header(self) -> Edit | None:
        return self.rename_identifier((".h", ".hpp"), "c_header")

    def go_package(self) -> Edit | None:
        path = self._pick((".go",))
        if not path:
            return None
        text = self.files[path]
        m = re.search(rb"(?m)^package (\w+)", text)
        if not m:
            return None
        new = self.rng.choice([m.group(1) + b"x", b"main", b"util", b"shapes"])
        text = text[: m.start(1)] + new + text[m.end(1) :]
        return Edit("go_package", f"package {new.decode()} in {path}", {path: text})

    def tsconfig_paths(self) -> Edit | None:
        path = self._pick(("tsconfig.json", "tsconfig.base.json"))
        if not path:
            return None
        try:
            conf = json.loads(self.files[path])
        except ValueError:
            return None
        opts = conf.setdefault("compilerOptions", {})
        paths = opts.setdefault("paths", {})
        choice = self.rng.random()
        if paths and choice < 0.4:
            key = self.rng.choice(sorted(paths))
            del paths[key]
            what = f"drop paths[{key}]"
        elif paths and choice < 0.7:
            key = self.rng.choice(sorted(paths))
            paths[key] = [self.rng.choice(["src/util/*", "src/shapes/*", "src/*", "lib/*"])]
            what = f"paths[{key}] = {paths[key]}"
        else:
            key = self.rng.choice(["@u/*", "@s/*", "~/*", "@app/*"])
            paths[key] = [self.rng.choice(["src/util/*", "src/shapes/*", "src/*"])]
            what = f"paths[{key}] = {paths[key]}"
        return Edit(
            "tsconfig_paths", f"{what} in {path}", {path: json.dumps(conf, indent=2).encode()}
        )

    def syntax_error(self) -> Edit | None:
        path = self._pick(
            pred=lambda p: (
                p not in self.broken and not p.endswith((*PROJECT_FILES, ".json", ".toml"))
            )
        )
        if not path:
            return None
        lines = self._lines(path)
        i = self.rng.randrange(len(lines) + 1)
        junk = self.rng.choice([b"def broken(:\n", b"class {{{\n", b")) ]] (\n", b"if x\n"])
        self.broken[path] = self.files[path]
        return Edit(
            "syntax_error",
            f"syntax error at line {i + 1} of {path}",
            {path: b"".join([*lines[:i], junk, *lines[i:]])},
        )

    def fix_syntax(self) -> Edit | None:
        if not self.broken:
            return None
        path = self.rng.choice(sorted(self.broken))
        before = self.broken.pop(path)
        return Edit("fix_syntax", f"fix the syntax error in {path}", {path: before})

    def restore_file(self) -> Edit | None:
        base = self.branches[0]
        changed = sorted(p for p in base if self.files.get(p) != base[p])
        if not changed:
            return None
        path = self.rng.choice(changed)
        return Edit("restore_file", f"restore {path}", {path: base[path]})

    def branch_switch(self) -> Edit | None:
        """Check out another branch: a tree saved earlier (or the start), every file that
        differs changed at once; the current tree is saved as a branch in turn."""
        target = self.rng.choice(self.branches)
        changes: Changes = {p: None for p in self.files if p not in target}
        changes.update({p: c for p, c in target.items() if self.files.get(p) != c})
        self.branches.append(dict(self.files))
        self.broken = {}
        return Edit("branch_switch", f"switch branch: {len(changes)} files", changes)


# -- routes ------------------------------------------------------------------------------------
@dataclass(slots=True)
class StepResult:
    differences: int  # rows where the store differs from a clean index
    by_category: dict[str, int]
    rows: list[str]
    remaining: int


class StoreRoute:
    """`isgraph index` rerun after each edit (a new service each time, as the CLI does) into
    ``store`` (an embedded SQLite store or PostgreSQL)."""

    def __init__(self, name: str, root: Path, store: Store, config: Config) -> None:
        self.name, self.root, self.store, self.config = name, root, store, config
        self.pool: Any = None
        self.index_after_edit = True  # False only to check that the tester sees drift

    async def start(self) -> None:
        from isgraph.index.pipeline import make_pool

        self.pool = make_pool(self.config.jobs)
        async with IndexService(self.root, self.store, self.config, self.pool) as service:
            await service.index()

    async def step(self, changes: Changes) -> StepResult:
        write_disk(self.root, changes)
        async with IndexService(self.root, self.store, self.config, self.pool) as service:
            if self.index_after_edit:
                await service.index()
            report = await verify(service, repair=True, thorough=True)
        rows = [d.record() for d in report.differences]
        described = [d.describe() for d in report.differences]
        return StepResult(len(rows), _by_category(rows), described[:12], len(report.remaining))

    async def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _by_category(rows: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(r["category"]) for r in rows))


def write_disk(root: Path, changes: Changes) -> None:
    for path, content in changes.items():
        target = root / path
        if content is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


class ServerRoute:
    """A real `isgraph serve`: edits on disk (``watch``), or content edits as unsaved buffers
    (``didchange``); compared through its `isgraph.verify` command."""

    SETTLE_S = 0.4  # watchfiles' latency (debounce 50 ms) and the buffer debounce (150 ms)
    RECHECK_S = 2.0

    def __init__(self, name: str, root: Path, db: str) -> None:
        self.name, self.root, self.db = name, root, db
        self.client: Any = None
        self.versions: dict[str, int] = {}

    async def start(self) -> None:
        from tests.lsp.rawclient import RawClient

        self.client = await RawClient.start(self.root, self.db)
        await self._verify(repair=False)  # waits for the first index

    async def _verify(self, repair: bool) -> dict[str, Any]:
        args = [{"repair": True, "thorough": True} if repair else {"thorough": True}]
        answer = await self.client.request(
            "workspace/executeCommand", {"command": "isgraph.verify", "arguments": args}, 300
        )
        if "error" in answer:
            raise AssertionError(f"isgraph.verify failed: {answer['error']}")
        return dict(answer["result"])

    async def step(self, changes: Changes) -> StepResult:
        for path, content in changes.items():
            uri = (self.root / path).as_uri()
            if self.name == "didchange" and content is not None and (self.root / path).exists():
                v = self.versions.get(path, 0) + 1
                self.versions[path] = v
                text = content.decode("utf-8", errors="replace")
                if v == 1:
                    doc = {"uri": uri, "languageId": "plaintext", "version": v, "text": text}
                    await self.client.notify("textDocument/didOpen", {"textDocument": doc})
                else:
                    await self.client.notify(
                        "textDocument/didChange",
                        {
                            "textDocument": {"uri": uri, "version": v},
                            "contentChanges": [{"text": text}],
                        },
                    )
                continue
            if path in self.versions:  # a buffer held for a file that goes: closed first
                del self.versions[path]
                await self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            write_disk(self.root, {path: content})
        await asyncio.sleep(self.SETTLE_S)
        first = await self._verify(repair=False)
        if not first["drift"]:
            return StepResult(0, first["by_category"], [], 0)
        for delay in (self.RECHECK_S, 2 * self.RECHECK_S):  # a late watcher event (a loaded
            await asyncio.sleep(delay)  # machine) is latency, not drift: drift persists
            if not (await self._verify(repair=False))["drift"]:
                return StepResult(0, first["by_category"], [], 0)
        second = await self._verify(repair=True)
        listed = second["rows"]
        rows = [
            f"{r['category']} {' '.join(r['key'])}: {r['stored']} -> {r['clean']}"
            for r in listed[:12]
        ]
        return StepResult(second["differences"], _by_category(listed), rows, second["remaining"])

    async def close(self) -> None:
        if self.client is None:
            return
        try:
            await self.client.request("shutdown", None)
            await self.client.notify("exit", None)
            await asyncio.wait_for(self.client.proc.wait(), 30)
        finally:
            self.client.reader.cancel()
            if self.client.proc.returncode is None:
                self.client.proc.kill()


@dataclass(slots=True)
class Tally:
    """Steps run and differences found, per route and edit kind."""

    steps: Counter[str] = field(default_factory=Counter)  # "route op" -> steps
    failing: Counter[str] = field(default_factory=Counter)  # "route op" -> steps with a diff
    rows: Counter[str] = field(default_factory=Counter)  # "route category" -> rows
    reproductions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.steps.values())

    @property
    def failed(self) -> int:
        return sum(self.failing.values())

    def record(self) -> dict[str, Any]:
        return {
            "steps": self.total,
            "steps_with_differences": self.failed,
            "by_route_op": {k: [self.steps[k], self.failing[k]] for k in sorted(self.steps)},
            "rows_by_route_category": dict(sorted(self.rows.items())),
            "reproductions": self.reproductions,
        }


async def run(
    route: StoreRoute | ServerRoute,
    tree: Tree,
    seed: int,
    steps: int,
    tally: Tally,
    report: Callable[[str], None] = print,
    after_step: Callable[[], None] | None = None,
) -> None:
    """``steps`` edits drawn from ``tree`` (seeded), each applied through ``route`` and
    compared with a clean index."""
    for i in range(1, steps + 1):
        edit = tree.draw()
        result = await route.step(edit.changes)
        key = f"{route.name} {edit.op}"
        tally.steps[key] += 1
        if result.differences:
            tally.failing[key] += 1
            for cat, n in result.by_category.items():
                tally.rows[f"{route.name} {cat}"] += n
            repro = (
                f"route={route.name} seed={seed} step={i} edit={edit.op}: {edit.what}\n  "
                + "\n  ".join(result.rows)
                + (f"\n  (not repaired: {result.remaining} remain)" if result.remaining else "")
            )
            tally.reproductions.append(repro)
            report(repro)
        if after_step is not None:
            after_step()
