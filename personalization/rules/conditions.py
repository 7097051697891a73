"""Compile the condition level: attribute paths, `$and`/`$or`/`$nor`/`$not` and `$inSegment`.

A condition becomes a list of parts that must all pass, checked in GrowthBook's order
(the order of the keys). Looking up a dotted path is compiled into the field's closure, and
the commonest leaves (an attribute equal to a literal, several operators on one attribute)
are fused into a single closure so that the hot path makes as few calls as possible.
"""

from typing import Any

from personalization.rules.fused import fused_field, fused_range
from personalization.rules.nodes import (
    MALFORMED,
    NEVER,
    SAVED_GROUP_KEYS,
    Compiled,
    Node,
    Result,
    all_of,
    any_of,
    negate,
)
from personalization.rules.operators import compile_operator, compile_value, is_operator_object
from personalization.rules.semantics import array_index, json_type


def compile_condition_node(condition: Any) -> Compiled:
    """A condition (a JSON object of attribute paths and $and/$or/...) as a node of attributes."""
    return all_of(compile_condition_parts(condition))


def compile_condition_parts(condition: Any) -> list[Compiled]:
    """The parts of a condition that must all pass, in the order GrowthBook checks them."""
    if not isinstance(condition, dict):
        return [MALFORMED]
    parts: list[Compiled] = []
    for key, value in condition.items():
        if key == "$and":
            if not is_list_like(value):
                parts.append(MALFORMED)
                continue
            # An $and's conditions join this one's parts: same order, one level less.
            for item in value:
                parts.extend(compile_condition_parts(item))
        elif key == "$or":
            parts.append(any_of(_condition_list(value)) if is_list_like(value) else MALFORMED)
        elif key == "$nor":
            parts.append(
                negate(any_of(_condition_list(value))) if is_list_like(value) else MALFORMED
            )
        elif key == "$not":
            # compile_condition_parts, not _node: one frame per level of nesting, as deep
            # as GrowthBook's own recursion goes.
            parts.append(negate(all_of(compile_condition_parts(value))))
        elif key == "$inSegment":
            parts.append(in_segment_node(value))
        elif not isinstance(key, str):
            parts.append(MALFORMED)
        elif key in SAVED_GROUP_KEYS:
            parts.append(NEVER)  # Tailor has no saved groups, so nothing is in one
        else:
            # Any other key names an attribute, "$groups" included, as in every GrowthBook SDK.
            parts.append(field_node(key, value))
    return parts


def is_list_like(value: Any) -> bool:
    # GrowthBook iterates whatever it is given: a dict yields its keys and a string its
    # characters (malformed conditions, unless empty); anything else raises.
    return isinstance(value, list | dict | str)


def _condition_list(value: list[Any] | dict[Any, Any] | str) -> list[Compiled]:
    return [compile_condition_node(item) for item in value]


def in_segment_node(segment: Any) -> Compiled:
    """Tailor's `$inSegment`: the segment key is in `attributes["segments"]`."""
    if not isinstance(segment, str):
        return NEVER

    def in_segment(attributes: Any) -> bool:
        if type(attributes) is dict:
            segments = attributes.get("segments")
        else:
            segments = step(attributes, "segments", None)
        if segments is None:
            return False
        if isinstance(segments, str):
            # A lone key, not a container: "vip" must not match "vipers" by substring.
            return segments == segment
        try:
            return segment in segments
        except (TypeError, ValueError, LookupError, AttributeError):
            # Not a container, or a lazy one that could not answer: not a member.
            return False

    return in_segment, False


def field_node(path: str, expected: Any) -> Compiled:
    """Test the value at a dotted path of the attributes against a condition value."""
    segments = path.split(".")
    if len(segments) == 1:
        # Fused lookup-and-compare for the commonest leaf, {"device": "mobile"}: one call
        # per leaf instead of two on the hot path.
        fused = _field_equals(path, array_index(path), expected)
        if fused is not None:
            return fused, False
    if is_operator_object(expected) and len(expected) > 1:
        parts = [compile_operator(name, argument) for name, argument in expected.items()]
        if not any(undecided for _, undecided in parts):
            nodes = tuple(node for node, _ in parts)
            in_range = fused_range(path, expected, nodes, step) if len(segments) == 1 else None
            return in_range or _field_all(segments, nodes), False
    node, undecided = compile_value(expected)
    if not undecided:
        fused_node = fused_field(segments, expected, node, step)
        if fused_node is not None:
            return fused_node, False
    if len(segments) == 1:
        index = array_index(path)

        def field(attributes: Any) -> Result:
            if type(attributes) is dict:
                return node(attributes.get(path))
            return node(step(attributes, path, index))

        return field, undecided

    steps = tuple((segment, array_index(segment)) for segment in segments)

    def nested_field(attributes: Any) -> Result:
        # The walk is written out here, not called, to spare a call per evaluation.
        current = attributes
        for segment, index in steps:
            current = (
                current.get(segment) if type(current) is dict else step(current, segment, index)
            )
            if current is None:
                break
        return node(current)

    return nested_field, undecided


def _field_equals(path: str, index: int | None, expected: Any) -> Node | None:
    """A single-key field compared with a literal scalar, fused into one closure."""
    if isinstance(expected, str):

        def field_equals_text(attributes: Any) -> bool:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            return isinstance(value, str) and value == expected

        return field_equals_text
    if expected is None or expected is True or expected is False:

        def field_is(attributes: Any) -> bool:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            return value is expected

        return field_is
    if json_type(expected) == "number":

        def field_equals_number(attributes: Any) -> bool:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            return (
                isinstance(value, int | float)
                and value is not True
                and value is not False
                and value == expected
            )

        return field_equals_number
    return None


def _field_all(segments: list[str], nodes: tuple[Node, ...]) -> Node:
    """A field with several decided operators ({"$gte": 1, "$lt": 9}), looked up once."""
    if len(segments) == 1:
        path = segments[0]
        index = array_index(path)

        def field_all(attributes: Any) -> bool:
            value = (
                attributes.get(path) if type(attributes) is dict else step(attributes, path, index)
            )
            for node in nodes:  # noqa: SIM110 - all() would allocate a generator per call
                if not node(value):
                    return False
            return True

        return field_all

    steps = tuple((segment, array_index(segment)) for segment in segments)

    def nested_field_all(attributes: Any) -> bool:
        value = attributes
        for segment, index in steps:
            value = value.get(segment) if type(value) is dict else step(value, segment, index)
            if value is None:
                break
        for node in nodes:  # noqa: SIM110 - all() would allocate a generator per call
            if not node(value):
                return False
        return True

    return nested_field_all


def attribute_at(attributes: Any, path: str) -> Any:
    """The value at a dotted path, read exactly as the compiled fields read it (None if absent)."""
    if "." not in path:
        if type(attributes) is dict:
            return attributes.get(path)
        return step(attributes, path, array_index(path))
    current = attributes
    for segment in path.split("."):
        if type(current) is dict:
            current = current.get(segment)
        else:
            current = step(current, segment, array_index(segment))
        if current is None:
            break
    return current


def step(current: Any, segment: str, index: int | None) -> Any:
    """One path segment, as JavaScript reads own properties: keys, array indices, `length`."""
    if isinstance(current, dict):
        # `in` and `[]` rather than .get(), which would bypass a subclass's own lookups.
        return current[segment] if segment in current else None  # noqa: SIM401
    if isinstance(current, list):
        if segment == "length":
            return len(current)
        if index is not None and index < len(current):
            return current[index]
    return None
