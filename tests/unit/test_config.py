"""Configuration: sources, precedence and validation errors that name the culprit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from isgraph.config import DEFAULT_MAX_FILE_SIZE, ConfigError, load_config


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, env={})
    assert cfg.db is None and cfg.excludes == () and cfg.max_file_size == DEFAULT_MAX_FILE_SIZE
    assert cfg.jobs >= 1


def test_precedence_pyproject_dotfile_env_flags(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.isgraph]\ndb = "mem"\nexcludes = ["gen/"]\nmax-file-size = 10\n'
    )
    trust = {"ISGRAPH_TRUST_WORKSPACE": "1"}  # `db` from a workspace file needs trust
    cfg = load_config(tmp_path, env=trust)
    assert (cfg.db, cfg.excludes, cfg.max_file_size) == ("mem", ("gen/",), 10)
    (tmp_path / ".isgraph.toml").write_text('db = "sqlite:x.db"\njobs = 3\n')
    cfg = load_config(tmp_path, env=trust)
    # a relative path in a file is relative to that file (the root), not to the cwd
    assert (cfg.db, cfg.jobs, cfg.excludes) == (f"sqlite:{tmp_path.resolve()}/x.db", 3, ("gen/",))
    cfg = load_config(tmp_path, env={"ISGRAPH_DB": "rocksdb:r"})
    assert cfg.db == "rocksdb:r"
    assert cfg.with_overrides(db="mem", jobs=None).db == "mem"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dbb = 'mem'\n", "unknown key 'dbb'"),
        ("jobs = 'two'\n", "'jobs' must be int"),
        ("jobs = 0\n", "'jobs' must be >= 1"),
        ("excludes = [1]\n", "list of strings"),
        ("max_file_size = true\n", "must be int"),
        ("db = [\n", "invalid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".isgraph.toml").write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(tmp_path, env={})
    assert ".isgraph.toml" in str(err.value)


def test_cli_reports_bad_config(tmp_path: Path) -> None:
    from tests.pipeline.conftest import run_cli

    (tmp_path / ".isgraph.toml").write_text("jobs = 'x'\n")
    proc = run_cli("index", str(tmp_path), check=False)
    assert proc.returncode == 2 and "'jobs' must be int" in proc.stderr


def test_downstream_servers(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[[tool.isgraph.downstream]]\n"
        'name = "jedi"\ncommand = ["jedi-language-server"]\nlanguages = ["python"]\n'
        "timeout-ms = 800\n"
        "initialization_options = { markupKindPreferred = 'markdown' }\n"
    )
    untrusted = load_config(tmp_path, env={})  # a cloned repo cannot run programs
    assert untrusted.downstream == () and "'downstream' ignored" in untrusted.ignored[0]
    cfg = load_config(tmp_path, env={}, trusted=True)
    (jedi,) = cfg.downstream
    assert (jedi.name, jedi.command, jedi.languages, jedi.timeout_ms) == (
        "jedi",
        ("jedi-language-server",),
        ("python",),
        800,
    )
    assert jedi.initialization_options == {"markupKindPreferred": "markdown"}
    assert not cfg.enrich
    # .isgraph.toml's list replaces pyproject's (no merging of lists)
    (tmp_path / ".isgraph.toml").write_text(
        'enrich = true\n[[downstream]]\nname = "clangd"\ncommand = ["clangd"]\n'
        'languages = ["c", "cpp"]\nsettings = { a = 1 }\n'
    )
    cfg = load_config(tmp_path, env={}, trusted=True)
    assert [s.name for s in cfg.downstream] == ["clangd"] and cfg.enrich
    assert cfg.downstream[0].settings == {"a": 1} and cfg.downstream[0].timeout_ms == 1000


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "x"\nlanguages = ["python"]', "'command' must be a non-empty list"),
        ('name = "x"\ncommand = "x"\nlanguages = ["python"]', "'command' must be a non-empty"),
        ('name = "x"\ncommand = ["x"]\nlanguages = ["pyhton"]', "unknown language 'pyhton'"),
        ('name = "x"\ncommand = ["x"]\nlanguages = ["python"]\ntimeout_ms = 0', ">= 1"),
        ('name = "x"\ncommand = ["x"]\nlanguages = ["python"]\ntimout = 5', "unknown key"),
        ('command = ["x"]\nlanguages = ["python"]', "'name' must be a non-empty string"),
    ],
)
def test_downstream_errors_name_the_server(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / ".isgraph.toml").write_text(f"[[downstream]]\n{table}\n")
    with pytest.raises(ConfigError, match=message) as err:
        load_config(tmp_path, env={})
    assert ".isgraph.toml" in str(err.value)


def test_downstream_from_initialization_options() -> None:
    from isgraph.proxy.lsp import specs_from_options

    assert specs_from_options({"db": "mem"}) is None
    assert specs_from_options({"downstream": []}) == ()
    two = [{"name": "a", "command": ["a"], "languages": ["go"]}] * 2
    with pytest.raises(ConfigError, match="duplicate downstream name"):
        specs_from_options({"downstream": two})
    with pytest.raises(ConfigError, match="must be a list"):
        specs_from_options({"downstream": {"name": "a"}})


def test_untrusted_workspace_files_cannot_choose_the_store(tmp_path: Path) -> None:
    """A cloned repo's config may tune indexing but not say where data goes (docs/security.md)."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.isgraph]\ndb = "postgresql://evil.example/x"\nexcludes = ["gen/"]\n'
    )
    (tmp_path / ".isgraph.toml").write_text('db = "sqlite:/etc/x.db"\njobs = 2\n')
    cfg = load_config(tmp_path, env={})
    assert cfg.db is None and cfg.excludes == ("gen/",) and cfg.jobs == 2
    assert len(cfg.ignored) == 2 and all("'db' ignored" in w for w in cfg.ignored)
    assert "ISGRAPH_TRUST_WORKSPACE" in cfg.ignored[0]
    assert load_config(tmp_path, env={}, trusted=True).db == "sqlite:/etc/x.db"
    assert load_config(tmp_path, env={"ISGRAPH_TRUST_WORKSPACE": "yes"}).ignored == ()
    assert load_config(tmp_path, env={"ISGRAPH_TRUST_WORKSPACE": "1"}, trusted=False).db is None
    # the user's own environment is always honoured
    assert load_config(tmp_path, env={"ISGRAPH_DB": "mem"}).db == "mem"


def test_untrusted_workspace_jobs_are_capped_at_the_cpu_count(tmp_path: Path) -> None:
    (tmp_path / ".isgraph.toml").write_text("jobs = 100000\n")
    cpus = os.cpu_count() or 1
    cfg = load_config(tmp_path, env={})
    assert cfg.jobs == cpus and "capped" in cfg.ignored[0]
    assert load_config(tmp_path, env={}, trusted=True).jobs == 100000
