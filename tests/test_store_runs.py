"""Which shop a command means when it names none: the newest finished refresh's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from occ.errors import NotFoundError
from occ.store.records import upsert_shop
from occ.store.runs import finish_run, newest_shop, resolve_shop, start_run

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _refresh(engine: Engine, shop: str, as_of: datetime, *, finished: bool = True) -> None:
    with engine.begin() as connection:
        upsert_shop(connection, shop, "USD", "UTC", NOW)
        run_id = start_run(connection, shop, "demo", as_of, NOW)
        if finished:
            finish_run(connection, run_id, "ok", {}, NOW)


def test_the_newest_shop_is_the_last_finished_refresh(engine: Engine) -> None:
    with engine.connect() as connection:
        assert newest_shop(connection) is None
        with pytest.raises(NotFoundError, match="no refresh recorded yet; run `occ refresh`"):
            resolve_shop(connection, None)

    _refresh(engine, "first.myshopify.com", NOW)
    # A later backfill of another shop (an earlier as_of) still makes it the newest refresh.
    _refresh(engine, "second.myshopify.com", NOW - timedelta(days=30))
    _refresh(engine, "running.myshopify.com", NOW, finished=False)
    with engine.connect() as connection:
        assert newest_shop(connection) == "second.myshopify.com"
        assert resolve_shop(connection, None).domain == "second.myshopify.com"
        assert resolve_shop(connection, "first.myshopify.com").domain == "first.myshopify.com"
