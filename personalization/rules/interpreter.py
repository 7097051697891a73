"""Evaluate a condition by walking it, for the first uses of a condition before it is compiled.

Compiling a condition (`conditions.py`) pays off from its second or third evaluation on, but
costs several interpreted evaluations up front; most conditions met once (a preview, a
validation, a rule tried against one visitor) would pay that for nothing. So `engine.py`
interprets a condition's first uses and compiles it after that.

The answers are the compiled ones by construction: the condition level (`$and`, `$or`,
`$nor`, `$not`, `$inSegment`, attribute paths) is walked here in the order the compiled
parts run, with GrowthBook's three-valued results and malformed parts that fail the whole
condition only when reached, and each attribute value is tested by the very node
`operators.compile_value` builds for it. Tests run both paths over the spec cases and the
differential cases against GrowthBook.
"""

from typing import Any

from personalization.rules.conditions import attribute_at, in_segment_node, is_list_like
from personalization.rules.nodes import SAVED_GROUP_KEYS, MalformedConditionError, Result
from personalization.rules.operators import compile_operator, compile_value


def interpret(condition: Any, attributes: Any) -> Result:
    """GrowthBook's three-valued answer; raises MalformedConditionError on a malformed part."""
    if not isinstance(condition, dict):
        raise MalformedConditionError
    result: Result = True
    for key, value in condition.items():
        if key == "$and":
            if not is_list_like(value):
                raise MalformedConditionError
            # An $and's conditions run as parts of this one, in the same order.
            for item in value:
                outcome = interpret(item, attributes)
                if outcome is False:
                    return False
                if outcome is None:
                    result = None
            continue
        if key == "$or":
            outcome = _any(value, attributes)
        elif key == "$nor":
            outcome = _any(value, attributes)
            outcome = None if outcome is None else not outcome
        elif key == "$not":
            outcome = interpret(value, attributes)
            outcome = None if outcome is None else not outcome
        elif key == "$inSegment":
            outcome = in_segment_node(value)[0](attributes)
        elif not isinstance(key, str):
            raise MalformedConditionError
        elif key in SAVED_GROUP_KEYS:
            return False
        else:
            outcome = _field(attributes, key, value)
        if outcome is False:
            return False
        if outcome is None:
            result = None
    return result


def _any(conditions: Any, attributes: Any) -> Result:
    """`$or`: True at the first passing condition; an empty list passes, as in GrowthBook."""
    if not is_list_like(conditions):
        raise MalformedConditionError
    if not conditions:
        return True
    result: Result = False
    for item in conditions:
        outcome = interpret(item, attributes)
        if outcome is True:
            return True
        if outcome is None:
            result = None
    return result


def _field(attributes: Any, path: str, expected: Any) -> Result:
    """The attribute at a path tested against a literal or an object of operators."""
    value = attribute_at(attributes, path)
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    if expected is None or expected is True or expected is False:
        return value is expected
    if type(expected) is dict and len(expected) == 1:
        # The commonest shape, one operator: its node alone, as compile_value would build it.
        ((name, argument),) = expected.items()
        if isinstance(name, str) and name.startswith("$"):
            return compile_operator(name, argument)[0](value)
    return compile_value(expected)[0](value)
