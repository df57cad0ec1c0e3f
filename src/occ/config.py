"""occ's one ``Settings`` object: ``OCC_*`` environment variables, then ``occ.toml``, then defaults.

Built once at the edge (``occ.cli``, ``create_app``) and passed down; no module reads the
environment itself. Nested values use ``__`` in environment variables, e.g.
``OCC_KPIS__SLA__SLA_MINUTES=45``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from occ.contracts.exports import BusinessHours
from occ.contracts.forecast import ForecastConfig
from occ.contracts.kpis import KpiConfig
from occ.contracts.outcomes import OutcomeConfig
from occ.contracts.secrets import DEFAULT_PLACEHOLDERS, register_secrets
from occ.errors import ConfigError

__all__ = ["DEFAULT_DB_DIR", "Settings", "load_settings"]

DEFAULT_DB_DIR = ".occ"
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


class Settings(BaseSettings):
    """Every setting occ reads; secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="OCC_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the primary store; default sqlite file .occ/occ.db",
    )
    shop_domain: str | None = Field(
        default=None, description="Shop domain, when not given by the source (shop.json)"
    )
    refresh_interval_minutes: int = Field(
        default=60, ge=1, description="Age after which a tile's data is marked stale"
    )
    demo_seed: int = Field(default=7, description="Seed of the deterministic demo store")
    kpis: KpiConfig = Field(default_factory=KpiConfig, description="KPI thresholds and windows")
    sla_business_hours: dict[int, BusinessHours] = Field(
        default_factory=dict,
        description="Per Chatwoot inbox id: the business hours (IANA timezone, weekly hours, "
        "holidays) during which the conversation exports' SLA clock runs; other inboxes 24/7",
    )
    forecast: ForecastConfig = Field(
        default_factory=ForecastConfig, description="Forecast method, horizon and interval"
    )
    shopify_shop: str | None = Field(default=None, description="Shopify shop (name.myshopify.com)")
    shopify_api_version: str = Field(default="2025-10", description="Admin API version")
    shopify_access_token: SecretStr | None = Field(default=None, description="Admin API token")
    shopify_client_id: str | None = Field(
        default=None, description="Shopify app client id (client-credentials grant)"
    )
    shopify_client_secret: SecretStr | None = Field(
        default=None, description="Shopify app client secret (client-credentials grant)"
    )
    shopify_base_url: str | None = Field(
        default=None,
        description="Base URL of the Admin API instead of https://SHOP (a proxy, a local server)",
    )
    shopify_lookback_days: int = Field(
        default=90, ge=1, description="How far back the first order sync reads"
    )
    shopify_bulk_threshold: int = Field(
        default=10_000,
        ge=0,
        description="Orders to read above which a first sync or backfill uses a bulk operation",
    )
    shopify_page_size: int = Field(
        default=25, ge=1, le=250, description="Orders per page of the paged orders query"
    )
    chatwoot_url: str | None = Field(default=None, description="Chatwoot base URL")
    chatwoot_account_id: int | None = Field(default=None, description="Chatwoot account id")
    chatwoot_api_token: SecretStr | None = Field(default=None, description="Chatwoot API token")
    chatwoot_requests_per_minute: int = Field(
        default=60, ge=1, description="Most requests per minute occ sends to Chatwoot"
    )
    ga4_property_id: str | None = Field(default=None, description="GA4 property id (digits)")
    ga4_credentials_file: Path | None = Field(
        default=None, description="GA4 service-account key file (JSON)"
    )
    ga4_base_url: str | None = Field(
        default=None, description="GA4 Data API endpoint instead of Google's (a local server)"
    )
    ga4_requests_per_minute: int = Field(
        default=20, ge=1, description="Most runReport requests per minute occ sends to GA4"
    )
    ga4_days: int = Field(default=21, ge=14, description="Days of landing-page sessions to read")
    http_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Timeout of every upstream HTTP request"
    )
    http_max_attempts: int = Field(
        default=5, ge=1, description="Attempts per upstream request before giving up"
    )
    mirror_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the mirror database (Supabase/Postgres, or a SQLite file)",
    )
    sync_attempts_per_run: int = Field(
        default=3, ge=1, description="Attempts per outbox entry in one sync run"
    )
    sync_max_attempts: int = Field(
        default=10, ge=1, description="Total attempts after which an outbox entry is dead"
    )
    sync_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one mirror statement"
    )
    sync_batch_size: int = Field(default=200, ge=1, description="Outbox entries claimed at once")
    sync_failure_rate_alert: float = Field(
        default=0.05, ge=0, le=1, description="Sync failure rate above which an alert is raised"
    )
    sync_p95_ms_alert: float = Field(
        default=1000.0, gt=0, description="Sync p95 duration (ms) above which an alert is raised"
    )
    parity_threshold_pct: float = Field(
        default=1.0, ge=0, description="Count difference (%) parity tolerates per scope/type"
    )
    evidence_retention_days: int = Field(
        default=30, ge=1, description="Days raw upstream pages are kept as evidence"
    )
    worker_sync_seconds: float = Field(
        default=60.0, gt=0, description="Seconds between two decision and fact syncs of occ worker"
    )
    worker_refresh_minutes: float = Field(
        default=60.0,
        gt=0,
        description="Minutes between two live refreshes of the configured sources (occ worker)",
    )
    worker_health_minutes: float = Field(
        default=60.0,
        gt=0,
        description="Minutes between two sync-health checks (sync-log analysis of that window, "
        "parity) of occ worker",
    )
    worker_lock_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Lease of a worker's job lock, renewed while the job runs; a crashed "
        "worker's job is taken over after it",
    )
    web_host: str = Field(
        default="127.0.0.1", description="Address occ serve binds (loopback unless you mean it)"
    )
    web_port: int = Field(default=8000, ge=1, le=65535, description="Port occ serve listens on")
    web_secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies (default: one generated and kept in the store)",
    )
    web_secure_cookies: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (behind TLS)"
    )
    web_session_hours: float = Field(
        default=12.0, gt=0, description="Hours a dashboard session lasts"
    )
    signin_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per e-mail or client before a lockout"
    )
    signin_lockout_minutes: float = Field(
        default=15.0, gt=0, description="Window in which failed sign-ins are counted"
    )
    outcomes: OutcomeConfig = Field(
        default_factory=OutcomeConfig,
        description="Days after an approved action its KPI is checked (sales 7, cx 3, traffic 7, "
        "fulfillment 3; inventory: kpis.inventory.lead_time_days) and hours a due check waits "
        "for a refresh before it is recorded as not enough data (grace_hours 24)",
    )
    action_quiet_hours: float = Field(
        default=24.0,
        ge=0,
        description="Hours a decided action (same KPI, kind and entity) stays out of the queue",
    )
    packets_dir: Path | None = Field(
        default=None,
        description="Folder of the weekly insight packets, one sub-folder per week "
        "(default .occ/packets)",
    )
    insights_weekday: int = Field(
        default=1,
        ge=1,
        le=7,
        description="ISO weekday (1 = Monday) on which occ worker writes last week's packet",
    )
    insights_hour: int = Field(
        default=6, ge=0, le=23, description="Hour, in the shop's time zone, of that packet"
    )

    knowledge_dir: Path | None = Field(
        default=None, description="Folder of the knowledge index (default .occ/knowledge)"
    )
    knowledge_sources: list[str] = Field(
        default_factory=list,
        description="Folders, NDJSON files and site URLs every knowledge build indexes",
    )
    knowledge_max_bytes: int = Field(
        default=5_000_000, ge=1, description="Largest file, page or NDJSON line indexed (bytes)"
    )
    knowledge_dense: Literal["auto", "off"] = Field(
        default="auto",
        description="Dense embeddings: auto (when the dense extra is installed) or off",
    )
    knowledge_threads: int = Field(
        default=1, ge=1, description="Threads of the local embedding model (onnxruntime)"
    )
    crawl_requests_per_second: float = Field(
        default=2.0, gt=0, description="Most requests per second a site crawl sends"
    )
    crawl_concurrency: int = Field(default=2, ge=1, description="Requests a crawl has in flight")
    crawl_max_pages: int = Field(default=1000, ge=1, description="Most pages one crawl fetches")
    crawl_max_redirects: int = Field(
        default=5, ge=0, description="Redirects a crawl follows before giving a page up"
    )
    worker_knowledge_cron: str = Field(
        default="30 0 * * *",
        description="Crontab (UTC) of occ worker's re-crawl and incremental knowledge rebuild",
    )

    secrets_placeholders: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PLACEHOLDERS),
        description="Regular expressions of values occ secrets scan never reports "
        "(placeholders such as <...>, ${VAR}, changeme)",
    )

    stale_violation_rate: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Share of a stream's records breaking the contract in one refresh above "
        "which its KPIs are shown stale and raise no anomaly",
    )
    stale_after_hours: dict[str, float] = Field(
        default_factory=lambda: {"shopify": 48.0, "chatwoot": 72.0, "ga4": 96.0},
        description="Per source (shopify, chatwoot, ga4): hours after which its newest record "
        "makes its KPIs stale (they raise no anomaly)",
    )

    def secret_values(self) -> list[str]:
        """Every secret these settings hold: tokens, keys, and the databases' passwords."""
        values = [
            field.get_secret_value()
            for field in (getattr(self, name) for name in type(self).model_fields)
            if isinstance(field, SecretStr)
        ]
        if self.database_url:
            values.append(self.database_url)
            match = _URL_PASSWORD.search(self.database_url)
            if match:
                values.append(match.group(1))
        if self.mirror_url is not None:
            match = _URL_PASSWORD.search(self.mirror_url.get_secret_value())
            if match:
                values.append(match.group(1))
        return [v for v in values if v]

    def resolved_knowledge_dir(self, cwd: Path | None = None) -> Path:
        """Where the knowledge index lives: ``knowledge_dir`` or ``.occ/knowledge``."""
        if self.knowledge_dir is not None:
            return self.knowledge_dir
        return (cwd or Path.cwd()) / DEFAULT_DB_DIR / "knowledge"

    def resolved_packets_dir(self, cwd: Path | None = None) -> Path:
        """Where weekly packets are kept: ``packets_dir`` or ``.occ/packets``."""
        if self.packets_dir is not None:
            return self.packets_dir
        return (cwd or Path.cwd()) / DEFAULT_DB_DIR / "packets"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_toml_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    def resolved_database_url(self, cwd: Path | None = None) -> str:
        """The primary store's URL; the default SQLite file lives under ``.occ/``."""
        if self.database_url:
            return self.database_url
        base = (cwd or Path.cwd()) / DEFAULT_DB_DIR
        return f"sqlite:///{base / 'occ.db'}"


def load_settings(toml_path: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from the environment, ``occ.toml`` (if present) and ``overrides``.

    Raises:
        ConfigError: a setting has a wrong value or the TOML file cannot be parsed.
    """
    path = toml_path if toml_path is not None else Path("occ.toml")
    if toml_path is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass an existing occ.toml")
    kwargs: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if path.is_file():
        kwargs["_toml_file"] = path
    try:
        settings = Settings(**kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ConfigError(
            f"setting {where}: {first['msg']} (check OCC_{where.upper().replace('.', '__')}"
            " or occ.toml)"
        ) from None
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"cannot read {path}: {exc}; fix the TOML syntax") from None
    register_secrets(settings.secret_values())
    return settings
