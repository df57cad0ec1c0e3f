"""Order numbers in support messages and product handles in landing pages."""

from __future__ import annotations

import pytest

from occ.metrics.mentions import (
    mentioned_numbers,
    order_index,
    order_mentions,
    order_number,
    product_handle,
)

INDEX = order_index(["#1001", "#1002", "HR1040", "#1077-US"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my order #1001?", ["#1001"]),
        ("order 1002 and ORDER NO. 1001 please", ["#1002", "#1001"]),
        ("Order number: 1040 never came", ["HR1040"]),
        ("about #1077-US", ["#1077-US"]),
        ("order #1001, again #1001", ["#1001"]),
        ("call me at 555-1001 ext 1002", []),
        ("order 9999 is not ours", []),
        ("", []),
        (None, []),
    ],
)
def test_order_mentions_resolve_against_the_shops_own_names(
    text: str | None, expected: list[str]
) -> None:
    assert order_mentions(text, INDEX) == expected


def test_mentioned_numbers_are_candidates_before_resolution() -> None:
    assert mentioned_numbers("order 0042 or #1001, order #1001 again") == ["42", "1001"]
    assert mentioned_numbers(None) == []


def test_order_number_is_the_longest_digit_run() -> None:
    assert order_number("#1077-US") == "1077"
    assert order_number("HR-2-100045") == "100045"
    assert order_number("draft") is None


@pytest.mark.parametrize(
    ("page", "handle"),
    [
        ("/products/an-6-fitting", "an-6-fitting"),
        ("/en-us/products/AN-6-Fitting?variant=1", "an-6-fitting"),
        ("/collections/fittings/products/an-6-fitting", "an-6-fitting"),
        ("https://shop.example/products/ptfe%20hose#reviews", "ptfe hose"),
        ("/collections/fittings", None),
        ("/", None),
    ],
)
def test_product_handle_of_a_landing_page(page: str, handle: str | None) -> None:
    assert product_handle(page) == handle
