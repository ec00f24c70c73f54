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
    assert (cfg.db, cfg.jobs, cfg.excludes) == ("sqlite:x.db", 3, ("gen/",))
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
