"""Generate one Python function for a condition, so that evaluating it makes few calls.

The closures of `conditions.py` cost a call per combinator and per leaf. For a condition
whose parts are all decided (no operator GrowthBook does not know), this module writes the
condition level as one boolean expression, `$and` as `and`, `$or` as `or`, `$nor` and
`$not` as `not`, in the order the closures run, and the commonest leaves inline: a path
looked up as the closures look it up, tested against a text or boolean literal, `$exists`,
`$type` "string" or "null", one order operator on a number, `$in`/`$nin`/`$ne`/`$ini`/`$nini`
on text, a version operator on text, or `$size` of a list against a whole number or one order
operator, with anything outside the usual case handed to the operator's own node. Every
other part is a call of the very node `conditions.py` compiled for it (malformed parts
included, which raise when reached), so the answers are the closures' by construction. The
evaluator holds the expression itself, so that evaluating a condition costs one call;
`$elemMatch` over objects tests each element with a generated root node the same way.

Only names bound in the function's namespace appear in the source: attribute paths,
literals and option sets are never written into it.
"""

import functools
from collections.abc import Callable
from types import CodeType
from typing import Any

from personalization.rules.conditions import field_node, in_segment_node, is_list_like, step
from personalization.rules.nodes import EVALUATION_ERRORS, MALFORMED, SAVED_GROUP_KEYS, Node
from personalization.rules.operators import (
    compile_operator,
    elem_match_node,
    elem_match_on_objects,
    is_operator_object,
)
from personalization.rules.semantics import array_index, json_type, padded_version, version_key

MAX_PARTS = 200  # beyond this many parts the closures serve; Python's parser has limits too
_ORDER = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_VERSION_ORDER = {"$veq": "==", "$vne": "!=", **{f"$v{name[1:]}": o for name, o in _ORDER.items()}}
_ZERO_VERSION = version_key("0")
_NUMBERS = frozenset({int, float})


@functools.lru_cache(maxsize=512)
def compiled_source(source: str) -> CodeType:
    """Python's compilation of a generated source, shared by conditions of the same shape.

    The source holds names only, so conditions that differ in their paths and values but not
    in their structure (a segment per threshold, say) share it, and Python compiles it once.
    """
    return compile(source, "<condition>", "exec")


class _Undecided(Exception):
    """A part can be undecided: the closures, which keep GrowthBook's third value, serve."""


# The generated source: the condition's evaluator, True only when the condition is decided
# True and False on any of the errors E (EVALUATION_ERRORS), the expression inline so that
# evaluating costs one call.
_SOURCE = """\
def evaluate(a):
    try:
        return ({expression}) is True
    except E:
        return False
"""


# A condition's root node: True or False, raising what the compiled parts raise.
_ROOT_SOURCE = """\
def root(a):
    return {expression}
"""


def generate(condition: Any) -> Callable[[Any], bool] | None:
    """The evaluator of the attributes answering as the compiled parts do, or None."""
    return _generated(condition, _SOURCE, "evaluate")


def generate_root(condition: Any) -> Node | None:
    """The root node answering as `compile_condition_node`'s does (for `$elemMatch`), or None."""
    return _generated(condition, _ROOT_SOURCE, "root")


def _generated(condition: Any, template: str, name: str) -> Any:
    writer = _Writer()
    try:
        expression = writer.all_of(condition)
        if writer.parts > MAX_PARTS:
            return None
        namespace = dict(writer.names, E=EVALUATION_ERRORS)
        source = template.replace("{expression}", expression)
        exec(compiled_source(source), namespace)  # noqa: S102 - our own source
    except (_Undecided, RecursionError, SyntaxError, MemoryError, ValueError):
        return None
    return namespace[name]


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
        lookup = self.lookup(path.split("."))
        if isinstance(expected, str):
            return f"(isinstance({lookup}, str) and v == {self.name(expected)})"
        if expected is True or expected is False or expected is None:
            return f"({lookup} is {expected})"
        if not is_operator_object(expected):
            return self.call(node)
        # Operators in order on the value looked up once, as the closures test them.
        tests = [
            self.operation(lookup if number == 0 else "v", name, argument)
            for number, (name, argument) in enumerate(expected.items())
        ]
        return "(" + " and ".join(tests) + ")" if tests else "True"

    def lookup(self, segments: list[str]) -> str:
        """An expression binding `v` to the value at the path, read as the closures read it:
        a segment at a time, a missing one ending the walk."""
        first, index = self.name(segments[0]), self.name(array_index(segments[0]))
        read = f"(a.get({first}) if type(a) is dict else S(a, {first}, {index}))"
        for segment in segments[1:]:
            name, index = self.name(segment), self.name(array_index(segment))
            then = f"(v.get({name}) if type(v) is dict else S(v, {name}, {index}))"
            read = f"(None if (v := {read}) is None else {then})"
        return f"(v := {read})"

    def operation(self, value: str, operator: str, argument: Any) -> str:
        """One operator on the value (an expression binding `v`, or `v`), inline if usual."""
        if operator == "$elemMatch" and elem_match_on_objects(argument):
            # Each element's fields tested by a generated root node: one call per element.
            root = generate_root(argument)
            if root is not None:
                return f"{self.name(elem_match_node(root, False)[0])}({value})"
        own = self.name(compile_operator(operator, argument)[0])
        if operator == "$exists" and isinstance(argument, bool | int | float | str | None):
            return f"({value} is {'not ' if argument else ''}None)"
        if operator == "$eq" and type(argument) is str:
            return f"(isinstance({value}, str) and v == {self.name(argument)})"
        if operator == "$type" and argument == "null":
            return f"({value} is None)"
        if operator == "$type" and argument == "string":
            kind = f"{self.name(json_type)}(v) == {self.name(argument)}"
            return f"(type({value}) is str or (v is not None and {kind}))"
        if operator == "$type" and isinstance(argument, str):
            return f"({self.name(json_type)}({value}) == {self.name(argument)})"
        if operator in _ORDER and type(argument) in (int, float):
            bound, sign = self.name(argument), _ORDER[operator]
            number = f"type({value}) in {self.name(_NUMBERS)}"
            # A missing value is null, which JavaScript orders as 0.
            otherwise = f"(0 {sign} {bound} if v is None else {own}(v))"
            return f"(v {sign} {bound} if {number} else {otherwise})"
        texts = type(argument) is list and bool(argument) and all(type(o) is str for o in argument)
        if operator in ("$in", "$nin") and texts:
            test = "in" if operator == "$in" else "not in"
            options = self.name(frozenset(argument))
            return f"(v {test} {options} if type({value}) is str else {own}(v))"
        if operator == "$ne" and type(argument) is str:
            return f"(v != {self.name(argument)} if type({value}) is str else {own}(v))"
        if operator in ("$ini", "$nini") and texts:
            test = "in" if operator == "$ini" else "not in"
            options = self.name(frozenset(option.lower() for option in argument))
            return f"(v.lower() {test} {options} if type({value}) is str else {own}(v))"
        if operator in _VERSION_ORDER and type(argument) is str:
            # As the operator's node compares: padded versions, an empty string as "0".
            padded, zero = self.name(padded_version), self.name(_ZERO_VERSION)
            sign, bound = _VERSION_ORDER[operator], self.name(version_key(argument))
            version = f"({padded}(v) if v else {zero})"
            return f"({version} {sign} {bound} if type({value}) is str else {own}(v))"
        if operator == "$size":
            return self.size(value, argument, own)
        return f"{own}({value})"

    def size(self, value: str, argument: Any, own: str) -> str:
        """`$size` with a whole number or one order operator on a number, on a list, inline."""
        if type(argument) is int:
            test = f"len(v) == {self.name(argument)}"
        elif (
            type(argument) is dict
            and len(argument) == 1
            and next(iter(argument)) in _ORDER
            and type(next(iter(argument.values()))) in (int, float)
        ):
            ((name, bound),) = argument.items()
            test = f"len(v) {_ORDER[name]} {self.name(bound)}"
        else:
            return f"{own}({value})"
        return f"({test} if type({value}) is list else {own}(v))"
