"""A recorded folder of support conversations whose export rows are computed by hand.

Shop time zone UTC; ``NOW`` is Thursday 2026-11-26 15:00Z. Inbox 1 runs 24/7; inbox 2 has
business hours (Europe/Berlin, Monday–Friday 09:00–17:00) in ``BUSINESS_HOURS_TOML``. Agents
Dana Whitfield (3) and Marcus Bell (5); teams Parts advice (1) and Orders & shipping (2).
Orders #1001, #1002 and #1003 exist; #12345 is a part number, not an order.

  c   inbox agent  team  first customer msg → first reply     FRT min  SLA  clock   status
  1   1     Dana   1     11-24 09:00 → 09:20                   20.00   60   20.00   met
  2   1     Marcus 1     11-24 11:00 → 12:35 (activity 11:30,  95.00   60   95.00   breached
                         private note 11:45 do not stop it)
  3   1     Dana   2     11-25 10:00 → 10:40, label priority   40.00   30   40.00   breached
  4   1     Marcus 2     11-25 12:00 → template 12:10          10.00   60   10.00   met
  5   1     Dana   1     11-20 08:00 → 08:15; resolved 11:00   15.00   60   15.00   met
                         (activity), CSAT template 11:05: resolution 180.00 (activity)
  6   1     Marcus 1     11-19 14:00 → 14:50; resolved in Portuguese at 16:00, so the
                         instant is last_activity_at 16:00: resolution 120.00        met
  7   1     —      2     greeting template 14:35, customer 14:40, no reply yet: clock 20.00,
                         due 15:40                                                   pending
  8   1     —      —     11-26 12:00, the reply at 15:10 is after NOW: clock 180.00  breached
  9   2     Dana   2     Tue 11-24 16:40 CET → Wed 09:30 CET: wall 1010.00, business
                         20 + 30 = 50.00 (the night paused it), due Wed 09:40 CET    met
  10  2     Marcus 2     Fri 11-20 16:30 CET → Mon 09:45 CET: wall 3915.00, business
                         30 + 45 = 75.00 (the weekend paused it), due Mon 09:30 CET  breached
  11  2     Dana   1     Fri 10-23 16:30 CEST → Mon 10-26 09:25 CET, across the end of
                         summer time: wall 3955.00, business 30 + 25 = 55.00, due
                         Mon 09:30 CET (08:30Z)                                      met
  12  1     Dana   1     only an agent's outgoing message                            none
  13  1     —      1     11-21 10:00, resolved by the customer at 10:20 without a reply:
                         clock 20.00, resolution 20.00                               met
  14  —     —      —     an older payload (no inbox, assignee, team): 10:00 → 11:00,
                         exactly the SLA (the KPI breaches only past it)   60.00      met

  agent  conversations met breached pending none  % met   p50     p90
  Dana   6             4   1        0       1     80.00   40.00   3955.00
  Marcus 4             2   2        0       0     50.00   50.00   3915.00
  —      4             2   1        1       0     66.67   60.00   60.00
  team Orders & shipping 5: 2 met, 2 breached, 1 pending → 50.00 (p50 40.00, p90 3915.00)
  team Parts advice 7: 5 met, 1 breached, 1 none → 83.33 (p50 50.00, p90 3955.00)
  no team 2: 1 met, 1 breached → 50.00 (p50 60.00, p90 60.00)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from builders import conversation, message, order, write_folder

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
DANA, MARCUS = (3, "Dana Whitfield"), (5, "Marcus Bell")
PARTS, ORDERS = (1, "Parts advice"), (2, "Orders & shipping")
FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'

BUSINESS_HOURS_TOML = """
[sla_business_hours.2]
timezone = "Europe/Berlin"
holidays = [2026-12-25]

[sla_business_hours.2.hours]
mon-fri = ["09:00-17:00"]
"""
BUSINESS_HOURS_ENV = (
    '{"2": {"timezone": "Europe/Berlin", "holidays": ["2026-12-25"], '
    '"hours": {"mon-fri": ["09:00-17:00"]}}}'
)


def at(text: str) -> datetime:
    """``MM-DD HH:MM`` in 2026, UTC."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def export_conversations() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conversations = [
        conversation(1, "open", at("11-24 09:00"), inbox=1, agent=DANA, team=PARTS),
        conversation(2, "open", at("11-24 11:00"), inbox=1, agent=MARCUS, team=PARTS),
        conversation(
            3, "open", at("11-25 10:00"), ["priority", "shipping"], inbox=1, agent=DANA, team=ORDERS
        ),
        conversation(4, "pending", at("11-25 12:00"), inbox=1, agent=MARCUS, team=ORDERS),
        conversation(
            5, "resolved", at("11-20 08:00"), inbox=1, agent=DANA, team=PARTS,
            last_activity=at("11-20 11:05"),
        ),
        conversation(
            6, "resolved", at("11-19 14:00"), inbox=1, agent=MARCUS, team=PARTS,
            last_activity=at("11-19 16:00"),
        ),
        conversation(7, "open", at("11-26 14:35"), inbox=1, team=ORDERS),
        conversation(8, "open", at("11-26 12:00"), inbox=1),
        conversation(9, "open", at("11-24 15:40"), inbox=2, agent=DANA, team=ORDERS),
        conversation(10, "open", at("11-20 15:30"), inbox=2, agent=MARCUS, team=ORDERS),
        conversation(11, "open", at("10-23 14:30"), inbox=2, agent=DANA, team=PARTS),
        conversation(12, "open", at("11-23 10:00"), inbox=1, agent=DANA, team=PARTS),
        conversation(
            13, "resolved", at("11-21 10:00"), inbox=1, team=PARTS, last_activity=at("11-21 10:20")
        ),
        conversation(14, "open", at("11-22 10:00")),
    ]  # fmt: skip
    conversations[7]["meta"]["sender"]["name"] = FORMULA_NAME
    messages = [
        message(101, 1, 0, at("11-24 09:00"), "Where is my order #1001? And #1003 from last week"),
        message(102, 1, 1, at("11-24 09:20"), "Both ship today."),
        message(201, 2, 0, at("11-24 11:00"), "Do you stock -6 AN hose ends?"),
        message(202, 2, 2, at("11-24 11:30"), "Linear issue #1003 was created by Marcus Bell"),
        message(
            203, 2, 1, at("11-24 11:45"), "refund order 1002; #12345 is a part number",
            private=True,
        ),
        message(204, 2, 1, at("11-24 12:35"), "Yes, in black and red."),
        message(301, 3, 0, at("11-25 10:00"), "Urgent: my pump is leaking"),
        message(302, 3, 1, at("11-25 10:40"), "Sending a replacement."),
        message(401, 4, 0, at("11-25 12:00"), "Can I return a hose?"),
        message(402, 4, 3, at("11-25 12:10"), "Here is our return policy."),
        message(501, 5, 0, at("11-20 08:00"), "Which filter for E85?"),
        message(502, 5, 1, at("11-20 08:15"), "The 10 micron one."),
        message(503, 5, 2, at("11-20 11:00"), "Conversation was marked resolved by Dana Whitfield"),
        message(504, 5, 3, at("11-20 11:05"), "Please rate the conversation"),
        message(601, 6, 0, at("11-19 14:00"), "Do you ship to Canada?"),
        message(602, 6, 1, at("11-19 14:50"), "We do."),
        message(603, 6, 2, at("11-19 16:00"), "Conversa resolvida por Ana"),
        message(701, 7, 3, at("11-26 14:35"), "We typically reply in a few minutes."),
        message(702, 7, 0, at("11-26 14:40"), "Hello?"),
        message(801, 8, 0, at("11-26 12:00"), "Still waiting for a tracking number"),
        message(802, 8, 1, at("11-26 15:10"), "Here it is."),
        message(901, 9, 0, at("11-24 15:40"), "Do these fittings fit?"),
        message(902, 9, 1, at("11-25 08:30"), "They do."),
        message(1001, 10, 0, at("11-20 15:30"), "Order no. 1001 arrived damaged"),
        message(1002, 10, 1, at("11-23 08:45"), "Sorry! A new one is on its way."),
        message(1101, 11, 0, at("10-23 14:30"), "Is the gauge in stock?"),
        message(1102, 11, 1, at("10-26 08:25"), "It is."),
        message(1201, 12, 1, at("11-23 10:00"), "Your backorder has arrived."),
        message(1301, 13, 0, at("11-21 10:00"), "Never mind, found it"),
        message(1302, 13, 2, at("11-21 10:20"), "Conversation was resolved by Customer 13"),
        message(1401, 14, 0, at("11-22 10:00"), "Hi"),
        message(1402, 14, 1, at("11-22 11:00"), "Hello!"),
    ]  # fmt: skip
    return conversations, messages


def export_orders() -> list[dict[str, Any]]:
    return [
        order(number, NOW - timedelta(days=10 + number - 1001), "10.00")
        for number in (1001, 1002, 1003)
    ]


def export_folder(folder: Path) -> Path:
    conversations, messages = export_conversations()
    return write_folder(
        folder, orders=export_orders(), conversations=conversations, messages=messages
    )


# Every row, as the CSV spells it: (id, status, customer, inbox, assignee id, assignee, team id,
# team, labels, created, first customer message, first response, FRT, SLA, clock, clock
# minutes, due, SLA status, resolved, resolution minutes, resolution source, linked orders).
EXPECTED_ROWS: list[tuple[str, ...]] = [
    ("11", "open", "Customer 11", "2", "3", "Dana Whitfield", "1", "Parts advice", "",
     "2026-10-23T14:30:00Z", "2026-10-23T14:30:00Z", "2026-10-26T08:25:00Z", "3955.00", "60",
     "business_hours", "55.00", "2026-10-26T08:30:00Z", "met", "", "", "", ""),
    ("6", "resolved", "Customer 6", "1", "5", "Marcus Bell", "1", "Parts advice", "",
     "2026-11-19T14:00:00Z", "2026-11-19T14:00:00Z", "2026-11-19T14:50:00Z", "50.00", "60",
     "24/7", "50.00", "2026-11-19T15:00:00Z", "met", "2026-11-19T16:00:00Z", "120.00",
     "last_activity_at", ""),
    ("5", "resolved", "Customer 5", "1", "3", "Dana Whitfield", "1", "Parts advice", "",
     "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z", "2026-11-20T08:15:00Z", "15.00", "60",
     "24/7", "15.00", "2026-11-20T09:00:00Z", "met", "2026-11-20T11:00:00Z", "180.00",
     "activity", ""),
    ("10", "open", "Customer 10", "2", "5", "Marcus Bell", "2", "Orders & shipping", "",
     "2026-11-20T15:30:00Z", "2026-11-20T15:30:00Z", "2026-11-23T08:45:00Z", "3915.00", "60",
     "business_hours", "75.00", "2026-11-23T08:30:00Z", "breached", "", "", "", "#1001"),
    ("13", "resolved", "Customer 13", "1", "", "", "1", "Parts advice", "",
     "2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z", "", "", "60", "24/7", "20.00",
     "2026-11-21T11:00:00Z", "met", "2026-11-21T10:20:00Z", "20.00", "activity", ""),
    ("14", "open", "Customer 14", "", "", "", "", "", "",
     "2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z", "60.00", "60",
     "24/7", "60.00", "2026-11-22T11:00:00Z", "met", "", "", "", ""),
    ("12", "open", "Customer 12", "1", "3", "Dana Whitfield", "1", "Parts advice", "",
     "2026-11-23T10:00:00Z", "", "", "", "60", "24/7", "", "", "none", "", "", "", ""),
    ("1", "open", "Customer 1", "1", "3", "Dana Whitfield", "1", "Parts advice", "",
     "2026-11-24T09:00:00Z", "2026-11-24T09:00:00Z", "2026-11-24T09:20:00Z", "20.00", "60",
     "24/7", "20.00", "2026-11-24T10:00:00Z", "met", "", "", "", "#1001|#1003"),
    ("2", "open", "Customer 2", "1", "5", "Marcus Bell", "1", "Parts advice", "",
     "2026-11-24T11:00:00Z", "2026-11-24T11:00:00Z", "2026-11-24T12:35:00Z", "95.00", "60",
     "24/7", "95.00", "2026-11-24T12:00:00Z", "breached", "", "", "", "#1002"),
    ("9", "open", "Customer 9", "2", "3", "Dana Whitfield", "2", "Orders & shipping", "",
     "2026-11-24T15:40:00Z", "2026-11-24T15:40:00Z", "2026-11-25T08:30:00Z", "1010.00", "60",
     "business_hours", "50.00", "2026-11-25T08:40:00Z", "met", "", "", "", ""),
    ("3", "open", "Customer 3", "1", "3", "Dana Whitfield", "2", "Orders & shipping",
     "priority|shipping", "2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z",
     "2026-11-25T10:40:00Z", "40.00", "30", "24/7", "40.00", "2026-11-25T10:30:00Z", "breached",
     "", "", "", ""),
    ("4", "pending", "Customer 4", "1", "5", "Marcus Bell", "2", "Orders & shipping", "",
     "2026-11-25T12:00:00Z", "2026-11-25T12:00:00Z", "2026-11-25T12:10:00Z", "10.00", "60",
     "24/7", "10.00", "2026-11-25T13:00:00Z", "met", "", "", "", ""),
    ("8", "open", "'" + FORMULA_NAME, "1", "", "", "", "", "",
     "2026-11-26T12:00:00Z", "2026-11-26T12:00:00Z", "", "", "60", "24/7", "180.00",
     "2026-11-26T13:00:00Z", "breached", "", "", "", ""),
    ("7", "open", "Customer 7", "1", "", "", "2", "Orders & shipping", "",
     "2026-11-26T14:35:00Z", "2026-11-26T14:40:00Z", "", "", "60", "24/7", "20.00",
     "2026-11-26T15:40:00Z", "pending", "", "", "", ""),
]  # fmt: skip

# (group, id, name, conversations, met, breached, pending, none, % met, p50, p90)
EXPECTED_BY_AGENT: list[tuple[str, ...]] = [
    ("agent", "3", "Dana Whitfield", "6", "4", "1", "0", "1", "80.00", "40.00", "3955.00"),
    ("agent", "5", "Marcus Bell", "4", "2", "2", "0", "0", "50.00", "50.00", "3915.00"),
    ("agent", "", "", "4", "2", "1", "1", "0", "66.67", "60.00", "60.00"),
]
EXPECTED_BY_TEAM: list[tuple[str, ...]] = [
    ("team", "2", "Orders & shipping", "5", "2", "2", "1", "0", "50.00", "40.00", "3915.00"),
    ("team", "1", "Parts advice", "7", "5", "1", "0", "1", "83.33", "50.00", "3955.00"),
    ("team", "", "", "2", "1", "1", "0", "0", "50.00", "60.00", "60.00"),
]
