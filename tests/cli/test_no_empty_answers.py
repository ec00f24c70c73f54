"""No silent empty answers: a query against a store that does not hold the asked workspace (a
PostgreSQL database without that repository, an embedded store of another root) says so and
exits 2 instead of answering zeros; a symbol that matches nothing says so, with the nearest
names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.pg import drop_schema, pg_url, require_postgres, server_url, unique_schema
from tests.pipeline.conftest import PROJECT, run_cli, write_tree


def test_postgres_without_the_repo_names_the_ones_it_has(tmp_path: Path) -> None:
    require_postgres()
    schema = unique_schema()
    proj = write_tree(tmp_path / "proj", PROJECT)
    try:
        run_cli("index", str(proj), "--db", pg_url(schema=schema, repo="alpha"), "--quiet")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        sep = "&" if "?" in server_url() else "?"
        url = f"{server_url()}{sep}schema={schema}"  # no repo: the directory's name, "elsewhere"
        done = run_cli("stats", "--db", url, "--json", cwd=elsewhere, check=False)
        assert done.returncode == 2
        rec = json.loads(done.stdout)
        assert rec["repo"] == "elsewhere" and rec["known_repos"] == ["alpha"]
        assert "holds no repository 'elsewhere'" in done.stderr and "alpha" in done.stderr
        ok = run_cli("stats", "--db", f"{url}&repo=alpha", "--json", cwd=elsewhere)
        assert json.loads(ok.stdout)["files"] == 4
    finally:
        drop_schema(schema)


def test_an_embedded_store_of_another_root_is_refused(tmp_path: Path) -> None:
    one = write_tree(tmp_path / "one", PROJECT)
    two = tmp_path / "two"
    shutil.copytree(one, two)
    db = f"sqlite:{tmp_path / 'one.db'}"
    run_cli("index", str(one), "--db", db, "--quiet")
    done = run_cli("symbols", "--db", db, "--root", str(two), "--json", check=False)
    assert done.returncode == 2
    rec = json.loads(done.stdout)
    assert rec["store_root"] == str(one.resolve()) and rec["root"] == str(two.resolve())
    assert f"indexes {one.resolve()}" in done.stderr
    assert run_cli("symbols", "--db", db, "--root", str(one), "--json").returncode == 0
    empty = f"sqlite:{tmp_path / 'empty.db'}"  # never indexed: no answer is an answer
    done = run_cli("stats", "--db", empty, "--root", str(one), check=False)
    assert done.returncode == 2 and "holds no index" in done.stderr


def test_no_such_symbol_names_the_nearest(tmp_path: Path) -> None:
    proj = write_tree(tmp_path / "proj", PROJECT)
    run_cli("index", str(proj), "--quiet")
    done = run_cli("callers", "Engin", "--root", str(proj), check=False)
    assert done.returncode == 2
    assert "no such symbol 'Engin'" in done.stderr and "nearest: Engine" in done.stderr
    done = run_cli("impact", "helperz", "--root", str(proj), check=False)
    assert done.returncode == 2 and "Base.helper" in done.stderr
