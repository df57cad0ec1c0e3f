"""Settings: environment, occ.toml, precedence, and one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from occ.cli import app
from occ.config import load_settings
from occ.errors import ConfigError


def test_defaults_follow_kpis_md() -> None:
    settings = load_settings()
    assert settings.kpis.sales.thresholds.warning == 15
    assert settings.kpis.sla.sla_minutes == 60
    assert settings.kpis.sla.priority_sla_minutes == 30
    assert settings.kpis.traffic.noise_floor == 10
    assert settings.kpis.inventory.cover_target_days == 30
    assert settings.kpis.fulfillment.processing_hours == 24
    assert settings.resolved_database_url(Path("/srv/x")) == "sqlite:////srv/x/.occ/occ.db"


def test_environment_beats_toml_and_overrides_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "occ.toml").write_text(
        'database_url = "sqlite:///from-toml.db"\n'
        "[kpis.sla]\nsla_minutes = 45\npriority_sla_minutes = 20\n"
    )
    monkeypatch.setenv("OCC_KPIS__SLA__SLA_MINUTES", "90")
    settings = load_settings()
    assert settings.kpis.sla.sla_minutes == 90
    assert settings.kpis.sla.priority_sla_minutes == 20
    assert settings.database_url == "sqlite:///from-toml.db"
    assert load_settings(database_url="sqlite:///cli.db").database_url == "sqlite:///cli.db"


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCC_SHOPIFY_ACCESS_TOKEN", "shpat_0123456789abcdef0123456789abcdef")
    settings = load_settings()
    assert "shpat_" not in repr(settings) and "shpat_" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[kpis.sla]\nsla_minutes = 0\n", "setting kpis.sla.sla_minutes"),
        ("[kpis.sla\n", "fix the TOML syntax"),
        ("unknown_thing = 1\n", "setting unknown_thing"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(
    runner: CliRunner, tmp_path: Path, toml: str, message: str
) -> None:
    (tmp_path / "occ.toml").write_text(toml)
    result = runner.invoke(app, ["kpis"])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_explicit_config_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["kpis", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_bad_env_value_raises_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCC_REFRESH_INTERVAL_MINUTES", "soon")
    with pytest.raises(ConfigError, match="refresh_interval_minutes"):
        load_settings()
