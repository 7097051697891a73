"""A targeting condition in plain words, for editors: "device is mobile and visited 3+ times".

`condition_summary` reads a condition the way `evaluate_condition` does and says it in one
line: attribute names with underscores as spaces, lists joined with "or", groups of several
parts in parentheses. It names every operator of the language; a part it cannot read (an
unknown operator, a malformed group) is shown as its JSON rather than dropped, so a summary
never hides a test. Nothing here imports Django.
"""

import json
from collections.abc import Callable
from typing import Any

from personalization.rules.operators import is_operator_object

__all__ = ["condition_summary"]

EVERYONE = "everyone"

# Counts that read better as a number of times ("visited 3+ times").
_VISITS = {
    "visit_count": "",
    "session": "",
    "sessions_7d": " in the last 7 days",
    "sessions_30d": " in the last 30 days",
    "sessions_90d": " in the last 90 days",
}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _word(value: Any) -> str:
    """A value as words: text bare, true/false, "empty" for null, numbers as written."""
    if isinstance(value, str):
        return value if value.strip() else '""'
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "empty"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return _json(value)


def _choices(values: Any, joiner: str = "or") -> str:
    if not isinstance(values, list):
        return _word(values)
    words = [_word(value) for value in values]
    if not words:
        return "nothing"
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {joiner} {words[-1]}"


def _label(path: str) -> str:
    return path.replace("_", " ")


def _visits(path: str, name: str, argument: Any) -> str | None:
    if path not in _VISITS or isinstance(argument, bool) or not isinstance(argument, int):
        return None
    within = _VISITS[path]
    phrase = {
        "$gte": f"{argument}+",
        "$gt": f"more than {argument}",
        "$lte": f"at most {argument}",
        "$lt": f"fewer than {argument}",
        "$eq": f"exactly {argument}",
    }.get(name)
    if phrase is None:
        return None
    times = "time" if phrase.endswith(" 1") or phrase == "1+" else "times"
    return f"visited {phrase} {times}{within}"


_PHRASES: dict[str, Callable[[Any], str]] = {
    "$eq": lambda a: f"is {_word(a)}",
    "$ne": lambda a: f"is not {_word(a)}",
    "$gt": lambda a: f"is more than {_word(a)}",
    "$gte": lambda a: f"is {_word(a)} or more",
    "$lt": lambda a: f"is less than {_word(a)}",
    "$lte": lambda a: f"is at most {_word(a)}",
    "$in": lambda a: f"is {_choices(a)}",
    "$nin": lambda a: f"is not {_choices(a)}",
    "$ini": lambda a: f"is {_choices(a)} (any case)",
    "$nini": lambda a: f"is not {_choices(a)} (any case)",
    "$all": lambda a: f"has all of {_choices(a, 'and')}",
    "$alli": lambda a: f"has all of {_choices(a, 'and')} (any case)",
    "$exists": lambda a: "is set" if a else "is not set",
    "$type": lambda a: f"is of type {_word(a)}",
    "$regex": lambda a: f"matches {_word(a)}",
    "$regexi": lambda a: f"matches {_word(a)} (any case)",
    "$notRegex": lambda a: f"does not match {_word(a)}",
    "$notRegexi": lambda a: f"does not match {_word(a)} (any case)",
    "$veq": lambda a: f"is version {_word(a)}",
    "$vne": lambda a: f"is not version {_word(a)}",
    "$vgt": lambda a: f"is a version after {_word(a)}",
    "$vgte": lambda a: f"is version {_word(a)} or later",
    "$vlt": lambda a: f"is a version before {_word(a)}",
    "$vlte": lambda a: f"is version {_word(a)} or earlier",
}


def _operator(path: str, name: str, argument: Any) -> str:
    """One operator applied to the attribute at `path`."""
    visits = _visits(path, name, argument)
    if visits is not None:
        return visits
    label = _label(path)
    if name in _PHRASES:
        return f"{label} {_PHRASES[name](argument)}"
    if name == "$size":
        if is_operator_object(argument):
            return f"the number of {label} {_value_words('', argument).strip()}"
        return f"{label} has {_word(argument)} element{'' if argument == 1 else 's'}"
    if name == "$elemMatch":
        if is_operator_object(argument):
            return f"{label} has an element that {_value_words('', argument).strip()}"
        return f"{label} has an element where {_condition(argument, nested=True)}"
    if name == "$not":
        return f"not ({_field(path, argument)})"
    return f"{label} {name} {_word(argument)}"


def _value_words(path: str, value: Any) -> str:
    """Operators on a value with no attribute name ($size's or $elemMatch's own tests)."""
    parts = [_operator(path, name, argument) for name, argument in value.items()]
    return " and ".join(part.strip() for part in parts)


def _field(path: str, value: Any) -> str:
    """One attribute's test: a literal to equal, or an object of operators."""
    if value == {}:
        return f"{_label(path)} is anything"
    if is_operator_object(value):
        return " and ".join(_operator(path, name, argument) for name, argument in value.items())
    if isinstance(value, list):
        return f"{_label(path)} is exactly {_json(value)}"
    return _operator(path, "$eq", value)


def _group(parts: list[str], joiner: str, nested: bool) -> str:
    text = f" {joiner} ".join(parts)
    return f"({text})" if nested and len(parts) > 1 else text


def _key(key: Any, value: Any, nested: bool) -> str:
    if key in ("$and", "$or") and isinstance(value, list):
        parts = [_condition(item, nested=True) for item in value]
        if not parts:
            return EVERYONE if key == "$and" else "no one"
        return _group(parts, key[1:], nested)
    if key == "$nor" and isinstance(value, list):
        return f"none of ({'; '.join(_condition(item) for item in value)})"
    if key == "$not" and isinstance(value, dict):
        return f"not ({_condition(value)})"
    if key == "$inSegment":
        return f"in segment {_word(value)}"
    if isinstance(key, str) and key and not key.startswith("$"):
        return _field(key, value)
    return _json({key: value}) if isinstance(key, str) else repr({key: value})


def _condition(condition: Any, nested: bool = False) -> str:
    if not isinstance(condition, dict):
        return _json(condition)
    if not condition:
        return EVERYONE
    wrap = nested or len(condition) > 1  # a group beside other tests reads in parentheses
    parts = [_key(key, value, wrap) for key, value in condition.items()]
    return _group(parts, "and", nested)


def condition_summary(condition: Any) -> str:
    """The condition in plain words, e.g. "device is mobile and visited 3+ times"."""
    return _condition(condition)
