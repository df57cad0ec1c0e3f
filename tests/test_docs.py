"""The README documents every command, every setting and every KPI (as sqlite-utils does)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup

from occ.cli import app
from occ.config import Settings
from occ.refresh.compute import KPI_FACTS

README = (Path(__file__).parents[1] / "README.md").read_text()
ROOT = typer.main.get_command(app)


def _command_paths(group: TyperGroup, prefix: str = "") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            paths.extend(_command_paths(command, f"{prefix}{name} "))
        else:
            paths.append(f"{prefix}{name}")
    return sorted(paths)


assert isinstance(ROOT, TyperGroup)
COMMANDS = _command_paths(ROOT)


def test_readme_starts_with_the_two_commands() -> None:
    block = README.split("```")[1].strip().splitlines()
    commands = [line for line in block if line and not line.startswith("bash")]
    assert len(commands) == 2
    assert commands[0].endswith("occ demo")
    assert "scripts/check" in commands[1] or "pytest" in commands[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"`occ {command}" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    found = ROOT
    for part in command.split():
        assert isinstance(found, TyperGroup)
        found = found.commands[part]
    assert found.help and len(found.help) > 20


@pytest.mark.parametrize("setting", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(setting: str) -> None:
    assert f"| `{setting}` |" in README
    assert Settings.model_fields[setting].description


@pytest.mark.parametrize(("kpi", "fact_type"), sorted(KPI_FACTS.items()))
def test_every_kpi_is_in_the_readme(kpi: str, fact_type: str) -> None:
    assert f"| {kpi} | `{fact_type}` |" in README
