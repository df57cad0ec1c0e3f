"""Generate a large recorded-responses folder (DESIGN.md layout) for the refresh benchmark.

The default size is the issue's target store: 1,000,000 orders over 90 days (2.5 line items
on average, each with a variant id and a SKU), 100,000 variants, 50,000 Chatwoot
conversations with about 4 messages each (Unix-second timestamps) and one GA4 runReport
response of 2,000 landing pages x 90 days. Shapes are those of ``occ.sources.demo`` and
``tests/builders.py``; the JSON is written with f-strings because ``json.dumps`` of a million
nested dicts would dominate the generation time.

The folder is cached under ``benchmarks/out/`` (gitignored): a ``COMPLETE`` marker holding
the parameters is written last, so an interrupted generation is redone, never reused.

Run: ``python benchmarks/generate_store.py`` (prints the folder and its file sizes).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
_DAY = 86_400
_SHOP = {"shopDomain": "bench-shop.myshopify.com", "currencyCode": "USD", "ianaTimezone": "UTC"}


@dataclass(frozen=True)
class StoreSize:
    """How big the generated store is."""

    orders: int = 1_000_000
    variants: int = 100_000
    conversations: int = 50_000
    pages: int = 2_000
    days: int = 90
    seed: int = 2026

    @property
    def name(self) -> str:
        return f"store-o{self.orders}-v{self.variants}-c{self.conversations}-p{self.pages}"


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _status(rng: random.Random, age: int) -> str:
    """A fulfillment status plausible for an order ``age`` seconds old."""
    draw = rng.random()
    if draw < 0.01:
        return "FULFILLMENT_NOT_REQUIRED"
    if age < _DAY:
        return "UNFULFILLED" if draw < 0.6 else "IN_PROGRESS" if draw < 0.7 else "FULFILLED"
    if age < 3 * _DAY:
        return "UNFULFILLED" if draw < 0.06 else "ON_HOLD" if draw < 0.07 else "FULFILLED"
    return "UNFULFILLED" if draw < 0.012 else "RESTOCKED" if draw < 0.02 else "FULFILLED"


def _write_orders(path: Path, size: StoreSize, rng: random.Random, now_ts: int) -> int:
    """Orders, oldest first, uniform over the history; returns the number of line items."""
    prices = [rng.randint(199, 19_999) for _ in range(size.variants)]
    span = size.days * _DAY
    # 1..4 lines, mean 2.5: exactly the 2.5 M line items for 1 M orders on average.
    line_counts = (1, 2, 3, 4)
    lines_written = 0
    created = sorted(now_ts - rng.randrange(span) for _ in range(size.orders))
    with path.open("w", encoding="utf-8") as out:
        chunk: list[str] = []
        for index, created_ts in enumerate(created):
            number = 5_000_000_000_000 + index
            lines: list[str] = []
            total = 0
            for position in range(rng.choice(line_counts)):
                # A popular head (a third of the lines) over a long tail of rarely sold variants.
                variant = (
                    int(rng.paretovariate(1.2) * 7) % size.variants + 1
                    if rng.random() < 0.33
                    else rng.randrange(size.variants) + 1
                )
                quantity = 1 if rng.random() < 0.8 else rng.randint(2, 6)
                cents = prices[variant - 1] * quantity
                total += cents
                lines.append(
                    f'{{"id":"gid://shopify/LineItem/{number * 10 + position}",'
                    f'"sku":"SKU-{variant:06d}","title":"Product {variant} - Default",'
                    f'"quantity":{quantity},'
                    f'"variant":{{"id":"gid://shopify/ProductVariant/{variant}"}},'
                    f'"discountedTotalSet":{{"shopMoney":{{"amount":"{_amount(cents)}",'
                    f'"currencyCode":"USD"}}}}}}'
                )
            lines_written += len(lines)
            total += 0 if total >= 9_900 else 995
            age = now_ts - created_ts
            cancelled = rng.random() < 0.012
            status = _status(rng, age)
            updated_ts = min(created_ts + rng.randint(60, 30 * 3600), now_ts)
            cancelled_at = f'"{_iso(updated_ts)}"' if cancelled else "null"
            test = "true" if rng.random() < 0.001 else "false"
            items = (
                '{"nodes":[' + ",".join(lines) + "]}"
                if index % 2
                else '{"edges":[' + ",".join(f'{{"node":{line}}}' for line in lines) + "]}"
            )
            chunk.append(
                f'{{"id":"gid://shopify/Order/{number}","name":"#{1001 + index}",'
                f'"createdAt":"{_iso(created_ts)}","updatedAt":"{_iso(updated_ts)}",'
                f'"cancelledAt":{cancelled_at},"test":{test},'
                f'"displayFulfillmentStatus":"{status}","displayFinancialStatus":"PAID",'
                f'"currentTotalPriceSet":{{"shopMoney":{{"amount":"{_amount(total)}",'
                f'"currencyCode":"USD"}}}},"lineItems":{items}}}\n'
            )
            if len(chunk) >= 10_000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
    return lines_written


def _write_variants(path: Path, size: StoreSize, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        for variant in range(1, size.variants + 1):
            draw = rng.random()
            tracked = "false" if draw < 0.03 else "true"
            policy = "CONTINUE" if 0.03 <= draw < 0.08 else "DENY"
            out.write(
                f'{{"id":"gid://shopify/ProductVariant/{variant}","sku":"SKU-{variant:06d}",'
                f'"title":"Default","price":"{_amount(rng.randint(199, 19_999))}",'
                f'"inventoryQuantity":{rng.randint(-2, 400)},"inventoryPolicy":"{policy}",'
                f'"inventoryItem":{{"tracked":{tracked}}},'
                f'"product":{{"title":"Product {variant}","handle":"product-{variant}"}}}}\n'
            )


def _write_chatwoot(folder: Path, size: StoreSize, rng: random.Random, now_ts: int) -> int:
    """Conversations and their messages (about 4 each); returns the number of messages."""
    statuses = ("open", "pending", "resolved", "snoozed")
    weights = (30, 10, 55, 5)
    message_id = 90_000_000
    with (
        (folder / "chatwoot" / "conversations.jsonl").open("w", encoding="utf-8") as conv_out,
        (folder / "chatwoot" / "messages.jsonl").open("w", encoding="utf-8") as msg_out,
    ):
        for conversation in range(1, size.conversations + 1):
            status = rng.choices(statuses, weights)[0]
            # Most threads are days old; a tenth are from the last hours (some breach the SLA).
            recent = rng.random() < 0.1
            age = rng.randint(600, 6 * 3600) if recent else rng.randrange(size.days * _DAY)
            start = now_ts - age
            moment = start
            for turn in range(max(1, round(rng.gauss(4, 1.2)))):
                kind = 0 if turn % 2 == 0 else rng.choices((1, 2, 3), (80, 10, 10))[0]
                private = "true" if kind == 1 and rng.random() < 0.05 else "false"
                who = "Customer" if kind == 0 else "Agent"
                message_id += 1
                msg_out.write(
                    f'{{"id":{message_id},"conversation_id":{conversation},'
                    f'"message_type":{kind},"created_at":{min(moment, now_ts)},'
                    f'"private":{private},"content":"message {message_id}",'
                    f'"sender_type":"{"Contact" if kind == 0 else "User"}",'
                    f'"sender":{{"name":"{who} {conversation}"}}}}\n'
                )
                moment += rng.randint(60, 3 * 3600)
            labels = '["priority"]' if rng.random() < 0.1 else "[]"
            conv_out.write(
                f'{{"id":{conversation},"status":"{status}","labels":{labels},'
                f'"created_at":{start},"last_activity_at":{min(moment, now_ts)},'
                f'"meta":{{"sender":{{"name":"Customer {conversation}"}}}}}}\n'
            )
    return message_id - 90_000_000


def _write_ga4(path: Path, size: StoreSize, rng: random.Random, today: date) -> int:
    rows = []
    for page in range(size.pages):
        base = 5 + int(rng.paretovariate(1.5) * 20)
        drop = 0.5 if page % 50 == 0 else 1.0  # a few pages halve in the current week
        for offset in range(1, size.days + 1):
            day = today - timedelta(days=offset)
            sessions = max(0, round(base * (drop if offset <= 7 else 1.0) * rng.uniform(0.8, 1.2)))
            rows.append(
                f'{{"dimensionValues":[{{"value":"/pages/p-{page}"}},'
                f'{{"value":"{day.strftime("%Y%m%d")}"}}],'
                f'"metricValues":[{{"value":"{sessions}"}}]}}'
            )
    path.write_text(
        '{"dimensionHeaders":[{"name":"landingPage"},{"name":"date"}],'
        '"metricHeaders":[{"name":"sessions","type":"TYPE_INTEGER"}],'
        f'"rows":[{",".join(rows)}],"rowCount":{len(rows)},"kind":"analyticsData#runReport"}}\n',
        encoding="utf-8",
    )
    return len(rows)


def generate_store(folder: Path, size: StoreSize, now: datetime = NOW) -> dict[str, int]:
    """Write the recorded-responses folder of ``size`` ending at ``now``; returns counts."""
    for sub in ("shopify", "chatwoot", "ga4"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "shop.json").write_text(json.dumps(_SHOP) + "\n", encoding="utf-8")
    rng = random.Random(size.seed)
    now_ts = int(now.timestamp())
    counts = {"orders": size.orders, "variants": size.variants}
    counts["line_items"] = _write_orders(folder / "shopify" / "orders.jsonl", size, rng, now_ts)
    _write_variants(folder / "shopify" / "variants.jsonl", size, rng)
    counts["conversations"] = size.conversations
    counts["messages"] = _write_chatwoot(folder, size, rng, now_ts)
    counts["page_days"] = _write_ga4(
        folder / "ga4" / "landing_pages.json", size, rng, now.astimezone(UTC).date()
    )
    return counts


def cached_store(size: StoreSize | None = None, now: datetime = NOW) -> tuple[Path, dict[str, int]]:
    """The generated folder for ``size``, generated once and reused while its marker matches."""
    size = size or StoreSize()
    folder = OUT / size.name
    marker = folder / "COMPLETE"
    expected = {**asdict(size), "now": now.isoformat()}
    if marker.is_file():
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if recorded.get("size") == expected:
            return folder, recorded["counts"]
        marker.unlink()
    counts = generate_store(folder, size, now)
    marker.write_text(json.dumps({"size": expected, "counts": counts}), encoding="utf-8")
    return folder, counts


def main() -> None:
    folder, counts = cached_store()
    print(folder)
    print(counts)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size / 1e6:10.1f} MB  {path.relative_to(folder)}")


if __name__ == "__main__":
    main()
