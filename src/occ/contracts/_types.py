"""Shared field types for the upstream contracts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainValidator

__all__ = ["DecimalString", "EpochSeconds", "UtcDatetime", "to_utc"]


def to_utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime; naive values are refused."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp with a UTC offset")
    return moment.astimezone(UTC)


def _decimal_string(value: Any) -> Decimal:
    # Shopify sends money as a decimal *string*; a JSON number would already have
    # passed through a float, so it is refused rather than silently rounded.
    if not isinstance(value, str):
        raise ValueError("money as a decimal string")
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValueError("money as a decimal number") from None
    if not parsed.is_finite():
        raise ValueError("money as a finite decimal number")
    return parsed


DecimalString = Annotated[Decimal, BeforeValidator(_decimal_string)]
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


def _epoch_seconds(value: Any) -> int | float:
    # Chatwoot timestamps are numbers (Unix seconds); a string there is contract drift and is
    # never parsed, however date-like it looks.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a timestamp in Unix seconds (a number)")
    return value


EpochSeconds = Annotated[int | float, PlainValidator(_epoch_seconds)]
