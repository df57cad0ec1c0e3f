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

__all__ = ["STREAM_FILES", "recorded_payloads"]

STREAM_FILES: dict[str, str] = {
    "shopify.orders": "shopify/orders.jsonl",
    "shopify.variants": "shopify/variants.jsonl",
    "chatwoot.conversations": "chatwoot/conversations.jsonl",
    "chatwoot.messages": "chatwoot/messages.jsonl",
    "ga4.landing_pages": "ga4/landing_pages.json",
}


def _decode(raw: bytes, location: str) -> RawRecord:
    try:
        return RawRecord(location, raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return RawRecord(location, raw.decode("utf-8", "replace"), error=f"not UTF-8 text: {exc}")


def _unreadable(path: Path, exc: OSError) -> InputFileError:
    return InputFileError(f"cannot read {path}: {exc.strerror}; check the file and its permissions")


def _jsonl(path: Path, name: str) -> Iterator[RawRecord]:
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield _decode(line.rstrip(b"\r\n"), f"{name}:{number}")
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _whole(path: Path, name: str) -> Iterator[RawRecord]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    yield _decode(raw, name)


def recorded_payloads(folder: Path) -> SourcePayloads:
    """Open a recorded-responses folder; files are read lazily, line by line.

    Raises:
        InputFileError: the folder does not exist or is not a folder.
    """
    if not folder.is_dir():
        raise InputFileError(
            f"recorded-responses folder {folder} does not exist; pass --source dir:PATH "
            "with a folder laid out as in DESIGN.md"
        )
    shop_path = folder / "shop.json"
    try:
        shop = _decode(shop_path.read_bytes(), "shop.json") if shop_path.is_file() else None
    except OSError as exc:
        raise _unreadable(shop_path, exc) from exc
    streams: dict[str, Iterable[RawRecord] | None] = {}
    for stream, name in STREAM_FILES.items():
        path = folder / name
        if not path.is_file():
            streams[stream] = None
        elif name.endswith(".jsonl"):
            streams[stream] = _jsonl(path, name)
        else:
            streams[stream] = _whole(path, name)
    return SourcePayloads(kind="recorded", name=f"dir:{folder}", shop=shop, streams=streams)
