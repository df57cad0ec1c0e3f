"""The recorded-responses folder (../shared/DESIGN.md): upstream answers replayed from files.

```
DIR/shop.json                      {"shopDomain", "currencyCode", "ianaTimezone"}
DIR/shopify/orders.jsonl           one Admin GraphQL Order node per line
DIR/shopify/variants.jsonl         one ProductVariant node per line
DIR/chatwoot/conversations.jsonl   one conversation object per line
DIR/chatwoot/messages.jsonl        one message object per line
DIR/ga4/landing_pages.json         one GA4 runReport response
```
A file that is absent means that stream was not recorded: it is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from occ.errors import InputFileError
from occ.sources.base import RawRecord, SourcePayloads
from occ.sources.jsonl import JsonLinesFile, decode_record, unreadable_file

__all__ = ["STREAM_FILES", "recorded_payloads"]

STREAM_FILES: dict[str, str] = {
    "shopify.orders": "shopify/orders.jsonl",
    "shopify.variants": "shopify/variants.jsonl",
    "chatwoot.conversations": "chatwoot/conversations.jsonl",
    "chatwoot.messages": "chatwoot/messages.jsonl",
    "ga4.landing_pages": "ga4/landing_pages.json",
}


def _whole(path: Path, name: str) -> Iterator[RawRecord]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise unreadable_file(path, exc) from exc
    yield decode_record(raw, name)


def _recorded_file(path: Path) -> Path | None:
    """``path`` when it was recorded, None when absent; a folder in its place is a mistake."""
    if path.is_file():
        return path
    if path.exists():
        raise InputFileError(
            f"{path} is a folder, not a file; put the recorded file there or remove the folder"
        )
    return None


def recorded_payloads(folder: Path) -> SourcePayloads:
    """Open a recorded-responses folder; files are read lazily, line by line.

    Raises:
        InputFileError: the folder does not exist or is not a folder, or one of its files is.
    """
    if not folder.is_dir():
        raise InputFileError(
            f"recorded-responses folder {folder} does not exist; pass --source dir:PATH "
            "with a folder laid out as in DESIGN.md"
        )
    shop_path = folder / "shop.json"
    try:
        recorded_shop = _recorded_file(shop_path)
        shop = None if recorded_shop is None else decode_record(shop_path.read_bytes(), "shop.json")
    except OSError as exc:
        raise unreadable_file(shop_path, exc) from exc
    streams: dict[str, Iterable[RawRecord] | None] = {}
    for stream, name in STREAM_FILES.items():
        path = folder / name
        if _recorded_file(path) is None:
            streams[stream] = None
        elif name.endswith(".jsonl"):
            streams[stream] = JsonLinesFile(path, name)
        else:
            streams[stream] = _whole(path, name)
    return SourcePayloads(kind="recorded", name=f"dir:{folder}", shop=shop, streams=streams)
