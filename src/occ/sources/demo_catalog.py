"""The demo store's fixed content: a hot-rod parts catalog, landing pages and support texts.

Kept apart from :mod:`occ.sources.demo` (which draws orders, conversations and sessions from
it) so that the generator reads as logic and this module as data. Nothing here is random.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AGENTS",
    "AT_RISK_SKUS",
    "CATALOG",
    "CONTACT_NAMES",
    "CRITICAL_DROP_PAGE",
    "LANDING_PAGES",
    "TINY_DROP_PAGE",
    "WARNING_DROP_PAGE",
    "CatalogVariant",
    "VariantKind",
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


# (product title, handle, kind, product weight, [(variant title, sku, price in cents, factor)])
_Spec = tuple[str, str, VariantKind, float, list[tuple[str, str | None, int, float]]]

_ANGLES = (("Straight", "straight", "ST", 1.0, 0), ("45°", "45", "45", 0.55, 300), ("90°", "90", "90", 0.9, 400))
_COLOURS = (("Black", "BLK", 1.0, 0), ("Red/Blue", "RB", 0.7, 0), ("Polished", "POL", 0.3, 200))
_FITTING_SIZES = {4: (995, 0.6), 6: (1195, 1.6), 8: (1495, 1.2), 10: (1895, 0.5)}
_HOSE_LENGTHS = ((3, 1.0), (6, 1.4), (10, 1.0), (20, 0.45))


def _fittings() -> list[_Spec]:
    specs: list[_Spec] = []
    for size, (base, size_weight) in _FITTING_SIZES.items():
        for label, slug, code, angle_weight, angle_extra in _ANGLES:
            variants = [
                (colour, f"HRP-AN{size}-{code}-{colour_code}", base + angle_extra + extra, factor)
                for colour, colour_code, factor, extra in _COLOURS
            ]
            title = f"-{size} AN {label} Hose End"
            specs.append((title, f"an-{size}-hose-end-{slug}", "fitting", size_weight * angle_weight, variants))
    return specs


def _hoses() -> list[_Spec]:
    specs: list[_Spec] = []
    for size, per_foot, weight in ((6, 420, 1.2), (8, 510, 0.9), (10, 630, 0.45)):
        variants = [
            (f"{feet} ft", f"HRP-PTFE{size}-{feet}FT", _hose_price(per_foot, feet), factor)
            for feet, factor in _HOSE_LENGTHS
        ]
        title = f"-{size} AN PTFE Hose, Black Nylon Braid"
        specs.append((title, f"an-{size}-ptfe-hose", "hose", weight, variants))
    for size, per_foot, weight in ((4, 260, 0.35), (6, 310, 0.9), (8, 380, 0.7), (10, 460, 0.3)):
        variants = [
            (f"{feet} ft", f"HRP-SSH{size}-{feet}FT", _hose_price(per_foot, feet), factor)
            for feet, factor in _HOSE_LENGTHS
        ]
        title = f"-{size} AN Stainless Braided Rubber Hose"
        specs.append((title, f"an-{size}-stainless-braided-hose", "hose", weight, variants))
    return specs


def _hose_price(per_foot_cents: int, feet: int) -> int:
    # Longer coils are cheaper per foot; prices end in .95 like the rest of the shop.
    raw = per_foot_cents * feet * (100 - 2 * feet) // 100 + 500
    return raw // 100 * 100 + 95


def _sized(prefix: str, sizes: list[tuple[str, str, int]], factor: float = 1.0) -> list[tuple[str, str | None, int, float]]:
    return [(title, f"{prefix}-{code}", price, factor) for title, code, price in sizes]


_OTHER: list[_Spec] = [
    ("AN to ORB Adapter, Straight", "an-to-orb-adapter-straight", "fitting", 0.9, _sized("HRP-ORB-ST", [
        ("-6 AN to -6 ORB", "6-6", 695), ("-6 AN to -8 ORB", "6-8", 795), ("-8 AN to -8 ORB", "8-8", 895),
        ("-8 AN to -10 ORB", "8-10", 995), ("-10 AN to -10 ORB", "10-10", 1195),
        ("-10 AN to -12 ORB", "10-12", 1295)])),
    ("AN to ORB Adapter, 90°", "an-to-orb-adapter-90", "fitting", 0.5, _sized("HRP-ORB-90", [
        ("-6 AN to -6 ORB", "6-6", 1095), ("-6 AN to -8 ORB", "6-8", 1195),
        ("-8 AN to -8 ORB", "8-8", 1295), ("-10 AN to -10 ORB", "10-10", 1595)])),
    ("AN to NPT Adapter", "an-to-npt-adapter", "fitting", 0.8, _sized("HRP-NPT", [
        ("-4 AN to 1/8 NPT", "4-18", 495), ("-6 AN to 1/4 NPT", "6-14", 595),
        ("-6 AN to 3/8 NPT", "6-38", 645), ("-8 AN to 3/8 NPT", "8-38", 695),
        ("-8 AN to 1/2 NPT", "8-12", 795), ("-10 AN to 1/2 NPT", "10-12", 895)])),
    ("AN Union, Straight", "an-union-straight", "fitting", 0.35, _sized("HRP-UNION", [
        ("-4 AN", "4", 595), ("-6 AN", "6", 695), ("-8 AN", "8", 795), ("-10 AN", "10", 995)])),
    ("AN Tee", "an-tee", "fitting", 0.3, _sized("HRP-TEE", [
        ("-6 AN", "6", 1495), ("-8 AN", "8", 1695), ("-10 AN", "10", 1995)])),
    ("AN Cap", "an-cap", "fitting", 0.2, _sized("HRP-CAP", [
        ("-4 AN", "4", 450), ("-6 AN", "6", 495), ("-8 AN", "8", 595), ("-10 AN", "10", 695)])),
    ("AN Bulkhead Fitting", "an-bulkhead-fitting", "fitting", 0.3, _sized("HRP-BULK", [
        ("-6 AN", "6", 1295), ("-8 AN", "8", 1495), ("-10 AN", "10", 1795)])),
    ("AN Reducer", "an-reducer", "fitting", 0.3, _sized("HRP-RED", [
        ("-8 AN to -6 AN", "8-6", 895), ("-10 AN to -8 AN", "10-8", 995),
        ("-10 AN to -6 AN", "10-6", 1095)])),
    ("255 LPH In-Tank Fuel Pump", "in-tank-fuel-pump-255-lph", "pump", 0.22, _sized("HRP-FP255", [
        ("Gasoline", "GAS", 9495), ("E85", "E85", 11995)])),
    ("340 LPH In-Tank Fuel Pump", "in-tank-fuel-pump-340-lph", "pump", 0.2, _sized("HRP-FP340", [
        ("Gasoline", "GAS", 14995), ("E85", "E85", 16995)])),
    ("450 LPH In-Tank Fuel Pump", "in-tank-fuel-pump-450-lph", "pump", 0.12, _sized("HRP-FP450", [
        ("Gasoline", "GAS", 28995), ("E85", "E85", 31995)])),
    ("380 LPH Inline Fuel Pump", "inline-fuel-pump-380-lph", "pump", 0.07, _sized("HRP-FPIL380", [
        ("Black", "BLK", 39995), ("Red", "RED", 41995)])),
    ("Drop-In Fuel Pump Hanger", "fuel-pump-hanger-kit", "pump", 0.1, _sized("HRP-HANGER", [
        ("-6 AN outlet", "6", 13995), ("-8 AN outlet", "8", 14995), ("-10 AN outlet", "10", 15995)])),
    ("Fuel Pump Relay Wiring Kit", "fuel-pump-wiring-kit", "fuel", 0.25, _sized("HRP-RELAY", [
        ("30 A", "30A", 4495), ("40 A", "40A", 4995)])),
    ("Adjustable EFI Fuel Pressure Regulator, 30–70 psi", "efi-fuel-pressure-regulator", "fuel", 0.35,
     _sized("HRP-FPR-EFI", [("-6 AN ports / Black", "6-BLK", 8995), ("-6 AN ports / Red", "6-RED", 8995),
                            ("-8 AN ports / Black", "8-BLK", 9995), ("-8 AN ports / Red", "8-RED", 9995)])),
    ("Carbureted Fuel Pressure Regulator, 4–9 psi", "carb-fuel-pressure-regulator", "fuel", 0.25,
     _sized("HRP-FPR-CARB", [("Black", "BLK", 6995), ("Polished", "POL", 7495)])),
    ("Return-Style Bypass Regulator, -10 AN", "bypass-regulator-10an", "fuel", 0.08,
     _sized("HRP-FPR-BYP", [("Default Title", "10", 16995)])),
    ("Inline Fuel Filter, 10 Micron", "inline-fuel-filter-10-micron", "fuel", 0.4, _sized("HRP-FF10", [
        ("-6 AN", "6", 4495), ("-8 AN", "8", 4995), ("-10 AN", "10", 5495)])),
    ("Inline Pre-Filter, 100 Micron Stainless", "inline-fuel-filter-100-micron", "fuel", 0.3,
     _sized("HRP-FF100", [("-6 AN", "6", 4995), ("-8 AN", "8", 5495), ("-10 AN", "10", 5995)])),
    ("Replacement Filter Element", "fuel-filter-element", "fuel", 0.3, _sized("HRP-ELEM", [
        ("10 micron paper", "10P", 1295), ("40 micron stainless", "40S", 1995),
        ("100 micron stainless", "100S", 2495)])),
    ("Billet Line Clamp, Single", "billet-line-clamp", "clamp", 0.35, _sized("HRP-CLAMP1", [
        ("-6 AN", "6", 995), ("-8 AN", "8", 995), ("-10 AN", "10", 1095)])),
    ("Dual Line Separator Clamp", "dual-line-separator-clamp", "clamp", 0.25, _sized("HRP-CLAMP2", [
        ("-6 / -6 AN", "6-6", 1495), ("-8 / -6 AN", "8-6", 1495), ("-8 / -8 AN", "8-8", 1595)])),
    ("Stainless Hose Clamps, 10-pack", "stainless-hose-clamp-10-pack", "clamp", 0.3, _sized("HRP-HCLAMP", [
        ("5/16 in", "516", 595), ("3/8 in", "38", 595), ("1/2 in", "12", 650)])),
    ("Fuel Pressure Gauge 0–100 psi, Liquid Filled", "fuel-pressure-gauge-0-100", "gauge", 0.35,
     _sized("HRP-GAUGE100", [("1.5 in", "15", 2495), ("2-5/8 in", "258", 3995)])),
    ("Fuel Pressure Gauge 0–15 psi", "fuel-pressure-gauge-0-15", "gauge", 0.2,
     _sized("HRP-GAUGE15", [("1.5 in", "15", 2295), ("2-5/8 in", "258", 3695)])),
    ("-6 AN Inline Gauge Adapter", "gauge-adapter-6an", "gauge", 0.25,
     _sized("HRP-GADAPT6", [("Black", "BLK", 1995), ("Red/Blue", "RB", 1995)])),
    ("Gauge Snubber, 1/8 NPT", "fuel-pressure-snubber", "gauge", 0.03,
     _sized("HRP-SNUB", [("Default Title", "18", 1295)])),
    ("Aluminum AN Wrench Set", "an-wrench-set", "tool", 0.2,
     _sized("HRP-WRENCH", [("Default Title", "SET", 3995)])),
    ("PTFE Hose Cutter", "ptfe-hose-cutter", "tool", 0.12, _sized("HRP-CUTTER", [("Default Title", "1", 2995)])),
    ("AN Assembly Lube, 1 oz", "an-assembly-lube", "tool", 0.25, _sized("HRP-LUBE", [("Default Title", "1OZ", 895)])),
]

GIFT_CARD_HANDLE = "gift-card"
# Sold on pre-order (inventory may go negative) → excluded from days of cover.
_CONTINUE_SKUS = frozenset({"HRP-FP450-GAS", "HRP-FP450-E85", "HRP-FPIL380-RED"})


def _build() -> tuple[CatalogVariant, ...]:
    variants: list[CatalogVariant] = []
    for product_title, handle, kind, weight, specs in [*_fittings(), *_hoses(), *_OTHER]:
        for title, sku, price, factor in specs:
            variants.append(
                CatalogVariant(
                    variant_id=f"gid://shopify/ProductVariant/{45_118_000_000_000 + 1_117 * len(variants)}",
                    sku=sku,
                    title=title,
                    product_title=product_title,
                    handle=handle,
                    price_cents=price,
                    kind=kind,
                    weight=weight * factor,
                    policy="CONTINUE" if sku in _CONTINUE_SKUS else "DENY",
                )
            )
    # Gift cards ship nothing (FULFILLMENT_NOT_REQUIRED), carry no SKU and track no inventory.
    variants.append(
        CatalogVariant(
            variant_id=f"gid://shopify/ProductVariant/{45_118_000_000_000 + 1_117 * len(variants)}",
            sku=None,
            title="$50",
            product_title="Hot Rod Parts Gift Card",
            handle=GIFT_CARD_HANDLE,
            price_cents=5000,
            kind="gift_card",
            weight=0.0,
            tracked=False,
        )
    )
    return tuple(variants)


CATALOG: tuple[CatalogVariant, ...] = _build()

# SKUs the demo leaves short of stock: (sku, lowest and highest days of cover wanted).
AT_RISK_SKUS: tuple[tuple[str, float, float], ...] = (
    ("HRP-AN6-90-BLK", 1.0, 2.0),
    ("HRP-PTFE6-10FT", 2.0, 3.0),
    ("HRP-AN8-ST-BLK", 4.0, 5.0),
    ("HRP-AN6-ST-RB", 5.0, 6.0),
    ("HRP-SSH6-6FT", 6.0, 7.0),
)

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
    ("/products/an-6-stainless-braided-hose", 38.0),
    ("/products/in-tank-fuel-pump-255-lph", 58.0),
    ("/products/in-tank-fuel-pump-340-lph", 61.0),
    ("/products/in-tank-fuel-pump-450-lph", 47.0),
    ("/products/inline-fuel-pump-380-lph", 24.0),
    ("/products/efi-fuel-pressure-regulator", 39.0),
    ("/products/carb-fuel-pressure-regulator", 21.0),
    ("/products/inline-fuel-filter-10-micron", 26.0),
    ("/products/an-to-orb-adapter-straight", 31.0),
    ("/products/an-to-npt-adapter", 18.0),
    ("/products/fuel-pressure-gauge-0-100", 17.0),
    ("/products/an-wrench-set", 15.0),
    ("/products/gift-card", 12.0),
    (TINY_DROP_PAGE, 1.0),
)

AGENTS: tuple[tuple[int, str], ...] = ((3, "Dana Whitfield"), (5, "Marcus Bell"), (8, "Rosa Delgado"))

CONTACT_NAMES: tuple[str, ...] = (
    "Earl Jennings", "Tammy Ruiz", "Cody Hargrove", "Luis Ortega", "Bobby Tran", "Wade Kowalski",
    "Sheila Banks", "Travis Moody", "Darnell Price", "Kyle Lindqvist", "Ramon Castillo", "Jolene Pratt",
    "Buck Henderson", "Marty Sullivan", "Gina Rossi", "Hank Doyle", "Rusty Caldwell", "Priya Nair",
    "Dale Voss", "Ty Whitaker", "Carlos Mendez", "Jesse Ward", "Nate Ogilvie", "Vern Polk",
    "Amber Kline", "Duane Fisher", "Shane McAllister", "Lonnie Baker", "Joe Szabo", "Kurt Ehlers",
    "Ray Dominguez", "Mike Chen", "Stacy Lamb", "Dwayne Hobbs", "Otis Reed", "Frank Delaney",
    "Brandon Yates", "Tony Russo", "Pete Albrecht", "Chuck Navarro", "Hector Salas", "Lyle Gunderson",
    "Dustin Crowe", "Wes Holloway", "Mitch Barker", "Sam Okafor", "Greg Pulaski", "Darla Finch",
    "Jim Tanaka", "Rick Beaumont", "Leon Marsh", "Andy Kruger", "Trent Alvarez", "Cal Dempsey",
    "Rosie Hart", "Jake Brenner", "Vince Lombardi", "Hal Stroud", "Eddie Park", "Glen Abernathy",
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
CUSTOMER_THANKS: tuple[str, ...] = ("Thanks, that fixed it!", "Perfect, thank you.", "Appreciate it!")
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
