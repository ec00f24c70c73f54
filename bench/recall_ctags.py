"""Definitions recall against universal-ctags (Pygments' lexer for Swift, which Debian's ctags
cannot parse), and the share of call edges resolved.

    python bench/recall_ctags.py [CORPUS] [--language L ...] [--db CONN] [--jobs N] [--misses N]

Indexes CORPUS (a copy of it, without site-packages/__pycache__) into a fresh store unless
--db names an existing one for the same copy, runs `ctags -R` on the same files, and matches,
per language, ctags' definition tags of the kinds in ``CTAGS_KINDS`` (class / function /
member for Python; func / struct / interface / methodSpec for Go; ...) to isgraph's entities
of the mapped kinds on (path, line, name). Prints recall per language and kind (and how many
isgraph entities of those kinds ctags lacks), up to 20 misses per language (``--misses N``),
the lost-entity check (entities in the store == entities listed), and per language the share
of `calls` edges that are exact, inferred and unresolved. Languages default to those present in the
corpus. Figures, not assertions: exit code 0 unless a tool fails to run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import default_corpus, isgraph_cmd, prepare_corpus

_FN = {"function", "method"}
# isgraph language -> (ctags language, {ctags kind: isgraph kinds it may match})
CTAGS_KINDS: dict[str, tuple[str, dict[str, set[str]]]] = {
    "python": (
        "Python",
        {"class": {"class"}, "function": {"function"}, "member": {"method", "property"}},
    ),
    "javascript": (
        "JavaScript",
        # ctags calls an ES5 constructor function (`function X() {}` + `X.prototype.m`) and
        # an object literal bound to a name (`const config = {…}`) a class
        {
            "function": _FN,
            "class": {"class", "function", "constant"},
            "method": _FN,
            "generator": _FN,
        },
    ),
    "typescript": (
        "TypeScript",
        {
            "function": _FN,
            "class": {"class"},
            "method": _FN,
            "interface": {"interface"},
            "enum": {"enum"},
            "namespace": {"namespace"},
        },
    ),
    "go": (
        "Go",
        {
            "func": _FN,
            "struct": {"struct"},
            "interface": {"interface"},
            "methodSpec": {"method"},
            "type": {"type", "struct", "interface"},
        },
    ),
    "rust": (
        "Rust",
        {
            "function": _FN,
            "method": _FN,
            "struct": {"struct"},
            "interface": {"trait"},
            "enum": {"enum"},
            "module": {"module"},
            "typedef": {"type"},
            "macro": {"macro"},
        },
    ),
    "java": (
        "Java",
        {
            "class": {"class"},
            "interface": {"interface"},
            "enum": {"enum"},
            "method": {"method"},
            "annotation": {"interface"},
        },
    ),
    "c": (
        "C",
        {
            "function": _FN,
            "struct": {"struct"},
            "union": {"struct"},
            "enum": {"enum"},
            "typedef": {"type"},
        },
    ),
    "cpp": (
        "C++",
        {
            "function": _FN,
            "class": {"class"},
            "struct": {"struct"},
            "union": {"struct"},
            "enum": {"enum"},
            "namespace": {"namespace"},
            "typedef": {"type"},
        },
    ),
    "ruby": (
        "Ruby",
        {"class": {"class"}, "module": {"module"}, "method": _FN, "singletonMethod": _FN},
    ),
    "php": (
        "PHP",
        {
            "class": {"class"},
            "interface": {"interface"},
            "trait": {"trait"},
            "function": _FN,
            "enum": {"enum"},
        },
    ),
    "csharp": (
        "C#",
        {
            "class": {"class"},
            "interface": {"interface"},
            "struct": {"struct"},
            "enum": {"enum"},
            "method": {"method"},
            "namespace": {"namespace"},
        },
    ),
}
_CTAGS_LANG = {ctags: ours for ours, (ctags, _) in CTAGS_KINDS.items()}

# Languages Debian's universal-ctags (5.9) has no parser for: the reference is Pygments' lexer
# instead (regular expressions, independent of tree-sitter, as ctags is): the name it marks
# after `func` (Name.Function) or after `class`/`struct`/`enum`/`protocol`/`actor`
# (Name.Class; `extension` and `import` name existing types, not definitions).
# isgraph language -> (Pygments lexer, {reference kind: isgraph kinds it may match})
PYGMENTS_KINDS: dict[str, tuple[str, dict[str, set[str]]]] = {
    "swift": ("swift", {"func": _FN, "type": {"class", "struct", "enum", "interface"}}),
}
_TYPE_WORDS = {"class", "struct", "enum", "protocol", "actor"}
KINDS = {**CTAGS_KINDS, **PYGMENTS_KINDS}


def pygments_defs(root: Path, languages: list[str]) -> set[tuple[str, str, int, str, str]]:
    """(isgraph language, path, line, name, kind) of every definition Pygments' lexer marks
    in the files isgraph gives one of ``languages`` (see ``PYGMENTS_KINDS``)."""
    from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
    from pygments.token import Comment, Name, Text  # type: ignore[import-untyped]

    from isgraph.index.languages import language_for

    out = set()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        lang = language_for(rel) if path.is_file() else None
        if lang not in languages or lang not in PYGMENTS_KINDS:
            continue
        lexer = get_lexer_by_name(PYGMENTS_KINDS[lang][0])
        line, word = 1, ""
        for token, text in lexer.get_tokens(path.read_text(errors="replace")):
            if token in Name.Function and word == "func":
                out.add((lang, rel, line, text, "func"))
            elif token in Name.Class and word in _TYPE_WORDS:
                out.add((lang, rel, line, text, "type"))
            if text.strip() and token not in Comment and token not in Text:
                word = text.strip()
            line += text.count("\n")
    return out


def ctags_defs(root: Path, languages: list[str]) -> set[tuple[str, str, int, str, str]]:
    """(isgraph language, path, line, name, ctags kind) of every definition tag ctags finds.
    ctags maps files to languages by its own rules (`.h` is C++ to it): the language
    recorded is the one isgraph gives the file, so both sides are compared on the same files."""
    from isgraph.index.languages import language_for

    names = ",".join(CTAGS_KINDS[lang][0] for lang in languages if lang in CTAGS_KINDS)
    if not names:
        return set()
    proc = subprocess.run(
        [
            "ctags",
            "-R",
            f"--languages={names}",
            "--langmap=C:+.h",  # isgraph reads `.h` as C (languages.py); ctags as C++
            "--output-format=json",
            "--fields=+nK",
            "-f",
            "-",
            ".",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    out = set()
    # one tag per "\n"-terminated line; not splitlines(): a name may hold U+2028 (lodash)
    for line in proc.stdout.split("\n"):
        if not line:
            continue
        tag = json.loads(line)
        if tag.get("_type") != "tag":
            continue
        path = tag["path"].removeprefix("./")
        lang = language_for(path)
        if lang is None or lang not in CTAGS_KINDS:
            continue
        if tag.get("kind") not in CTAGS_KINDS[lang][1]:
            continue
        name = tag["name"].rsplit("::", 1)[-1].rsplit(".", 1)[-1].replace(" ", "")
        if name.startswith(("Anonymous", "__anon")):  # ctags names anonymous definitions
            continue
        out.add((lang, path, int(tag["line"]), name, tag["kind"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    ap.add_argument("--language", action="append", choices=sorted(KINDS))
    ap.add_argument("--db", help="an existing store of the same corpus copy")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--misses", type=int, default=20, help="misses listed per language")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="isgraph-recall-") as tmp:
        root = prepare_corpus(args.corpus, Path(tmp)) / "copy_1"
        db = args.db or f"sqlite:{Path(tmp) / 'store' / 'index.db'}"
        if not args.db:
            subprocess.run(
                isgraph_cmd("index", str(root), "--db", db, "--jobs", str(args.jobs), "--quiet"),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        from isgraph.store.connect import open_store

        store = open_store(db)
        ents = [e for e in store.find_entities() if not e.path.startswith("@")]
        # Entities extracted (each file row counts what its extraction gave) against entity
        # rows stored: a key collision would make the second number smaller.
        _, extracted, _ = store.counts()
        stored = store.stats(stubs=True).entities
        calls = [e for e in store.edges(kind="calls") if not e.path.startswith("@")]
        store.close()
        languages = args.language or sorted({e.language for e in ents} & set(KINDS))
        theirs = ctags_defs(root, languages) | pygments_defs(root, languages)

    print(
        f"corpus {args.corpus}: reference definitions {len(theirs)}, isgraph entities {len(ents)}"
    )
    for lang in languages:
        lang_calls = [c for c in calls if c.src.split(":", 1)[0] == lang]
        report(lang, ents, theirs, lang_calls, args.misses)
    print(f"lost entities: {extracted - stored} (extracted {extracted}, stored {stored})")
    if "python" in languages:
        builtins = (
            set(dir(__builtins__)) if not isinstance(__builtins__, dict) else set(__builtins__)
        )
        to_builtins = sum(
            1 for e in calls if e.resolution == "unresolved" and e.target_name in builtins
        )
        print(
            f"  of the unresolved, {to_builtins} are calls to names of Python builtins "
            "(rebound locally, or typeshed lacks them)"
        )


def report(lang: str, ents: list, theirs: set, calls: list, show: int = 20) -> None:  # type: ignore[type-arg]
    ckinds = KINDS[lang][1]
    reference = "ctags" if lang in CTAGS_KINDS else "pygments"
    # ctags gives the line of the name; an entity starts at its first modifier or annotation:
    # a tag matches an entity of a mapped kind, same path and name, whose lines contain it.
    ranges: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    files = set()
    for e in ents:
        if e.language == lang:
            files.add(e.path)
            name = e.name.rsplit(".", 1)[-1].replace(" ", "")  # `operator ()`
            ranges.setdefault((e.path, name), []).append((e.start_line, e.end_line, e.kind))
    mine = [t for t in theirs if t[0] == lang and t[1] in files]
    print(f"{lang}: {len(files)} files, {reference} definitions {len(mine)}")
    total_hit = total = 0
    misses: list[tuple[str, int, str, str]] = []
    for ckind, ikinds in ckinds.items():
        want = {(p, ln, n) for _, p, ln, n, k in mine if k == ckind}
        if not want:
            continue
        got = {
            (p, ln, n)
            for p, ln, n in want
            if any(a <= ln <= b and k in ikinds for a, b, k in ranges.get((p, n), ()))
        }
        hit = len(got)
        total_hit += hit
        total += len(want)
        misses += [(p, ln, n, ckind) for p, ln, n in sorted(want - got)]
        recall = 100 * hit / len(want)
        print(f"  {ckind:<15} {reference} {len(want):6d}  matched {hit:6d}  recall {recall:6.2f}%")
    print(f"  {lang} overall recall {100 * total_hit / max(1, total):.2f}%")
    for m in misses[:show]:
        print(f"    missed {m[3]} {m[2]} at {m[0]}:{m[1]}")
    by = Counter(e.resolution for e in calls)
    n = max(1, len(calls))
    print(
        f"  calls edges {len(calls)}: "
        + ", ".join(
            f"{k} {by.get(k, 0)} ({100 * by.get(k, 0) / n:.1f}%)"
            for k in ("exact", "inferred", "unresolved")
        )
        + f"; resolved {100 * (by['exact'] + by['inferred']) / n:.1f}%"
    )


if __name__ == "__main__":
    main()
