"""Many `isgraph index` processes writing one PostgreSQL database at once (real subprocesses).

Sharded writers of one repo, and writers of different repos, must end with exactly what a
single process writes: no lost, duplicated or half-written file, the same edges and verdicts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from isgraph.index.partition import shard_of
from tests.pg import admin, pg_url
from tests.pipeline.conftest import cli_items, cli_json, write_tree


def corpus(modules: int = 36, tag: str = "") -> dict[str, str]:
    """A package whose modules import, call and inherit across files (shallow chains, so
    every verdict is reachable within the resolver's rounds)."""
    files = {"pkg/__init__.py": f"from .m0 import C0 as Root{tag}\n"}
    for i in range(modules):
        prev = (i - 1) % modules
        files[f"pkg/m{i}.py"] = f"""
            from pkg.m{prev} import C{prev}, f{prev}
            from . import m{(i + 7) % modules} as other


            class C{i}(C{prev} if {i} else object):
                def run{i}(self):
                    return self.helper{i}() + f{prev}()

                def helper{i}(self):
                    return other.f{(i + 7) % modules}()


            def f{i}():
                g{i}()
                return C{i}().run{i}()


            def g{i}():
                return len([{tag!r}])
            """
    return files


def index_cmd(root: Path, url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "isgraph",
        "index",
        str(root),
        "--db",
        url,
        "--json",
        "-j",
        "1",
        "--quiet",
        *extra,
    ]


def run_all(cmds: list[list[str]]) -> list[str]:
    """Start every command at once; wait for all; their stdout (each must succeed)."""
    env = {**os.environ, "ISGRAPH_SHARD_WAIT_S": "60"}  # a dead peer fails fast
    env.pop("ISGRAPH_DB", None)
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for c in cmds
    ]
    outs = []
    for p, c in zip(procs, cmds, strict=True):
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"{c} exited {p.returncode}\n{out}\n{err}"
        outs.append(out)
    return outs


def snapshot(schema: str, repo: str) -> dict[str, Any]:
    """Everything stored for a repo, in a comparable form."""
    with admin() as conn:
        conn.execute(f"SET search_path TO {schema}")
        q: dict[str, str] = {
            # the workspace's files (typeshed stubs are indexed on demand beside them)
            "files": "SELECT path, hash, status, entities, edges FROM file WHERE repo = %s"
            " AND path NOT LIKE '@%%'",
            "entities": "SELECT key, path, kind, fqn, start_line FROM entity WHERE repo = %s",
            "edges": "SELECT src, kind, target_name, path, line, dst, resolution, candidates"
            " FROM edge WHERE repo = %s",
            "aliases": "SELECT fqn, path, target FROM alias WHERE repo = %s",
            # entities per file as stored next to the count the file row promises
            "per_file": "SELECT f.path, f.entities, (SELECT count(*) FROM entity e"
            " WHERE e.repo = f.repo AND e.path = f.path) FROM file f WHERE f.repo = %s",
        }
        return {
            name: sorted(tuple(map(str, r)) for r in conn.execute(query, (repo,)))  # type: ignore[arg-type]
            for name, query in q.items()
        }


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_sharded_writers_equal_one_writer(tmp_path: Path, schema: str, shards: int) -> None:
    root = write_tree(tmp_path / "proj", corpus())
    owners = {shard_of(f"pkg/m{i}.py", shards) for i in range(36)}
    assert owners == set(range(1, shards + 1))  # every shard has work
    single = pg_url(schema=schema, repo="single")
    sharded = pg_url(schema=schema, repo="sharded")
    one = cli_json("index", str(root), "--db", single, "-j", "1", "--quiet")
    assert one["errors"] == [] and one["files"] == 37
    outs = run_all(
        [
            index_cmd(root, sharded, "--shard", f"{i}/{shards}", "--shard-run", "t1")
            for i in range(1, shards + 1)
        ]
    )
    assert sum(int(o.split('"parsed": ')[1].split(",")[0]) for o in outs) == 37
    want, got = snapshot(schema, "single"), snapshot(schema, "sharded")
    assert got["per_file"] == want["per_file"]
    assert all(r[1] == r[2] for r in got["per_file"])  # no half-written file
    for name in ("files", "entities", "edges", "aliases"):
        assert got[name] == want[name], name
    assert cli_json("stats", "--db", sharded) == cli_json("stats", "--db", single)


def test_shard_removes_only_its_own_files(tmp_path: Path, schema: str) -> None:
    root = write_tree(tmp_path / "proj", corpus(12))
    url = pg_url(schema=schema, repo="r")
    run_all([index_cmd(root, url, "--shard", f"{i}/2") for i in (1, 2)])
    gone = {f"pkg/m{i}.py" for i in range(12)}
    for rel in gone:
        (root / rel).unlink()
    mine = {p for p in gone if shard_of(p, 2) == 1}
    summary = cli_json("index", str(root), "--db", url, "--shard", "1/2", "-j", "1", "--quiet")
    assert summary["removed"] == len(mine)
    left = {r[0] for r in snapshot(schema, "r")["files"]}
    assert left == {"pkg/__init__.py"} | (gone - mine)
    cli_json("index", str(root), "--db", url, "--shard", "2/2", "-j", "1", "--quiet")
    assert {r[0] for r in snapshot(schema, "r")["files"]} == {"pkg/__init__.py"}


def test_different_repos_at_once(tmp_path: Path, schema: str) -> None:
    """Writers of different repos share tables (and key spellings) without touching each
    other's rows."""
    a = write_tree(tmp_path / "a", corpus(20, tag="a"))
    b = write_tree(tmp_path / "b", corpus(20, tag="b"))
    run_all(
        [index_cmd(a, pg_url(schema=schema, repo=r)) for r in ("a1", "a2")]
        + [index_cmd(b, pg_url(schema=schema, repo="b1"))]
    )
    cli_json("index", str(b), "--db", pg_url(schema=schema, repo="b2"), "-j", "1", "--quiet")
    assert snapshot(schema, "a1") == snapshot(schema, "a2")
    assert snapshot(schema, "b1") == snapshot(schema, "b2")
    assert snapshot(schema, "a1")["entities"] == snapshot(schema, "b1")["entities"]  # same keys
    assert snapshot(schema, "a1")["files"] != snapshot(schema, "b1")["files"]  # other hashes


def test_default_repo_is_the_directory_name(tmp_path: Path, schema: str) -> None:
    root = write_tree(tmp_path / "myproject", corpus(3))
    url = pg_url(schema=schema, repo="x").replace("&repo=x", "")
    summary = cli_json("index", str(root), "--db", url, "-j", "1", "--quiet")
    assert summary["files"] == 4
    assert len(snapshot(schema, "myproject")["files"]) == 4
    rows = cli_items("search", "run1", "--db", url, cwd=root)  # queried from the root
    assert rows[0]["qualname"] == "C1.run1"  # (then subsequence matches in stubs)


def test_bad_shard_values(tmp_path: Path) -> None:
    env = {**os.environ}
    for bad in ("0/2", "3/2", "x", "1/0", "1/"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "isgraph",
                "index",
                str(tmp_path),
                "--db",
                "mem",
                "--shard",
                bad,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert proc.returncode == 2 and "--shard must be I/N" in proc.stderr, bad
        assert "Traceback" not in proc.stderr


def test_incremental_sharded_rerun_equals_one_writer(tmp_path: Path, schema: str) -> None:
    """Edit, add and delete files, then rerun: 3 shards again store what one process does."""
    root = write_tree(tmp_path / "proj", corpus(24))
    single = pg_url(schema=schema, repo="single")
    sharded = pg_url(schema=schema, repo="sharded")

    def both(run: str) -> None:
        cli_json("index", str(root), "--db", single, "-j", "1", "--quiet")
        run_all(
            [index_cmd(root, sharded, "--shard", f"{i}/3", "--shard-run", run) for i in (1, 2, 3)]
        )

    # caller.py (shard 1 of 3) calls m7.h7, which does not exist yet: unresolved
    (root / "pkg/caller.py").write_text("from pkg import m7\n\n\ndef c():\n    m7.h7()\n")
    assert shard_of("pkg/caller.py", 3) != shard_of("pkg/m7.py", 3)
    both("r1")
    # m7 (another shard) now defines h7: the caller's shard must re-resolve its edge
    with (root / "pkg/m7.py").open("a") as fh:
        fh.write("\n\ndef h7():\n    return 7\n")
    (root / "pkg/m3.py").unlink()
    text = (root / "pkg/m5.py").read_text().replace("def g5", "def g5_renamed")
    (root / "pkg/m5.py").write_text(text)
    (root / "pkg/extra.py").write_text("from pkg.m5 import f5\n\n\ndef later():\n    f5()\n")
    both("r2")
    want, got = snapshot(schema, "single"), snapshot(schema, "sharded")
    assert got == want
    assert "pkg/m3.py" not in {r[0] for r in got["files"]}
    assert (
        "python:function:pkg/caller.py:c",
        "calls",
        "m7.h7",
        "pkg/caller.py",
        "5",
        "python:function:pkg/m7.py:h7",
        "exact",
        "['=pkg.m7.h7']",
    ) in got["edges"]
    assert cli_json("stats", "--db", sharded) == cli_json("stats", "--db", single)
