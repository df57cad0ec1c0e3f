"""Reply templates suggested for breached conversations, chosen by the conversation's labels.

A small built-in set; the first template whose label the conversation carries wins, else the
general follow-up. (The curated templates of the knowledge index take over where present.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["TEMPLATES", "ReplyTemplate", "template_for"]


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    key: str
    title: str
    labels: tuple[str, ...]
    body: str


TEMPLATES: tuple[ReplyTemplate, ...] = (
    ReplyTemplate(
        "priority-callback",
        "Priority callback offer",
        ("priority", "vip", "urgent"),
        "Acknowledge the urgency and offer a callback within the hour.",
    ),
    ReplyTemplate(
        "shipping-status",
        "Shipping status update",
        ("shipping", "delivery", "tracking", "where-is-my-order"),
        "Apologise for the wait, give the order's fulfillment status and tracking link, "
        "and the date it is expected.",
    ),
    ReplyTemplate(
        "return-instructions",
        "Return and exchange instructions",
        ("returns", "return", "exchange", "refund"),
        "Confirm the return window, send the return label and say when the refund lands.",
    ),
    ReplyTemplate(
        "tech-answer",
        "Technical answer with fitment guide",
        ("tech-question", "fitment", "technical", "product-question"),
        "Answer the fitment question, link the size chart and the installation guide.",
    ),
    ReplyTemplate(
        "general-follow-up",
        "Apology and follow-up",
        (),
        "Apologise for the wait, restate the question and answer it or give a time for the answer.",
    ),
)


def template_for(labels: Iterable[str]) -> ReplyTemplate:
    """The template of the first label that has one, else the general follow-up."""
    wanted = {label.lower() for label in labels}
    for template in TEMPLATES:
        if wanted.intersection(template.labels):
            return template
    return TEMPLATES[-1]
