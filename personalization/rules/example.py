"""Attribute values that satisfy a condition: the make-believe visitor of a segment's preview.

`condition_example` walks a condition and picks, for each attribute it tests, a value the test
accepts: the literal of an equality, the first of `$in`, a bound of `$gte`/`$lte`, one past a
bound of `$gt`/`$lt`, the elements of `$all`; `$or` takes its first branch, `$and` every one.
Tests it cannot satisfy by picking (`$ne`, `$nin`, `$not`, `$nor`, regular expressions,
versions) are left alone: the attribute keeps whatever value it has. The caller evaluates the
condition on the result to say whether the example really matches. Nothing here imports Django.
"""

from dataclasses import dataclass, field
from typing import Any

from personalization.rules.operators import is_operator_object

__all__ = ["ConditionExample", "condition_example", "example_apply"]

_NOT_FOUND = object()


@dataclass
class ConditionExample:
    """Values by dotted attribute path, and the segments `$inSegment` asks for."""

    values: dict[str, Any] = field(default_factory=dict)
    segments: set[str] = field(default_factory=set)


def _number_step(bound: Any, step: int) -> Any:
    if isinstance(bound, bool):
        return _NOT_FOUND
    if isinstance(bound, int | float):
        return bound + step
    return _NOT_FOUND


def _pick(name: str, argument: Any) -> Any:
    """A value that passes `{name: argument}`, or _NOT_FOUND when none is picked."""
    if name == "$eq" or (name in ("$gte", "$lte") and not isinstance(argument, bool)):
        return argument
    if name == "$gt":
        return _number_step(argument, 1)
    if name == "$lt":
        return _number_step(argument, -1)
    if name in ("$in", "$ini") and isinstance(argument, list) and argument:
        return argument[0]
    if name in ("$all", "$alli") and isinstance(argument, list):
        return list(argument)
    if name == "$exists" and argument is True:
        return True  # some value; a literal from another operator wins
    if name == "$size" and isinstance(argument, int) and not isinstance(argument, bool):
        return [None] * max(argument, 0)
    return _NOT_FOUND


def _value(expected: Any) -> Any:
    if not is_operator_object(expected):
        return expected
    picked = _NOT_FOUND
    for name, argument in expected.items():
        candidate = _pick(name, argument)
        if candidate is not _NOT_FOUND and (picked is _NOT_FOUND or picked is True):
            picked = candidate
    return picked


def _walk(condition: Any, example: ConditionExample) -> None:
    if not isinstance(condition, dict):
        return
    for key, value in condition.items():
        if key == "$and" and isinstance(value, list):
            for item in value:
                _walk(item, example)
        elif key == "$or" and isinstance(value, list) and value:
            _walk(value[0], example)
        elif key == "$inSegment" and isinstance(value, str):
            example.segments.add(value)
        elif isinstance(key, str) and key and not key.startswith("$"):
            picked = _value(value)
            if picked is not _NOT_FOUND:
                example.values[key] = picked


def condition_example(condition: Any) -> ConditionExample:
    """Values (by dotted path) and segments that make the condition true where picking can."""
    example = ConditionExample()
    _walk(condition, example)
    return example


def example_apply(attributes: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`attributes` with each dotted path set to its value (objects made along the way)."""
    for path, value in values.items():
        parts = path.split(".")
        holder = attributes
        for part in parts[:-1]:
            inner = holder.get(part)
            inner = dict(inner) if isinstance(inner, dict) else {}
            holder[part] = inner
            holder = inner
        holder[parts[-1]] = value
    return attributes
