"""The alert backtest preview as the settings page and its JSON twin ask for it.

Form and query strings in (empty fields are absent), the last weeks of stored history when
no dates are given, then the very job ``occ alerts backtest`` runs
(:func:`occ.refresh.replay.run_backtest`), so the page, the API and the CLI agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from occ.config import Settings
from occ.errors import ConfigError, NotFoundError
from occ.refresh.replay import (
    REPLAYABLE,
    Backtest,
    backtest_query,
    check_replayable,
    default_range,
    run_backtest,
)
from occ.store.runs import resolve_shop

__all__ = ["PROFILE_CHOICES", "PreviewForm", "default_ranges", "preview_page", "run_preview"]

PROFILE_CHOICES = [
    ("", "— (the thresholds typed)"),
    ("current", "current"),
    ("sensitive", "sensitive: ×0.75, alerts sooner"),
    ("quiet", "quiet: ×1.5, alerts later"),
]


@dataclass(frozen=True, slots=True)
class PreviewForm:
    """A preview request as typed: every field a string, empty when left blank."""

    kpi: str
    start: str = ""
    end: str = ""
    warning: str = ""
    critical: str = ""
    profile: str = ""
    band: bool = True


def _number(value: str, name: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a number; give e.g. 25 or -0.3") from None


def default_ranges(engine: Engine, shop: str | None = None) -> dict[str, tuple[date, date]]:
    """Each replayable KPI's default days: the last weeks of its stored history (none for a
    KPI without history, nothing at all before the first refresh)."""
    with engine.connect() as connection:
        try:
            info = resolve_shop(connection, shop)
        except NotFoundError:
            return {}
        ranges = {kpi: default_range(connection, info, kpi) for kpi in REPLAYABLE}
    return {kpi: days for kpi, days in ranges.items() if days is not None}


def run_preview(
    engine: Engine, settings: Settings, form: PreviewForm, shop: str | None = None
) -> Backtest:
    """Check ``form`` and replay it.

    Raises:
        ConfigError: a field is wrong (see :func:`occ.refresh.replay.backtest_query`).
        NotFoundError: no refresh yet, an unknown shop, or no history of the KPI to default
            the dates to.
    """
    warning = _number(form.warning, "warning")
    critical = _number(form.critical, "critical")
    start, end = form.start.strip(), form.end.strip()
    if not (start and end):
        check_replayable(form.kpi)
        days = default_ranges(engine, shop).get(form.kpi)
        if days is None:
            raise NotFoundError(
                f"no stored history of {form.kpi} to replay yet; run occ refresh or occ demo"
            )
        start, end = start or days[0].isoformat(), end or days[1].isoformat()
    query = backtest_query(
        form.kpi,
        start,
        end,
        settings.kpis,
        warning=warning,
        critical=critical,
        profile=form.profile.strip() or None,
    )
    return run_backtest(engine, query, settings, shop=shop, band=form.band)


def preview_page(form: PreviewForm, result: Backtest) -> dict[str, Any]:
    """What the page shows of ``result``: the weeks side by side, their totals, the CLI
    command and the JSON API query that give the same numbers."""
    weeks = list(zip(result.proposed, result.current, strict=True))
    bands = [p.outside_band for p, _ in weeks]
    totals = {
        "days": sum(p.days for p, _ in weeks),
        "warnings": sum(p.warnings for p, _ in weeks),
        "criticals": sum(p.criticals for p, _ in weeks),
        "now_warnings": sum(c.warnings for _, c in weeks),
        "now_criticals": sum(c.criticals for _, c in weeks),
        "outside_band": None if None in bands else sum(b or 0 for b in bands),
    }
    start, end = result.query.start.isoformat(), result.query.end.isoformat()
    given = {
        name: value.strip()
        for name, value in (
            ("warning", form.warning),
            ("critical", form.critical),
            ("profile", form.profile),
        )
        if value.strip()
    }
    command = f"occ alerts backtest --kpi {form.kpi} --from {start} --to {end}"
    command += "".join(f" --{name} {value}" for name, value in given.items())
    api = {"kpi": form.kpi, "from": start, "to": end, **given}
    return {
        "weeks": weeks,
        "totals": totals,
        "cli_command": command + ("" if form.band else " --no-band"),
        "api_query": urlencode({**api, "band": "true" if form.band else "false"}),
    }
