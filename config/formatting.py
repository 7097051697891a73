"""Numbers as people read them: durations, counts with plurals, prices, intervals.

One set of rules for admin pages, site templates and emails (through the `tailor_format`
template library), so that "0.2 s", "1,234 visitors" and "€89.90" look the same everywhere.
Values that are missing read as an em dash, never as "None".
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from numbers import Real

__all__ = [
    "MISSING",
    "NOT_ENOUGH_DATA",
    "count",
    "duration",
    "interval_points",
    "item_price",
    "label",
    "money",
    "number",
    "plural",
]

MISSING = "—"
NOT_ENOUGH_DATA = "not enough data yet"
# Currencies written as a symbol before the amount; any other code follows the amount.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "€": "€", "$": "$", "£": "£"}
# An interval of a difference between rates is read in percentage points; one that reaches
# past ±100 points says nothing yet (a rate difference can never be that large).
WIDEST_READABLE_POINTS = 1.0


def number(value: object, decimals: int | None = None) -> str:
    """`12345` → "12,345"; `1234.5` → "1,234.50" with `decimals=2`; floats default to 2."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and decimals is None:
        return f"{value:,}"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return MISSING
    if decimals is None:
        decimals = 2
    return f"{amount:,.{decimals}f}"


def plural(amount: int, singular: str, plural_form: str | None = None) -> str:
    """`1, "treatment"` → "1 treatment"; `2, "treatment"` → "2 treatments" (with separators)."""
    word = singular if amount == 1 else (plural_form or f"{singular}s")
    return f"{number(amount)} {word}"


def count(amount: int | None, singular: str, plural_form: str | None = None) -> str:
    """Like `plural`, with a missing amount as an em dash."""
    return MISSING if amount is None else plural(amount, singular, plural_form)


def duration(seconds: float | None) -> str:
    """`0.186` → "0.2 s"; `42` → "42 s"; `185` → "3 min 5 s"; `7500` → "2 h 5 min"."""
    if seconds is None:
        return MISSING
    seconds = max(float(seconds), 0.0)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = round(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(whole, 3600)
    minutes = rest // 60
    return f"{hours:,} h" + (f" {minutes} min" if minutes else "")


def money(amount: object, currency: str | None = "EUR") -> str:
    """`89.9, "EUR"` → "€89.90"; `1200, "CHF"` → "1,200.00 CHF"; two decimals always."""
    if amount is None or amount == "":
        return MISSING
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    if not value.is_finite():
        return MISSING
    code = (currency or "EUR").strip()
    text = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code.upper()) or SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code.upper()}"


def item_price(metadata: Mapping[str, object] | None, default_currency: str = "EUR") -> str:
    """The price of an item's metadata (`price`, optional `currency`), or "" when it has none."""
    metadata = metadata or {}
    price = metadata.get("price")
    if price is None or price == "":
        return ""
    return money(price, str(metadata.get("currency") or default_currency))


def interval_points(low: Real | None, high: Real | None, digits: int = 1) -> str:
    """A difference interval of rates in percentage points: "-2.5 to +4.0 points".

    An interval reaching past ±100 points is "not enough data yet": it excludes nothing.
    """
    if low is None or high is None:
        return MISSING
    if max(abs(float(low)), abs(float(high))) > WIDEST_READABLE_POINTS:
        return NOT_ENOUGH_DATA
    return f"{float(low) * 100:+.{digits}f} to {float(high) * 100:+.{digits}f} points"


def label(name: str | None) -> str:
    """ "running shoes" → "Running shoes"; "iPhone cases" and "UK" keep their capitals."""
    if not name:
        return ""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[0].upper() + name[1:]
