"""How a series' values are shown to people: in which units and to how many decimals, written once.

The report's tables, the e-mail, the CSV tables and `monitor alerts explain` all format through here, so a value
reads the same everywhere: foreign flows in trillion won (not "-368,674 x 100 million KRW"), exports in USD
billions (not "67450000.0 thousand USD"), an index to its two decimals (not 5584.8701171875 from a float32 feed).

The stored values keep the units config.toml gives them; only what is shown is scaled and rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Display:
    """A stored unit as people read it: shown = stored x factor, rounded to `decimals`."""

    units: str
    factor: float = 1.0
    decimals: int | None = 2  # None: three significant digits below 1, two decimals above (units we do not know)
    ratio: bool = True  # a percent change means something (a price or level; not a flow, not a rate in %)


# By the stored units (config.toml's `units`): the precision the sources publish them at.
DISPLAYS: dict[str, Display] = {
    "%": Display("%", 1.0, 2, ratio=False),  # a change in a rate is in percentage points, not percent
    "KRW per USD": Display("KRW per USD", 1.0, 2),
    "JPY per USD": Display("JPY per USD", 1.0, 2),
    "points": Display("points", 1.0, 2),
    "index": Display("index", 1.0, 2),
    "100 million KRW": Display("trillion KRW", 1e-4, 2, ratio=False),  # a net flow changes sign
    "thousand USD": Display("USD billion", 1e-6, 2),
    "USD": Display("USD billion", 1e-9, 2),
}


def display(units: str) -> Display:
    return DISPLAYS.get(units, Display(units, 1.0, None))


def shown(x: float | None, units: str) -> float | None:
    """The value in display units, rounded to its precision (None for a missing value)."""
    if x is None or math.isnan(x):
        return None
    d = display(units)
    v = x * d.factor
    if d.decimals is None:
        return float(f"{v:.3g}") if abs(v) < 1 else round(v, 2)
    return round(v, d.decimals) + 0.0  # + 0.0: no "-0.0"


def number(x: float | None, units: str) -> str:
    """'1,468.20', '-3.69': the value in display units with thousands separators, '' when missing."""
    v = shown(x, units)
    if v is None:
        return ""
    d = display(units)
    if d.decimals is None:
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.2f}"
    return f"{v:,.{d.decimals}f}"


def with_units(x: float | None, units: str) -> str:
    """'-3.69 trillion KRW', '3.75%': a value for a sentence."""
    text = number(x, units)
    u = display(units).units
    if not text:
        return "n/a"
    return f"{text}%" if u == "%" else f"{text} {u}".rstrip()


def change(previous: float | None, current: float | None, units: str) -> str:
    """'+0.25 pp', '-0.41 (+12.0%)': the change between two values in display units; a percent only where a
    ratio means something (a price or a level, both positive)."""
    if previous is None or current is None or math.isnan(previous) or math.isnan(current):
        return "new" if current is not None and not math.isnan(current) else ""
    before, after = shown(previous, units), shown(current, units)
    assert before is not None and after is not None
    d = display(units)
    diff = after - before
    if diff == 0:
        return "unchanged"
    text = f"{diff:+,.{d.decimals}f}" if d.decimals is not None else f"{diff:+.3g}"
    if d.units == "%":
        return f"{text} pp"
    if d.ratio and before > 0 and after > 0:
        return f"{text} ({diff / before:+.1%})"
    return text


def usd(krw: float | None, units: str, krw_per_usd: float | None) -> str:
    """A won amount in US dollars at a given rate: '$2.51 billion' ('' when either is missing)."""
    if krw is None or krw_per_usd is None or math.isnan(krw) or math.isnan(krw_per_usd) or krw_per_usd <= 0:
        return ""
    won = krw * {"100 million KRW": 1e8, "KRW": 1.0}.get(units, math.nan)
    if math.isnan(won):
        return ""
    dollars = won / krw_per_usd
    return f"{'-' if dollars < 0 else ''}${abs(dollars) / 1e9:,.2f} billion"
