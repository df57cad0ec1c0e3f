"""Inline SVG sparklines: the recent daily series and the forecast band beside it.

Drawn on the server (numbers only go into the markup), so the page needs no chart library and
no script. The band is hatched as well as tinted, and the last observed point is a square, so
nothing depends on colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

__all__ = ["BandPoint", "sparkline"]

_WIDTH = 280
_HEIGHT = 64
_PAD = 4


@dataclass(frozen=True, slots=True)
class BandPoint:
    value: float
    lower: float | None
    upper: float | None


def sparkline(
    history: Sequence[float],
    band: Sequence[BandPoint],
    observed: float | None,
    label: str,
    ident: str = "spark",
) -> Markup:
    """An SVG of ``history`` (one point a day), then ``band`` (forecast days, the first of
    which is today, where ``observed`` is drawn when known)."""
    values = [*history, *(p.value for p in band)]
    values += [v for p in band for v in (p.lower, p.upper) if v is not None]
    if observed is not None:
        values.append(observed)
    if not values:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    days = len(history) + max(len(band), 1)
    step = (_WIDTH - 2 * _PAD) / max(days - 1, 1)

    def x(index: int) -> float:
        return _PAD + index * step

    def y(value: float) -> float:
        return _HEIGHT - _PAD - (value - low) / span * (_HEIGHT - 2 * _PAD)

    parts = [
        f'<svg class="spark" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" '
        f'height="{_HEIGHT}" role="img" aria-label="{Markup.escape(label)}">',
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hatch"/>'
        "</pattern></defs>",
    ]
    start = len(history)
    bounded = [(i, p) for i, p in enumerate(band) if p.lower is not None and p.upper is not None]
    if bounded:
        upper = [f"{x(start + i):.1f},{y(p.upper or 0):.1f}" for i, p in bounded]
        lower = [f"{x(start + i):.1f},{y(p.lower or 0):.1f}" for i, p in reversed(bounded)]
        parts.append(f'<polygon class="band" points="{" ".join(upper + lower)}"/>')
        parts.append(
            f'<polygon class="band-hatch" fill="url(#{ident}-hatch)" '
            f'points="{" ".join(upper + lower)}"/>'
        )
    if band:
        line = " ".join(f"{x(start + i):.1f},{y(p.value):.1f}" for i, p in enumerate(band))
        parts.append(f'<polyline class="forecast" points="{line}"/>')
    if history:
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(history))
        parts.append(f'<polyline class="history" points="{line}"/>')
    if observed is not None:
        cx, cy = x(start), y(observed)
        parts.append(
            f'<rect class="observed" x="{cx - 3:.1f}" y="{cy - 3:.1f}" width="6" height="6"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
