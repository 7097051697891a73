"""Generate one Python function for a condition, so that evaluating it makes few calls.

The closures of `conditions.py` cost a call per combinator and per leaf. For a condition
whose parts are all decided (no operator GrowthBook does not know), this module writes the
condition level as one boolean expression, `$and` as `and`, `$or` as `or`, `$nor` and
`$not` as `not`, in the order the closures run, and the commonest leaves inline: a path of
one or two segments, looked up as the closures look it up, tested against a text or boolean
literal, `$exists`, one order operator on a number, or `$in`/`$nin`/`$ne` on text, with
anything outside the usual case handed to the operator's own node. Every other part is a
call of the very node `conditions.py` compiled for it (malformed parts included, which raise
when reached), so the answers are the closures' by construction.

Only names bound in the function's namespace appear in the source: attribute paths,
literals and option sets are never written into it.
"""

from collections.abc import Callable
from typing import Any

from personalization.rules.conditions import field_node, in_segment_node, is_list_like, step
from personalization.rules.nodes import MALFORMED, SAVED_GROUP_KEYS, Node
from personalization.rules.operators import compile_value
from personalization.rules.semantics import array_index

MAX_PARTS = 200  # beyond this many parts the closures serve; Python's parser has limits too
_ORDER = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


class _Undecided(Exception):
    """A part can be undecided: the closures, which keep GrowthBook's third value, serve."""


def generate(condition: Any) -> Callable[[Any], Any] | None:
    """One function of the attributes answering as the compiled parts do, or None."""
    writer = _Writer()
    try:
        expression = writer.all_of(condition)
        if writer.parts > MAX_PARTS:
            return None
        source = f"def generated(a):\n    return {expression}\n"
        namespace = dict(writer.names)
        exec(compile(source, "<condition>", "exec"), namespace)  # noqa: S102 - our own source
    except (_Undecided, RecursionError, SyntaxError, MemoryError, ValueError):
        return None
    return namespace["generated"]


class _Writer:
    def __init__(self) -> None:
        self.names: dict[str, Any] = {"S": step}
        self.parts = 0

    def name(self, value: Any) -> str:
        """A name bound to the value in the generated function's namespace."""
        name = f"k{len(self.names)}"
        self.names[name] = value
        return name

    def call(self, node: Node) -> str:
        return f"{self.name(node)}(a)"

    def all_of(self, condition: Any) -> str:
        parts = self.parts_of(condition)
        return "(" + " and ".join(parts) + ")" if parts else "True"

    def any_of(self, conditions: Any) -> str:
        if not is_list_like(conditions):
            return self.call(MALFORMED[0])
        branches = [self.all_of(item) for item in conditions]
        return "(" + " or ".join(branches) + ")" if branches else "True"

    def parts_of(self, condition: Any) -> list[str]:
        """Expressions of the parts of a condition, as `compile_condition_parts` orders them."""
        if not isinstance(condition, dict):
            return [self.call(MALFORMED[0])]
        parts: list[str] = []
        for key, value in condition.items():
            self.parts += 1
            if self.parts > MAX_PARTS:
                raise _Undecided
            if key == "$and":
                if not is_list_like(value):
                    parts.append(self.call(MALFORMED[0]))
                    continue
                for item in value:
                    parts.extend(self.parts_of(item))
            elif key == "$or":
                parts.append(self.any_of(value))
            elif key == "$nor":
                parts.append(f"(not {self.any_of(value)})")
            elif key == "$not":
                parts.append(f"(not {self.all_of(value)})")
            elif key == "$inSegment":
                parts.append(self.call(in_segment_node(value)[0]))
            elif not isinstance(key, str):
                parts.append(self.call(MALFORMED[0]))
            elif key in SAVED_GROUP_KEYS:
                parts.append("False")
            else:
                parts.append(self.field(key, value))
        return parts

    def field(self, path: str, expected: Any) -> str:
        node, undecided = field_node(path, expected)
        if undecided:
            raise _Undecided
        segments = path.split(".")
        if len(segments) > 2:
            return self.call(node)
        lookup = self.lookup(segments)
        return self.leaf(lookup, expected) or self.call(node)

    def lookup(self, segments: list[str]) -> str:
        """An expression binding `v` to the value at the path, read as the closures read it."""
        first = self.name(segments[0])
        one = self.name(array_index(segments[0]))
        read = f"(a.get({first}) if type(a) is dict else S(a, {first}, {one}))"
        if len(segments) == 1:
            return f"(v := {read})"
        second = self.name(segments[1])
        two = self.name(array_index(segments[1]))
        then = f"(v.get({second}) if type(v) is dict else S(v, {second}, {two}))"
        return f"(v := (None if (v := {read}) is None else {then}))"

    def leaf(self, lookup: str, expected: Any) -> str | None:
        """The test inline for the usual shapes, or None for the field's own node."""
        if isinstance(expected, str):
            return f"(isinstance({lookup}, str) and v == {self.name(expected)})"
        if expected is True or expected is False or expected is None:
            return f"({lookup} is {expected})"
        if type(expected) is not dict or len(expected) != 1:
            return None
        ((operator, argument),) = expected.items()
        if operator == "$exists" and isinstance(argument, bool | int | float | str | None):
            return f"({lookup} is {'not ' if argument else ''}None)"
        other = self.name(compile_value(expected)[0])
        if operator in _ORDER and type(argument) in (int, float):
            bound, sign = self.name(argument), _ORDER[operator]
            number = f"type({lookup}) is int or type(v) is float"
            # A missing value is null, which JavaScript orders as 0.
            otherwise = f"(0 {sign} {bound} if v is None else {other}(v))"
            return f"(v {sign} {bound} if {number} else {otherwise})"
        texts = type(argument) is list and bool(argument) and all(type(o) is str for o in argument)
        if operator in ("$in", "$nin") and texts:
            test = "in" if operator == "$in" else "not in"
            options = self.name(frozenset(argument))
            return f"(v {test} {options} if type({lookup}) is str else {other}(v))"
        if operator == "$ne" and type(argument) is str:
            return f"(v != {self.name(argument)} if type({lookup}) is str else {other}(v))"
        return None
