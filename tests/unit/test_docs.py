"""The reference docs name everything the code offers: a CLI option or a configuration key
added without documenting it fails here, naming what is missing."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import typer

from isgraph.cli import app
from isgraph.config import Config

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cli_reference_names_every_command_and_option() -> None:
    text = (DOCS / "cli.md").read_text()
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    assert commands, "the CLI has no sub-commands?"
    missing: list[str] = []
    for name, command in sorted(commands.items()):
        if f"isgraph {name}" not in text:
            missing.append(f"command {name}")
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help" and f"`{opt}" not in text:
                    missing.append(f"{name} {opt}")
    for param in group.params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help" and opt not in text:
                missing.append(f"isgraph {opt}")
    assert not missing, f"docs/cli.md does not mention: {', '.join(missing)}"


def test_configuration_reference_names_every_key() -> None:
    text = (DOCS / "configuration.md").read_text()
    keys = [f.name for f in fields(Config) if f.name != "shard"]  # shard is a run flag
    missing = [k for k in keys if f"| `{k}` |" not in text]
    assert not missing, f"docs/configuration.md has no row for: {', '.join(missing)}"
