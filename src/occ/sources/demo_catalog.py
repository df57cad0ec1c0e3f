"""The demo store's fixed content: catalog, demand profile, pages, support scenarios, shapes.

Kept apart from :mod:`occ.sources.demo`, which draws orders, stock, conversations and sessions
from it, so that the generator reads as randomness and time and this module as what the store
is and how its things look in each upstream API's answers. Nothing here is random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "ACTIVITY_TEXTS",
    "AGENTS",
    "AGENT_REPLIES",
    "AT_RISK_SKUS",
    "CATALOG",
    "CONTACT_NAMES",
    "CONVERSATION_SCENARIOS",
    "CRITICAL_DROP_PAGE",
    "CUSTOMER_FOLLOW_UPS",
    "CUSTOMER_OPENERS",
    "CUSTOMER_THANKS",
    "DIURNAL_SHARE",
    "LABELS",
    "LANDING_PAGES",
    "ORDER_WEEKDAY",
    "PRIVATE_NOTES",
    "STATUS_BY_AGE",
    "TEAMS",
    "TEMPLATE_REPLIES",
    "TINY_DROP_PAGE",
    "TRAFFIC_WEEKDAY",
    "WAIT_MINUTES",
    "WARNING_DROP_PAGE",
    "CatalogVariant",
    "Event",
    "VariantKind",
    "conversation_json",
    "message_json",
    "variant_json",
]

VariantKind = Literal["fitting", "hose", "pump", "fuel", "clamp", "gauge", "tool", "gift_card"]


@dataclass(frozen=True, slots=True)
class CatalogVariant:
    """One sellable variant: identity, price in cents, popularity weight and stock policy."""

    variant_id: str
    sku: str | None
    title: str
    product_title: str
    handle: str
    price_cents: int
    kind: VariantKind
    weight: float
    policy: Literal["DENY", "CONTINUE"] = "DENY"
    tracked: bool = True


# Hose ends: 4 sizes × 3 angles are 12 products (handle an-6-hose-end-90 …) of 3 colours each.
_SIZES = {4: (995, 0.6), 6: (1195, 1.6), 8: (1495, 1.2), 10: (1895, 0.5)}  # price, popularity
_ANGLES: tuple[tuple[str, str, str, float, int], ...] = (
    ("Straight", "straight", "ST", 1.0, 0),
    ("45°", "45", "45", 0.55, 300),
    ("90°", "90", "90", 0.9, 400),
)
_COLOURS = (("Black", "BLK", 1.0, 0), ("Red/Blue", "RB", 0.7, 0), ("Polished", "POL", 0.3, 200))
_LENGTHS = ((3, 1.0), (6, 1.4), (10, 1.0), (20, 0.45))  # hose by the coil, feet and popularity

# The rest of the catalog. A product line is "title | handle | kind | popularity"; its variant
# lines, indented, are "title | sku | price [| share of the product's popularity, default 1]".
_TABLE = """
AN to ORB Adapter | an-to-orb-adapter | fitting | 1.0
  Straight / -6 AN to -6 ORB | HRP-ORB-ST-6-6 | 6.95 | 0.15
  Straight / -6 AN to -8 ORB | HRP-ORB-ST-6-8 | 7.95 | 0.2
  Straight / -8 AN to -8 ORB | HRP-ORB-ST-8-8 | 8.95 | 0.2
  Straight / -8 AN to -10 ORB | HRP-ORB-ST-8-10 | 9.95 | 0.12
  Straight / -10 AN to -10 ORB | HRP-ORB-ST-10-10 | 11.95 | 0.1
  Straight / -10 AN to -12 ORB | HRP-ORB-ST-10-12 | 12.95 | 0.06
  90° / -6 AN to -6 ORB | HRP-ORB-90-6-6 | 10.95 | 0.12
  90° / -6 AN to -8 ORB | HRP-ORB-90-6-8 | 11.95 | 0.14
  90° / -8 AN to -8 ORB | HRP-ORB-90-8-8 | 12.95 | 0.14
  90° / -10 AN to -10 ORB | HRP-ORB-90-10-10 | 15.95 | 0.08
AN to NPT Adapter | an-to-npt-adapter | fitting | 0.8
  -4 AN to 1/8 NPT | HRP-NPT-4-18 | 4.95
  -6 AN to 1/4 NPT | HRP-NPT-6-14 | 5.95
  -6 AN to 3/8 NPT | HRP-NPT-6-38 | 6.45
  -8 AN to 3/8 NPT | HRP-NPT-8-38 | 6.95
  -8 AN to 1/2 NPT | HRP-NPT-8-12 | 7.95
  -10 AN to 1/2 NPT | HRP-NPT-10-12 | 8.95
AN Union, Straight | an-union-straight | fitting | 0.35
  -4 AN | HRP-UNION-4 | 5.95
  -6 AN | HRP-UNION-6 | 6.95
  -8 AN | HRP-UNION-8 | 7.95
  -10 AN | HRP-UNION-10 | 9.95
AN Tee | an-tee | fitting | 0.3
  -6 AN | HRP-TEE-6 | 14.95
  -8 AN | HRP-TEE-8 | 16.95
  -10 AN | HRP-TEE-10 | 19.95
AN Cap | an-cap | fitting | 0.2
  -4 AN | HRP-CAP-4 | 4.50
  -6 AN | HRP-CAP-6 | 4.95
  -8 AN | HRP-CAP-8 | 5.95
  -10 AN | HRP-CAP-10 | 6.95
AN Bulkhead Fitting | an-bulkhead-fitting | fitting | 0.3
  -6 AN | HRP-BULK-6 | 12.95
  -8 AN | HRP-BULK-8 | 14.95
  -10 AN | HRP-BULK-10 | 17.95
AN Reducer | an-reducer | fitting | 0.3
  -8 AN to -6 AN | HRP-RED-8-6 | 8.95
  -10 AN to -8 AN | HRP-RED-10-8 | 9.95
  -10 AN to -6 AN | HRP-RED-10-6 | 10.95
255 LPH In-Tank Fuel Pump | in-tank-fuel-pump-255-lph | pump | 0.22
  Gasoline | HRP-FP255-GAS | 94.95
  E85 | HRP-FP255-E85 | 119.95
340 LPH In-Tank Fuel Pump | in-tank-fuel-pump-340-lph | pump | 0.2
  Gasoline | HRP-FP340-GAS | 149.95
  E85 | HRP-FP340-E85 | 169.95
450 LPH In-Tank Fuel Pump | in-tank-fuel-pump-450-lph | pump | 0.12
  Gasoline | HRP-FP450-GAS | 289.95
  E85 | HRP-FP450-E85 | 319.95
380 LPH Inline Fuel Pump | inline-fuel-pump-380-lph | pump | 0.07
  Black | HRP-FPIL380-BLK | 399.95
  Red | HRP-FPIL380-RED | 419.95
Drop-In Fuel Pump Hanger | fuel-pump-hanger-kit | pump | 0.1
  -6 AN outlet | HRP-HANGER-6 | 139.95
  -8 AN outlet | HRP-HANGER-8 | 149.95
  -10 AN outlet | HRP-HANGER-10 | 159.95
Fuel Pump Relay Wiring Kit | fuel-pump-wiring-kit | fuel | 0.25
  30 A | HRP-RELAY-30A | 44.95
  40 A | HRP-RELAY-40A | 49.95
Adjustable EFI Fuel Pressure Regulator, 30–70 psi | efi-fuel-pressure-regulator | fuel | 0.35
  -6 AN ports / Black | HRP-FPR-EFI-6-BLK | 89.95
  -6 AN ports / Red | HRP-FPR-EFI-6-RED | 89.95
  -8 AN ports / Black | HRP-FPR-EFI-8-BLK | 99.95
  -8 AN ports / Red | HRP-FPR-EFI-8-RED | 99.95
Carbureted Fuel Pressure Regulator, 4–9 psi | carb-fuel-pressure-regulator | fuel | 0.25
  Black | HRP-FPR-CARB-BLK | 69.95
  Polished | HRP-FPR-CARB-POL | 74.95
Return-Style Bypass Regulator, -10 AN | bypass-regulator-10an | fuel | 0.08
  Default Title | HRP-FPR-BYP-10 | 169.95
Inline Fuel Filter, 10 Micron | inline-fuel-filter-10-micron | fuel | 0.4
  -6 AN | HRP-FF10-6 | 44.95
  -8 AN | HRP-FF10-8 | 49.95
  -10 AN | HRP-FF10-10 | 54.95
Inline Pre-Filter, 100 Micron Stainless | inline-fuel-filter-100-micron | fuel | 0.3
  -6 AN | HRP-FF100-6 | 49.95
  -8 AN | HRP-FF100-8 | 54.95
  -10 AN | HRP-FF100-10 | 59.95
Replacement Filter Element | fuel-filter-element | fuel | 0.3
  10 micron paper | HRP-ELEM-10P | 12.95
  40 micron stainless | HRP-ELEM-40S | 19.95
  100 micron stainless | HRP-ELEM-100S | 24.95
Billet Line Clamp, Single | billet-line-clamp | clamp | 0.35
  -6 AN | HRP-CLAMP1-6 | 9.95
  -8 AN | HRP-CLAMP1-8 | 9.95
  -10 AN | HRP-CLAMP1-10 | 10.95
Dual Line Separator Clamp | dual-line-separator-clamp | clamp | 0.25
  -6 / -6 AN | HRP-CLAMP2-6-6 | 14.95
  -8 / -6 AN | HRP-CLAMP2-8-6 | 14.95
  -8 / -8 AN | HRP-CLAMP2-8-8 | 15.95
Stainless Hose Clamps, 10-pack | stainless-hose-clamp-10-pack | clamp | 0.3
  5/16 in | HRP-HCLAMP-516 | 5.95
  3/8 in | HRP-HCLAMP-38 | 5.95
  1/2 in | HRP-HCLAMP-12 | 6.50
Fuel Pressure Gauge, Liquid Filled | fuel-pressure-gauge | gauge | 1.0
  0–100 psi / 1.5 in | HRP-GAUGE100-15 | 24.95 | 0.2
  0–100 psi / 2-5/8 in | HRP-GAUGE100-258 | 39.95 | 0.15
  0–15 psi / 1.5 in | HRP-GAUGE15-15 | 22.95 | 0.12
  0–15 psi / 2-5/8 in | HRP-GAUGE15-258 | 36.95 | 0.08
-6 AN Inline Gauge Adapter | gauge-adapter-6an | gauge | 0.25
  Black | HRP-GADAPT6-BLK | 19.95
  Red/Blue | HRP-GADAPT6-RB | 19.95
Gauge Snubber, 1/8 NPT | fuel-pressure-snubber | gauge | 0.03
  Default Title | HRP-SNUB-18 | 12.95
Aluminum AN Wrench Set | an-wrench-set | tool | 0.2
  Default Title | HRP-WRENCH-SET | 39.95
PTFE Hose Cutter | ptfe-hose-cutter | tool | 0.12
  Default Title | HRP-CUTTER-1 | 29.95
AN Assembly Lube, 1 oz | an-assembly-lube | tool | 0.25
  Default Title | HRP-LUBE-1OZ | 8.95
"""
# Sold on pre-order (inventory may go negative): excluded from days of cover.
_CONTINUE_SKUS = frozenset({"HRP-FP450-GAS", "HRP-FP450-E85", "HRP-FPIL380-RED"})


def _hose_price(per_foot_cents: int, feet: int) -> int:
    # Longer coils are cheaper per foot; prices end in .95 like the rest of the shop.
    raw = per_foot_cents * feet * (100 - 2 * feet) // 100 + 500
    return raw // 100 * 100 + 95


_Product = tuple[str, str, VariantKind]  # title, handle, kind
_KINDS: dict[str, VariantKind] = {kind: kind for kind in get_args(VariantKind)}


def _rows() -> list[tuple[_Product, str, str, int, float]]:
    """(product, variant title, sku, price in cents, popularity weight) per variant."""
    rows: list[tuple[_Product, str, str, int, float]] = []
    for size, (base, size_weight) in _SIZES.items():
        for label, slug, code, angle_weight, extra in _ANGLES:
            title, handle = f"-{size} AN {label} Hose End", f"an-{size}-hose-end-{slug}"
            for colour, colour_code, factor, finish in _COLOURS:
                sku, price = f"HRP-AN{size}-{code}-{colour_code}", base + extra + finish
                weight = size_weight * angle_weight * factor
                rows.append(((title, handle, "fitting"), colour, sku, price, weight))
    for size, per_foot, weight in ((6, 420, 1.2), (8, 510, 0.9), (10, 630, 0.45)):
        product: _Product = (
            f"-{size} AN PTFE Hose, Black Nylon Braid",
            f"an-{size}-ptfe-hose",
            "hose",
        )
        for feet, factor in _LENGTHS:
            sku, price = f"HRP-PTFE{size}-{feet}FT", _hose_price(per_foot, feet)
            rows.append((product, f"{feet} ft", sku, price, weight * factor))
    braided: _Product = ("Stainless Braided Rubber Hose", "stainless-braided-hose", "hose")
    for size, per_foot, weight in ((4, 260, 0.35), (6, 310, 0.9), (8, 380, 0.7), (10, 460, 0.3)):
        for feet, factor in _LENGTHS:
            title, sku = f"-{size} AN / {feet} ft", f"HRP-SSH{size}-{feet}FT"
            rows.append((braided, title, sku, _hose_price(per_foot, feet), weight * factor))
    popularity = 0.0
    for line in _TABLE.strip().splitlines():
        fields = [field.strip() for field in line.split("|")]
        if not line.startswith(" "):
            product, popularity = (fields[0], fields[1], _KINDS[fields[2]]), float(fields[3])
            continue
        share = float(fields[3]) if len(fields) > 3 else 1.0
        price = int(fields[2].replace(".", ""))
        rows.append((product, fields[0], fields[1], price, popularity * share))
    return rows


def _build() -> tuple[CatalogVariant, ...]:
    variants = [
        CatalogVariant(
            variant_id=f"gid://shopify/ProductVariant/{45_118_000_000_000 + 1_117 * index}",
            sku=sku,
            title=title,
            product_title=product_title,
            handle=handle,
            price_cents=price,
            kind=kind,
            weight=weight,
            policy="CONTINUE" if sku in _CONTINUE_SKUS else "DENY",
        )
        for index, ((product_title, handle, kind), title, sku, price, weight) in enumerate(_rows())
    ]
    # Gift cards ship nothing (FULFILLMENT_NOT_REQUIRED), carry no SKU and track no inventory.
    gift_card = CatalogVariant(
        variant_id=f"gid://shopify/ProductVariant/{45_118_000_000_000 + 1_117 * len(variants)}",
        sku=None,
        title="$50",
        product_title="Hot Rod Parts Gift Card",
        handle="gift-card",
        price_cents=5000,
        kind="gift_card",
        weight=0.0,
        tracked=False,
    )
    return (*variants, gift_card)


CATALOG: tuple[CatalogVariant, ...] = _build()

# SKUs the demo leaves short of stock (anomaly d): sku → days of cover it may have at most.
AT_RISK_SKUS: dict[str, float] = {
    "HRP-AN6-90-BLK": 2.0,
    "HRP-PTFE6-10FT": 3.0,
    "HRP-AN8-ST-BLK": 5.0,
    "HRP-AN6-ST-RB": 6.0,
    "HRP-SSH6-6FT": 7.0,
}

CRITICAL_DROP_PAGE = "/products/an-6-hose-end-90"
WARNING_DROP_PAGE = "/blogs/tech/ptfe-vs-rubber-hose"
TINY_DROP_PAGE = "/products/fuel-pressure-snubber"

# GA4 landing pages and their typical daily sessions.
LANDING_PAGES: tuple[tuple[str, float], ...] = (
    ("/", 420.0),
    ("/collections/an-fittings", 165.0),
    ("/collections/fuel-pumps", 120.0),
    ("/collections/hose", 90.0),
    ("/collections/all", 55.0),
    ("/pages/an-size-chart", 48.0),
    ("/blogs/tech/how-to-assemble-an-fittings", 62.0),
    (WARNING_DROP_PAGE, 70.0),
    (CRITICAL_DROP_PAGE, 85.0),
    ("/products/an-6-hose-end-straight", 74.0),
    ("/products/an-8-hose-end-straight", 52.0),
    ("/products/an-8-hose-end-90", 41.0),
    ("/products/an-6-hose-end-45", 28.0),
    ("/products/an-10-hose-end-straight", 22.0),
    ("/products/an-6-ptfe-hose", 66.0),
    ("/products/an-8-ptfe-hose", 44.0),
    ("/products/stainless-braided-hose", 38.0),
    ("/products/in-tank-fuel-pump-255-lph", 58.0),
    ("/products/in-tank-fuel-pump-340-lph", 61.0),
    ("/products/in-tank-fuel-pump-450-lph", 47.0),
    ("/products/inline-fuel-pump-380-lph", 24.0),
    ("/products/efi-fuel-pressure-regulator", 39.0),
    ("/products/carb-fuel-pressure-regulator", 21.0),
    ("/products/inline-fuel-filter-10-micron", 26.0),
    ("/products/an-to-orb-adapter", 31.0),
    ("/products/an-to-npt-adapter", 18.0),
    ("/products/fuel-pressure-gauge", 17.0),
    ("/products/an-wrench-set", 15.0),
    ("/products/gift-card", 12.0),
    (TINY_DROP_PAGE, 1.0),
)

AGENTS: tuple[tuple[int, str], ...] = (
    (3, "Dana Whitfield"),
    (5, "Marcus Bell"),
    (8, "Rosa Delgado"),
)
# The team each inbox routes to (Chatwoot's ``meta.team``): the web widget's parts questions
# and the e-mail inbox's order questions. Derived, not drawn: the demo's draws stay the same.
TEAMS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Parts advice"},
    2: {"id": 2, "name": "Orders & shipping"},
}

CONTACT_NAMES: tuple[str, ...] = tuple(
    """
Earl Jennings, Tammy Ruiz, Cody Hargrove, Luis Ortega, Bobby Tran, Wade Kowalski,
Sheila Banks, Travis Moody, Darnell Price, Kyle Lindqvist, Ramon Castillo, Jolene Pratt,
Buck Henderson, Marty Sullivan, Gina Rossi, Hank Doyle, Rusty Caldwell, Priya Nair,
Dale Voss, Ty Whitaker, Carlos Mendez, Jesse Ward, Nate Ogilvie, Vern Polk, Amber Kline,
Duane Fisher, Shane McAllister, Lonnie Baker, Joe Szabo, Kurt Ehlers, Ray Dominguez,
Mike Chen, Stacy Lamb, Dwayne Hobbs, Otis Reed, Frank Delaney, Brandon Yates, Tony Russo,
Pete Albrecht, Chuck Navarro, Hector Salas, Lyle Gunderson, Dustin Crowe, Wes Holloway,
Mitch Barker, Sam Okafor, Greg Pulaski, Darla Finch, Jim Tanaka, Rick Beaumont, Leon Marsh,
Andy Kruger, Trent Alvarez, Cal Dempsey, Rosie Hart, Jake Brenner, Vince Lombardi,
Hal Stroud, Eddie Park, Glen Abernathy
""".replace("\n", " ")
    .strip()
    .split(", ")
)

CUSTOMER_OPENERS: tuple[str, ...] = (
    "Will the -6 AN 90° hose end fit the PTFE hose or do I need the PTFE-specific ones?",
    "My order still says unfulfilled, when will it ship? I need it for a race this weekend.",
    "Is the 340 LPH in-tank pump enough for about 600 hp on E85?",
    "I got the wrong colour fittings in my package, ordered black and got red/blue.",
    "Do you have the -8 AN straight hose ends back in stock?",
    "What size ORB adapter do I need for a Holley Sniper fuel inlet?",
    "Can I run the 100 micron pre-filter before the pump on a returnless setup?",
    "The regulator is leaking at the -6 port, is there an O-ring I can replace?",
    "How do I cut PTFE hose cleanly? Mine keeps fraying.",
    "Do you ship to Canada and how much is it?",
    "Can I change my shipping address? I just placed the order.",
    "Is there a wholesale price for shop accounts?",
    "The fuel pressure gauge reads 0 even with the pump running.",
    "Which relay kit do I need for the 450 LPH pump?",
)
CUSTOMER_FOLLOW_UPS: tuple[str, ...] = (
    "Any update on this?",
    "Hello? Still waiting to hear back.",
    "Ok thanks. One more question — does it come with the O-rings?",
    "I attached a photo of the fitting.",
    "Order number is in my first message.",
    "Got it, and what torque should I use?",
)
CUSTOMER_THANKS: tuple[str, ...] = (
    "Thanks, that fixed it!",
    "Perfect, thank you.",
    "Appreciate it!",
)
AGENT_REPLIES: tuple[str, ...] = (
    "Thanks for reaching out! PTFE hose needs the PTFE-specific hose ends with the olive insert.",
    "Your order is packed and will ship today; tracking follows by email.",
    "The 340 LPH pump supports roughly 700 hp on gasoline and 550 hp on E85, so go with the 450.",
    "Sorry about that! A replacement in black ships today with a prepaid return label.",
    "They are back in stock as of this morning.",
    "The Sniper inlet is -8 ORB, so the -6 AN to -8 ORB adapter is the one you want.",
    "Yes, a 100 micron pre-filter before the pump protects it; run a 10 micron after it.",
    "That port uses a -6 ORB O-ring; we'll mail a spare set at no charge.",
    "Wrap the cut point tightly with tape and use a fine-tooth cutter, then remove the tape.",
)
TEMPLATE_REPLIES: tuple[str, ...] = (
    "Hi! Thanks for contacting Hot Rod Parts. Your order status is available at any time "
    "from the link in your confirmation email.",
    "Thanks for your message! Our tech line is open Mon–Sat 8am–6pm Central.",
)
PRIVATE_NOTES: tuple[str, ...] = (
    "Checking with the warehouse whether the -8 hose ends arrived on today's truck.",
    "Customer is a repeat buyer, approve the free replacement.",
    "Waiting on the supplier's answer about E85 compatibility.",
)
LABELS: tuple[str, ...] = ("order-status", "tech-question", "returns", "wholesale", "shipping")
ACTIVITY_TEXTS: dict[str, str] = {
    "assigned": "Assigned to {agent} by Automation System",
    "snoozed": "Conversation was snoozed by {agent}",
    "resolved": "Conversation was marked resolved by {agent}",
}

# (status, ending, has the priority label, how many). Anomaly (b): of the 24 open/pending
# conversations, 12 await a reply past their SLA (50 %); two only under the 30-min priority SLA.
CONVERSATION_SCENARIOS: tuple[tuple[str, str, bool, int], ...] = (
    ("open", "breached", False, 7),
    ("open", "breached", True, 2),
    ("open", "breached_note", False, 1),
    ("pending", "breached", False, 2),
    ("open", "waiting", False, 3),
    ("open", "waiting", True, 1),
    ("open", "replied", False, 4),
    ("open", "replied", True, 1),
    ("open", "template", False, 1),
    ("pending", "replied", False, 2),
    ("snoozed", "snoozed", False, 6),
    ("resolved", "resolved", False, 28),
    ("resolved", "resolved", True, 2),
)
# How long the last customer message has waited, in minutes, per (ending, priority).
WAIT_MINUTES: dict[tuple[str, bool], tuple[int, int]] = {
    ("breached", False): (75, 960),
    ("breached", True): (35, 55),
    ("breached_note", False): (90, 300),
    ("waiting", False): (3, 45),
    ("waiting", True): (3, 20),
    ("replied", False): (40, 900),
    ("replied", True): (40, 900),
    ("template", False): (40, 900),
    ("snoozed", False): (240, 2400),
    ("resolved", False): (1440, 43200),
    ("resolved", True): (1440, 43200),
}

# Demand profile. Orders: fewer at weekends (Mon … Sun), evening peak in shop time (hour 0 … 23).
ORDER_WEEKDAY = (1.08, 1.10, 1.06, 1.02, 0.95, 0.86, 0.90)
_DIURNAL = [0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.6, 0.85, 1.0, 1.1, 1.2, 1.25, 1.2, 1.15]
_DIURNAL += [1.15, 1.2, 1.3, 1.45, 1.6, 1.65, 1.5, 1.1, 0.65]
DIURNAL_SHARE = tuple(weight / sum(_DIURNAL) for weight in _DIURNAL)
# Fulfillment status of a countable, shippable order by age: (up to hours, statuses, weights).
STATUS_BY_AGE: tuple[tuple[float, tuple[str, ...], tuple[int, ...]], ...] = (
    (24, ("UNFULFILLED", "IN_PROGRESS", "FULFILLED"), (78, 15, 7)),
    (72, ("UNFULFILLED", "IN_PROGRESS", "PARTIALLY_FULFILLED", "FULFILLED"), (50, 25, 5, 20)),
    (120, ("FULFILLED", "UNFULFILLED", "IN_PROGRESS", "PARTIALLY_FULFILLED"), (85, 8, 5, 2)),
    (math.inf, ("FULFILLED", "PARTIALLY_FULFILLED"), (998, 2)),
)
# Sessions: a weekend peak (Mon … Sun).
TRAFFIC_WEEKDAY = (0.93, 0.95, 0.96, 0.97, 1.0, 1.12, 1.1)


# --- upstream shapes: how the store's things look in each API's answers ----------------------

Event = tuple[int, str, str]  # a conversation's message: (Unix seconds, kind, content)
_MESSAGE_TYPES = {"customer": 0, "agent": 1, "note": 1, "activity": 2, "template": 3}


def _decimal(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def variant_json(variant: CatalogVariant, quantity: int) -> dict[str, Any]:
    """A ProductVariant node as occ's variants query returns it."""
    return {
        "id": variant.variant_id,
        "sku": variant.sku,
        "title": variant.title,
        "price": _decimal(variant.price_cents),
        "inventoryQuantity": quantity,
        "inventoryPolicy": variant.policy,
        "inventoryItem": {"tracked": variant.tracked},
        "product": {"title": variant.product_title, "handle": variant.handle},
    }


def message_json(
    kind: str, content: str, contact: dict[str, Any], agent: dict[str, Any]
) -> dict[str, Any]:
    """A Chatwoot message of ``kind`` (customer, agent, note, activity, template), ids unset."""
    if kind == "activity":
        content = ACTIVITY_TEXTS[content].format(agent=agent["name"])
    message: dict[str, Any] = {
        "content": content,
        "account_id": 1,
        "inbox_id": 0,
        "conversation_id": 0,
        "message_type": _MESSAGE_TYPES[kind],
        "created_at": 0,
        "private": kind == "note",
        "status": "sent",
        "source_id": None,
        "content_type": "text",
        "content_attributes": {},
        "sender_type": None if kind == "activity" else "Contact" if kind == "customer" else "User",
    }
    if kind != "activity":
        sender = contact if kind == "customer" else agent
        message.update(sender_id=sender["id"], sender=sender)
    return message


def conversation_json(
    uuid: str,
    status: str,
    labels: list[str],
    inbox_id: int,
    events: list[Event],
    contact: dict[str, Any],
    agent: dict[str, Any],
) -> dict[str, Any]:
    """A conversation as in ``data.payload`` of Chatwoot's list endpoint (without its id)."""
    replies = [at for at, kind, _ in events if kind in ("agent", "template")]
    # Assigned once an agent replied, or once automation assigned it (its activity message).
    assigned = bool(replies) or any(e[1:] == ("activity", "assigned") for e in events)
    last_customer = max(at for at, kind, _ in events if kind == "customer")
    waiting = status in ("open", "pending") and (not replies or last_customer > replies[-1])
    return {
        "uuid": uuid,
        "account_id": 1,
        "inbox_id": inbox_id,
        "status": status,
        "labels": labels,
        "priority": None,
        "unread_count": 1 if waiting else 0,
        "created_at": events[0][0],
        "timestamp": events[-1][0],
        "last_activity_at": events[-1][0],
        "agent_last_seen_at": replies[-1] if replies else 0,
        "first_reply_created_at": replies[0] if replies else None,
        "waiting_since": last_customer if waiting else None,
        "snoozed_until": events[-1][0] + 24 * 3600 if status == "snoozed" else None,
        "meta": {
            "sender": {**contact, "email": None, "phone_number": None, "thumbnail": ""},
            "channel": "Channel::WebWidget" if inbox_id == 1 else "Channel::Email",
            "assignee": agent if assigned else None,
            "team": TEAMS[inbox_id],
        },
    }
