"""How GrowthBook's SDKs see attribute values: JSON types, strict equality, ordering, versions.

GrowthBook defines its condition language on JSON values as JavaScript sees them. These
helpers give Python values the same meaning, so that the compiled closures in
`personalization.rules.operators` can stay small: booleans are never numbers, lists and
objects are never `===` to anything, strings order by UTF-16 code units, and numbers turn
into version strings the way JavaScript's `String(number)` writes them.
"""

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

# GrowthBook's names for JSON types; Python values outside JSON are "unknown".
TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null", "undefined"})

# Array indices as JavaScript defines them are below 2**32 - 1.
_MAX_ARRAY_INDEX = 2**32 - 2


def json_type(value: Any) -> str:
    """GrowthBook's `$type` name for a value ("unknown" for anything outside JSON)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    # A set reads as an array, as in GrowthBook's Python SDK; tuples stay "unknown".
    if isinstance(value, list | set):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def is_number(value: Any) -> bool:
    """Whether a value is a JSON number (`bool` is a subclass of `int` but never a number)."""
    return isinstance(value, int | float) and value is not True and value is not False


def strict_equal(a: Any, b: Any) -> bool:
    """JavaScript `===` for two separately parsed JSON values: lists and objects never match."""
    kind = json_type(a)
    if kind != json_type(b) or kind == "array" or kind == "object":
        return False
    return bool(a == b)


def deep_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON documents as GrowthBook compares literal condition values.

    Every nested value must have the same JSON type (so `True` is not `1`), objects must
    list their keys in the same JavaScript property order, and inside containers NaN and
    infinities compare as `null`, which is what `JSON.stringify` writes for them.
    """
    kind = json_type(a)
    if kind != json_type(b):
        return False
    if kind == "array":
        return len(a) == len(b) and all(
            deep_equal(_as_json(x), _as_json(y)) for x, y in zip(a, b, strict=False)
        )
    if kind == "object":
        return _js_key_order(a) == _js_key_order(b) and all(
            deep_equal(_as_json(a[key]), _as_json(b[key])) for key in a
        )
    return bool(a == b)


def _as_json(value: Any) -> Any:
    """NaN and infinities inside a container are `null` once stringified."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def array_index(segment: str, limit: int = _MAX_ARRAY_INDEX) -> int | None:
    """The index a path segment names in JavaScript ("0", "12"; not "01", "-1" or "1.0")."""
    # At most 10 digits: checking first keeps int() away from absurdly long digit strings.
    if not (0 < len(segment) <= 10 and segment.isascii() and segment.isdigit()):
        return None
    if segment[0] == "0" and segment != "0":
        return None
    index = int(segment)
    return index if index <= limit else None


def _js_key_order(obj: dict[Any, Any]) -> list[Any]:
    """Keys in JavaScript property order: array-index keys ascending, then insertion order."""
    indexed: list[tuple[int, Any]] = []
    named: list[Any] = []
    for key in obj:
        index = array_index(key) if isinstance(key, str) else None
        if index is None:
            named.append(key)
        else:
            indexed.append((index, key))
    indexed.sort()
    return [key for _, key in indexed] + named


def utf16_units(text: str) -> bytes:
    """Bytes that sort like JavaScript compares strings: by UTF-16 code units."""
    # Big-endian code units compare bytewise in unit order; surrogatepass keeps lone
    # surrogates, which JavaScript strings may hold.
    return text.encode("utf-16-be", "surrogatepass")


def js_number_string(number: int | float) -> str:
    """A number written the way JavaScript's `String(number)` writes it."""
    try:
        value = float(number)
    except OverflowError:
        # An integer too large for a double is Infinity in JavaScript.
        value = math.inf if number > 0 else -math.inf
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number_string(-value)
    if math.isinf(value):
        return "Infinity"
    # repr() gives the shortest digits that round-trip, as JavaScript does. Read them as
    # value = 0.<digits> x 10**point and lay them out by ECMAScript's Number::toString.
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    significant = raw.lstrip("0")
    point = len(whole) + int(exponent or "0") - (len(raw) - len(significant))
    digits = significant.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    head = digits[0] + ("." + digits[1:] if count > 1 else "")
    power = point - 1
    return f"{head}e{'+' if power > 0 else '-'}{abs(power)}"


# A leading "v" and any "+build" suffix carry no order in SemVer.
_VERSION_NOISE = re.compile(r"^v|\+.*$")
_VERSION_SEPARATORS = re.compile(r"[-.]")


def version_key(value: Any) -> str:
    """GrowthBook's `paddedVersionString`: a string whose order is the version order."""
    if is_number(value):
        value = js_number_string(value)
    if not value or not isinstance(value, str):
        value = "0"
    return padded_version(value)


@lru_cache(maxsize=1024)
def padded_version(version: str) -> str:
    """Pad numeric parts so "  9" < " 10", and rank a release above its pre-releases."""
    parts = _VERSION_SEPARATORS.split(_VERSION_NOISE.sub("", version))
    # "~" sorts after every letter and digit, so 1.0.0 ranks above 1.0.0-beta; only a bare
    # major.minor.patch gets it, exactly as GrowthBook does.
    if len(parts) == 3:
        parts.append("~")
    return "-".join(part.rjust(5) if part.isdigit() else part for part in parts)


# --- JavaScript's relational comparison (`actual < expected`) -------------------------------

# What JavaScript's StringToNumber trims: WhiteSpace and LineTerminator code points.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"  # noqa: E501
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX = {"x": 16, "o": 8, "b": 2}
_JS_RADIX_DIGITS = {
    16: re.compile(r"[0-9a-fA-F]+"),
    8: re.compile(r"[0-7]+"),
    2: re.compile(r"[01]+"),
}


def js_to_primitive(value: Any) -> Any:
    """A JSON value as JavaScript's ToPrimitive leaves it: arrays and objects become text."""
    if isinstance(value, list):
        return ",".join(_js_element_text(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return value


def _js_element_text(item: Any) -> str:
    """An array element as `Array.prototype.join` writes it (null becomes "")."""
    if item is None:
        return ""
    if item is True:
        return "true"
    if item is False:
        return "false"
    if isinstance(item, str):
        return item
    if isinstance(item, int | float):
        return js_number_string(item)
    return str(js_to_primitive(item))


def js_to_number(value: Any) -> float:
    """JavaScript's ToNumber of a primitive: null is 0, booleans 0 and 1, text is parsed."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, str):
        return _js_string_to_number(value)
    try:
        return float(value)
    except OverflowError:
        # An integer too large for a double is Infinity in JavaScript.
        return math.inf if value > 0 else -math.inf


def _js_string_to_number(text: str) -> float:
    """StringToNumber: decimal, `Infinity`, or unsigned 0x/0o/0b literals; NaN otherwise."""
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    if len(text) > 2 and text[0] == "0" and text[1] in "xXoObB":
        base = _JS_RADIX[text[1].lower()]
        if _JS_RADIX_DIGITS[base].fullmatch(text, 2):
            return float(int(text[2:], base))
    return math.nan


def js_compare(compare: Callable[[Any, Any], bool], actual: Any, expected: Any) -> bool:
    """`compare(actual, expected)` as JavaScript's `<`, `<=`, `>`, `>=` answer for JSON values.

    Two texts (after arrays and objects become text) compare by UTF-16 code units; any other
    pair compares as numbers, so null is 0, "8" is 8 and "abc" is NaN, which fails every
    comparison.
    """
    left = js_to_primitive(actual)
    right = js_to_primitive(expected)
    if isinstance(left, str) and isinstance(right, str):
        if left.isascii() and right.isascii():
            return compare(left, right)
        return compare(utf16_units(left), utf16_units(right))
    return compare(js_to_number(left), js_to_number(right))
