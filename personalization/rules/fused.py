"""Attribute lookups fused with the commonest tests into one closure: one call per leaf.

A field compiles to a lookup (`conditions.py`) that calls the node of its test
(`operators.py`): two calls per leaf. For the leaves most targeting rules are made of, the
lookup and the test's usual case are written out in one closure here: one segment with one
order operator on a number or `$in`/`$nin`/`$ne` on text, and two segments (`utm.source`,
`affinity.tech`) with a text or boolean literal or an order operator on a number. A value
outside the usual case (another type, an array, a missing one) goes to the operator's own
node, so the answers are the node's by construction. `$all` of texts, likewise, tests each
element as the texts' literal nodes would, without a call per element.
"""

import operator
from collections.abc import Callable
from typing import Any

from personalization.rules.nodes import Node
from personalization.rules.semantics import array_index

Step = Callable[[Any, str, int | None], Any]

_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}


def fused_field(segments: list[str], expected: Any, node: Node, step: Step) -> Node | None:
    """One closure doing the lookup and the test's usual case, or None for other shapes."""
    if len(segments) == 1:
        return _one_segment(segments[0], expected, node, step)
    if len(segments) == 2:
        return _two_segments(segments[0], segments[1], expected, node, step)
    return None


def _single_operator(expected: Any) -> tuple[Any, Any]:
    if type(expected) is dict and len(expected) == 1:
        ((name, argument),) = expected.items()
        return name, argument
    return None, None


def _texts(argument: Any) -> bool:
    """A non-empty list of texts only (`$in` options the fused closures can look up as a set)."""
    return type(argument) is list and bool(argument) and all(type(o) is str for o in argument)


def fused_range(
    path: str, expected: dict[str, Any], nodes: tuple[Node, ...], step: Step
) -> Node | None:
    """A one-segment field with several order operators on numbers ({"$gte": 1, "$lt": 9})."""
    bounds = []
    for name, argument in expected.items():
        if name not in _ORDER or type(argument) not in (int, float):
            return None
        bounds.append((_ORDER[name], argument))
    checks = tuple(bounds)
    index = array_index(path)

    def in_range(attributes: Any) -> Any:
        value = attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
        if value is None:  # missing: null, which JavaScript orders as 0
            value = 0
        elif type(value) is not int and type(value) is not float:
            for node in nodes:  # noqa: SIM110 - all() would allocate a generator per call
                if not node(value):
                    return False
            return True
        for compare, bound in checks:  # noqa: SIM110 - as above
            if not compare(value, bound):
                return False
        return True

    return in_range


def _one_segment(path: str, expected: Any, node: Node, step: Step) -> Node | None:
    index = array_index(path)
    name, argument = _single_operator(expected)
    if name in _ORDER and type(argument) in (int, float):
        compare = _ORDER[name]

        def order(attributes: Any) -> Any:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            if type(value) is int or type(value) is float:
                return compare(value, argument)
            if value is None:  # missing: null, which JavaScript orders as 0
                return compare(0, argument)
            return node(value)

        return order
    if name in ("$in", "$nin") and _texts(argument):
        options = frozenset(argument)
        listed = name == "$in"

        def member(attributes: Any) -> Any:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            if type(value) is str:
                return (value in options) is listed
            return node(value)

        return member
    if name == "$ne" and type(argument) is str:

        def not_equal(attributes: Any) -> Any:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            return value != argument if type(value) is str else node(value)

        return not_equal
    return None


def _two_segments(first: str, second: str, expected: Any, node: Node, step: Step) -> Node | None:
    # The walk of two segments is written out in each closure, as nested_field's loop would
    # run it (a None after the first segment ends it), to spare a call.
    one, two = array_index(first), array_index(second)
    if isinstance(expected, str):

        def equals_text(attributes: Any) -> bool:
            value = (
                attributes.get(first) if type(attributes) is dict else step(attributes, first, one)
            )
            if value is not None:
                value = value.get(second) if type(value) is dict else step(value, second, two)
            return isinstance(value, str) and value == expected

        return equals_text
    if expected is True or expected is False or expected is None:

        def equals_literal(attributes: Any) -> bool:
            value = (
                attributes.get(first) if type(attributes) is dict else step(attributes, first, one)
            )
            if value is not None:
                value = value.get(second) if type(value) is dict else step(value, second, two)
            return value is expected

        return equals_literal
    name, argument = _single_operator(expected)
    if name == "$in" and _texts(argument):
        options = frozenset(argument)

        def member(attributes: Any) -> Any:
            value = (
                attributes.get(first) if type(attributes) is dict else step(attributes, first, one)
            )
            if value is not None:
                value = value.get(second) if type(value) is dict else step(value, second, two)
            return value in options if type(value) is str else node(value)

        return member
    if name in _ORDER and type(argument) in (int, float):
        compare = _ORDER[name]

        def order(attributes: Any) -> Any:
            value = (
                attributes.get(first) if type(attributes) is dict else step(attributes, first, one)
            )
            if value is not None:
                value = value.get(second) if type(value) is dict else step(value, second, two)
            if type(value) is int or type(value) is float:
                return compare(value, argument)
            if value is None:  # missing: null, which JavaScript orders as 0
                return compare(0, argument)
            return node(value)

        return order
    return None


def contains_all_texts(texts: tuple[str, ...]) -> Node:
    """`$all` of texts: each text's literal test written out, sparing a call per element."""

    def all_texts(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        for text in texts:
            for item in value:
                if isinstance(item, str) and item == text:
                    break
            else:
                return False
        return True

    return all_texts
