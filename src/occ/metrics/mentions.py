"""Entities named in free text and in URLs: order numbers in support messages, product
handles in landing-page paths.

Shopify names orders ``#1001`` by default; a shop may add a prefix or a suffix (``HR1001``,
``#1001-US``). Customers write ``#1001``, ``order 1001``, ``order no. 1001`` or the full name.
A mention is resolved against the store's own order names by their number, so that a number
that is not one of the shop's orders (a phone extension, a part number) links nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

__all__ = [
    "mentioned_numbers",
    "order_index",
    "order_mentions",
    "order_number",
    "product_handle",
]

_REFERENCE = re.compile(
    r"(?:#|\border\s*(?:no\.?|nr\.?|num\.?|number|id)?\s*[:#]?\s*)(\d{3,12})\b", re.IGNORECASE
)
_DIGITS = re.compile(r"\d+")
_PRODUCT_PATH = re.compile(r"(?:^|/)products/([^/?#]+)")


def order_number(name: str) -> str | None:
    """The number of an order name: its longest run of digits (``#1001-US`` → ``1001``)."""
    runs = _DIGITS.findall(name)
    return max(runs, key=len).lstrip("0") or "0" if runs else None


def order_index(names: Iterable[str]) -> dict[str, str]:
    """``{number: order name}`` for the shop's order names (the first name wins a clash)."""
    index: dict[str, str] = {}
    for name in names:
        number = order_number(name)
        if number is not None:
            index.setdefault(number, name)
    return index


def mentioned_numbers(text: str | None) -> list[str]:
    """The order numbers ``text`` may mention (``#1001``, ``order 1001``), not yet resolved."""
    if not text:
        return []
    return list(dict.fromkeys(m.group(1).lstrip("0") or "0" for m in _REFERENCE.finditer(text)))


def order_mentions(text: str | None, index: Mapping[str, str]) -> list[str]:
    """The shop's order names that ``text`` mentions, in order of first mention."""
    names = (index.get(number) for number in mentioned_numbers(text))
    return list(dict.fromkeys(name for name in names if name is not None))


def product_handle(landing_page: str) -> str | None:
    """The product handle of a landing-page path or URL, else None.

    ``/products/an-6-fitting``, ``/en-us/products/an-6-fitting?variant=1``,
    ``/collections/fittings/products/an-6-fitting`` and full URLs all give ``an-6-fitting``.
    """
    path = urlsplit(landing_page).path if "://" in landing_page else landing_page
    match = _PRODUCT_PATH.search(path.split("?", 1)[0].split("#", 1)[0])
    return unquote(match.group(1)).lower() if match else None
