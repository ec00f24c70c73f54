"""What a change to Python resolution did, rule by rule, against basedpyright.

    python bench/resolution_diff.py CORPUS --before DB --after DB [--sample N] [--seed S]
                                    [--timeout S] [--json]

CORPUS is the directory both stores indexed (the same files: for the stdlib, the copy
``resolution_check.py`` / ``_common.prepare_corpus`` makes). Every workspace `calls` edge whose
verdict (target, label) differs between the two stores — or that only the second has — is put
under the rule that most likely changed it (``rule_of``: from the edge's candidates before and
after, and its source line; an attribution, not a proof), up to N per rule are sampled (seeded),
basedpyright is asked at each site as ``resolution_check.py`` asks it, and per rule it prints:
edges changed, and of the sampled sites where the reference answers with an entity of the index,
how many the *before* verdict and the *after* verdict agree with (a resolved edge that agrees;
an unresolved one never does), and how many changed from right to wrong. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from isgraph.index.extract.python import BUILTIN_METHOD_NAMES
from isgraph.model import Edge, Entity
from isgraph.store.connect import open_store
from resolution_check import (
    Mapper,
    Site,
    agrees,
    ask_all,
    locate_all,
    python_reference,
    workspace_calls,
)

Key = tuple[str, str, str]  # (path, src, target_name)


def rule_of(before: Edge | None, after: Edge, lines: list[str]) -> str:
    """The rule of issue 15 (Python patterns) that most likely changed this edge."""
    if before is None:
        return "bare decorator (new edge)"
    ac, bc = after.candidates, before.candidates
    text = after.target_name
    if any(c.startswith(">") and "|" in c for c in ac):
        return "super(Mid, self)"
    if any(".__enter__." in c for c in (*ac, *bc)):
        return "with through a factory"
    if any(c.startswith("&") for c in ac) and not any(c.startswith("&") for c in bc):
        return "union (x if c else y)"
    if any(c.startswith("~^") for c in ac) and not any(c.startswith("~^") for c in bc):
        return "a or B()"
    if text.startswith("type(") or "copy" in text or "type(" in text:
        return "copy(self) / type(self)"
    dropped = {c[1:] for c in bc if c.startswith("?")} - {c[1:] for c in ac if c.startswith("?")}
    if dropped & BUILTIN_METHOD_NAMES:
        return "no guess for built-in method names"
    if ac == bc:
        if any(c.lstrip("~").startswith((">", "^", "&")) for c in ac):
            return "C3 method resolution order"
        return "instances held (re-export, class attribute)"
    if text[:1] in "bBrRuUfF" and "(" in text:
        return "string-prefix receivers"
    recv = text.split(".", 1)[0]
    above = "\n".join(lines[max(0, after.line - 40) : after.line])
    if f"isinstance({recv}," in above.replace(" ", ""):
        return "isinstance narrowing"
    return "other extractor change (classes defined later, class attributes)"


def verdict(e: Edge | None) -> tuple[str | None, str]:
    return (e.dst, str(e.resolution)) if e is not None else (None, "absent")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--sample", type=int, default=40, help="sites per rule")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    root = args.corpus.resolve()
    old, new = open_store(args.before), open_store(args.after)
    try:
        before = {(e.path, e.src, e.target_name): e for e in workspace_calls(old, "python")}
        after = workspace_calls(new, "python")
        groups: dict[str, list[tuple[Edge | None, Edge]]] = defaultdict(list)
        files: dict[str, list[str]] = {}
        for e in after:
            b = before.get((e.path, e.src, e.target_name))
            if verdict(b) == verdict(e):
                continue
            if e.path not in files:
                files[e.path] = (root / e.path).read_text("utf-8", "replace").splitlines()
            groups[rule_of(b, e, files[e.path])].append((b, e))
        rng = random.Random(args.seed)
        sites: list[tuple[str, Edge | None, Site]] = []
        for rule, pairs in sorted(groups.items()):
            for b, e in rng.sample(pairs, min(args.sample, len(pairs))):
                sites.append((rule, b, Site(e, uniform=True)))
        locate_all([s for _, _, s in sites], root)
        with tempfile.TemporaryDirectory(prefix="isgraph-resdiff-") as tmp:
            spec, note = python_reference(root, Path(tmp), None)
            spec = dataclasses.replace(spec, timeout_ms=int(args.timeout * 1000))
            asyncio.run(
                ask_all(
                    spec,
                    root,
                    [s for _, _, s in sites],
                    Mapper(new, root),
                    args.timeout,
                    not args.json,
                )
            )
        keys = {k for _, _, s in sites for k in s.ref_keys}
        keys |= {e.dst for _, b, s in sites for e in (b, s.edge) if e is not None and e.dst}
        ents: dict[str, Entity] = {**old.get_entities(keys), **new.get_entities(keys)}
    finally:
        old.close()
        new.close()
    out: dict[str, Any] = {"reference": note, "rules": {}}
    for rule, pairs in sorted(groups.items()):
        judged = [
            (b, s)
            for r, b, s in sites
            if r == rule and s.ref in ("workspace", "stub", "both") and s.ref_keys
        ]
        ok_before = sum(1 for b, s in judged if b is not None and agrees(b.dst, s.ref_keys, ents))
        ok_after = sum(1 for _, s in judged if agrees(s.edge.dst, s.ref_keys, ents))
        worse = sum(
            1
            for b, s in judged
            if b is not None
            and agrees(b.dst, s.ref_keys, ents)
            and not agrees(s.edge.dst, s.ref_keys, ents)
        )
        labels: dict[str, int] = defaultdict(int)
        for b, e in pairs:
            labels[f"{verdict(b)[1]}->{e.resolution}"] += 1
        wrong = [
            f"{s.edge.path}:{s.line} {s.edge.target_name} -> {s.edge.dst or '-'} "
            f"(reference: {s.ref_where})"
            for _, s in judged
            if not agrees(s.edge.dst, s.ref_keys, ents)
        ]
        out["rules"][rule] = {
            "after_disagrees": wrong[:5],
            "changed": len(pairs),
            "transitions": dict(labels),
            "judged": len(judged),
            "agree_before": ok_before,
            "agree_after": ok_after,
            "right_to_wrong": worse,
        }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"reference: {note}")
    print(f"{'rule':48} {'changed':>8} {'judged':>7} {'before':>7} {'after':>7} {'worse':>6}")
    for rule, r in out["rules"].items():
        print(
            f"{rule:48} {r['changed']:>8} {r['judged']:>7} {r['agree_before']:>7} "
            f"{r['agree_after']:>7} {r['right_to_wrong']:>6}"
        )
        print(f"{'':48} {', '.join(f'{k} {v}' for k, v in sorted(r['transitions'].items()))}")
        for ex in r["after_disagrees"]:
            print(f"{'':48} after disagrees: {ex}")


if __name__ == "__main__":
    main()
