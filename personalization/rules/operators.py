"""Compile the value level: a literal to equal, or an object of operators on one value.

Each operator becomes a closure over its argument, prepared once: membership sets for
`$in`, the RE2 program for `$regex`, the padded bound for version operators, the
UTF-16 form of a string bound. Type checks mirror GrowthBook's: booleans are never
numbers, and the order operators compare as JavaScript does (the spec cases' answer).
"""

import operator
from collections.abc import Callable
from typing import Any

from personalization.rules.fused import contains_all_texts
from personalization.rules.nodes import (
    ALWAYS,
    CONDITION_KEYS,
    NEVER,
    Compiled,
    Node,
    Result,
    all_of,
    always,
    negate,
    never,
    stay_undecided,
)
from personalization.rules.patterns import (
    MAX_TESTED_LENGTH,
    PatternInvalid,
    PatternRefused,
    compile_search,
)
from personalization.rules.semantics import (
    deep_equal,
    js_compare,
    js_to_number,
    json_type,
    padded_version,
    strict_equal,
    utf16_units,
    version_key,
)


def is_operator_object(value: Any) -> bool:
    """Whether a condition value is made of operators (every key starts with "$")."""
    return isinstance(value, dict) and all(
        isinstance(key, str) and key.startswith("$") for key in value
    )


def compile_value(expected: Any, insensitive: bool = False) -> Compiled:
    """The test for one attribute value: an operator object, or a literal to equal."""
    if is_operator_object(expected):
        return all_of([compile_operator(name, argument) for name, argument in expected.items()])
    return _literal(expected, insensitive), False


def _literal(expected: Any, insensitive: bool) -> Node:
    """Equality with a literal: same JSON type and value, containers compared deeply."""
    if isinstance(expected, str):
        if insensitive:
            folded = expected.lower()
            return lambda value: isinstance(value, str) and value.lower() == folded
        return lambda value: isinstance(value, str) and value == expected
    if expected is True or expected is False or expected is None:
        return lambda value: value is expected
    if json_type(expected) == "number":
        return lambda value: (
            isinstance(value, int | float)
            and value is not True
            and value is not False
            and value == expected
        )
    return lambda value: deep_equal(expected, value)


def _equals(expected: Any) -> Node:
    """`$eq`: JavaScript `===`, so a list or an object never equals anything."""
    kind = json_type(expected)
    if kind in ("array", "object"):
        return never
    if kind == "unknown":
        return lambda value: strict_equal(value, expected)
    return _literal(expected, insensitive=False)


def _not_equals(expected: Any) -> Node:
    """`$ne`: not `===`, written out for scalars to spare a call on the hot path."""
    if isinstance(expected, str):
        return lambda value: not isinstance(value, str) or value != expected
    if expected is True or expected is False or expected is None:
        return lambda value: value is not expected
    if json_type(expected) == "number":
        # NaN is unequal to everything, itself included, so `!=` answers True as it should.
        return lambda value: (
            not isinstance(value, int | float)
            or value is True
            or value is False
            or value != expected
        )
    equals = _equals(expected)
    return lambda value: not equals(value)


_ZERO_VERSION = version_key("0")
_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_VERSION_ORDER = {
    "$veq": operator.eq,
    "$vne": operator.ne,
    "$vlt": operator.lt,
    "$vlte": operator.le,
    "$vgt": operator.gt,
    "$vgte": operator.ge,
}


def _order(name: str, bound: Any) -> Node:
    """`$lt`/`$lte`/`$gt`/`$gte`: JavaScript's `<`, `<=`, `>`, `>=`, as GrowthBook's spec cases say.

    Two numbers or two strings compare as such (strings by UTF-16 code units); any other
    pair of JSON values compares as JavaScript coerces it (`semantics.js_compare`): a
    missing attribute is null, which is 0, and "8" is 8. Values outside JSON never order.
    """
    compare = _ORDER[name]
    kind = json_type(bound)
    if kind == "unknown":
        return never
    if kind == "number":

        def order_number(value: Any) -> bool:
            # NaN on either side makes every comparison false, as in JavaScript.
            if isinstance(value, int | float) and value is not True and value is not False:
                return compare(value, bound)
            if value is None:  # a missing attribute: null, which is 0
                return compare(0, bound)
            return _order_coerced(compare, value, bound)

        return order_number
    if kind != "string":
        return lambda value: _order_coerced(compare, value, bound)
    bound_is_ascii = bound.isascii()
    bound_units = utf16_units(bound)
    bound_number = js_to_number(bound)

    def order_string(value: Any) -> bool:
        if not isinstance(value, str):
            if value is None:  # a missing attribute: null, which is 0
                return compare(0, bound_number)
            return _order_coerced(compare, value, bound)
        if bound_is_ascii and value.isascii():
            return compare(value, bound)
        # Outside ASCII, JavaScript orders by UTF-16 code units, not by code points.
        return compare(utf16_units(value), bound_units)

    return order_string


def _order_coerced(compare: Callable[[Any, Any], bool], value: Any, bound: Any) -> bool:
    """A pair of different JSON types, ordered as JavaScript coerces them."""
    if json_type(value) == "unknown":
        return False
    return js_compare(compare, value, bound)


def _version(name: str, bound: Any) -> Node:
    """`$veq`...`$vgte`: compare padded version strings; numbers compare with numbers only."""
    compare = _VERSION_ORDER[name]
    # A value that is not of the bound's kind (number or string) fails, except for $vne.
    mismatch = name == "$vne"
    kind = json_type(bound)
    if kind not in ("number", "string"):
        return always if mismatch else never
    bound_key = version_key(bound)
    if kind == "string":

        def version_string(value: Any) -> bool:
            if not isinstance(value, str):
                return mismatch
            # padded_version directly (it is cached): version_key would only re-check the type.
            return compare(padded_version(value) if value else _ZERO_VERSION, bound_key)

        return version_string

    def version_number(value: Any) -> bool:
        if json_type(value) != "number":
            return mismatch
        return compare(version_key(value), bound_key)

    return version_number


def _membership(options: Any, insensitive: bool) -> Node:
    """`$in`/`$ini`: the value, or any element of an array value, is one of the options."""
    if not isinstance(options, list):
        return never
    # Two lookups keep Python's True == 1 from matching a boolean to a number. Lists and
    # objects among the options never match (JavaScript's includes() compares references).
    plain: set[Any] = set()
    booleans: set[bool] = set()
    for option in options:
        if option is True or option is False:
            booleans.add(option)
        elif isinstance(option, str):
            plain.add(option.lower() if insensitive else option)
        elif option is None or json_type(option) == "number":
            plain.add(option)
    plain_options = frozenset(plain)
    boolean_options = frozenset(booleans)
    # A set intersection in C is exact unless booleans could alias the numbers 0 and 1.
    can_intersect = not insensitive and not boolean_options and not {0, 1} & plain_options

    def is_option(item: Any) -> bool:
        if item is True or item is False:
            return item in boolean_options
        if insensitive and isinstance(item, str):
            item = item.lower()
        try:
            return item in plain_options
        except TypeError:
            return False  # a list or an object

    def member(value: Any) -> bool:
        if isinstance(value, list):
            if can_intersect:
                try:
                    return not plain_options.isdisjoint(value)
                except TypeError:
                    pass  # unhashable elements: check one by one below
            for item in value:  # noqa: SIM110 - any() would allocate a generator per call
                if is_option(item):
                    return True
            return False
        if isinstance(value, dict):
            return False
        return is_option(value)

    return member


def _contains_all(expected: Any, insensitive: bool) -> Compiled:
    """`$all`/`$alli`: every expected item (a literal or operators) matches some element."""
    if not isinstance(expected, list):
        return NEVER
    if not insensitive and all(type(item) is str for item in expected):
        return contains_all_texts(tuple(expected)), False
    parts = [compile_value(item, insensitive) for item in expected]
    nodes = tuple(node for node, _ in parts)

    def contains_all(value: Any) -> Result:
        if not isinstance(value, list):
            return False
        result: Result = True
        for node in nodes:
            found: Result = False
            for item in value:
                outcome = node(item)
                if outcome is True:
                    found = True
                    break
                if outcome is None:
                    found = None
            if found is False:
                return False
            if found is None:
                result = None
        return result

    return contains_all, any(undecided for _, undecided in parts)


def elem_match_on_objects(condition: Any) -> bool:
    """Whether `$elemMatch` tests each element's fields (rather than the element itself)."""
    return not is_operator_object(condition) or bool(CONDITION_KEYS.intersection(condition))


def _elem_match(condition: Any) -> Compiled:
    """`$elemMatch`: some non-null element passes, as a value or as an object's fields."""
    if not elem_match_on_objects(condition):
        return elem_match_node(*compile_value(condition))
    # Imported here: conditions compile their fields with this module, and this one needs
    # them back only for $elemMatch over objects.
    from personalization.rules.conditions import compile_condition_node

    return elem_match_node(*compile_condition_node(condition))


def elem_match_node(node: Node, elements_undecided: bool) -> Compiled:
    """`$elemMatch` with the node testing one element (`generated.py` brings its own)."""

    def elem_match(value: Any) -> Result:
        if not isinstance(value, list):
            return False
        result: Result = False
        for item in value:
            if item is None:
                continue
            outcome = node(item)
            if outcome is True:
                return True
            if outcome is None:
                result = None
        return result

    return elem_match, elements_undecided


def _size(expected: Any) -> Compiled:
    """`$size`: the array's length equals a number or passes an operator object."""
    node, undecided = compile_value(expected)
    return (lambda value: node(len(value)) if isinstance(value, list) else False), undecided


def _regex(name: str, source: Any) -> Node:
    """`$regex`/`$regexi` (and their $notRegex negations): `re.search` semantics, run by RE2.

    A pattern Python's `re` refuses never matches, so its negation always does, as in
    GrowthBook. A valid pattern RE2 cannot run (lookaround, backreferences), and a value
    longer than MAX_TESTED_LENGTH, satisfy neither the operator nor its negation.
    """
    negated = name.startswith("$not")
    if not isinstance(source, str):
        return always if negated else never
    ignore_case = name.endswith("i")
    if not negated:
        return _lazy_regex(source, ignore_case)
    try:
        search = compile_search(source, ignore_case=ignore_case)
    except PatternInvalid:
        return always
    except PatternRefused:
        return never
    return lambda value: (
        not isinstance(value, str) or (len(value) <= MAX_TESTED_LENGTH and not search(value))
    )


def _lazy_regex(source: str, ignore_case: bool) -> Node:
    """`$regex`/`$regexi`, compiling the pattern at the first string it tests.

    Whatever the pattern, a value that is not a string (a missing attribute, say) fails, so a
    condition met only by visitors without the attribute never pays for compiling it.
    """
    search: Callable[[str], bool] | None = None

    def regex(value: Any) -> bool:
        nonlocal search
        if not isinstance(value, str) or len(value) > MAX_TESTED_LENGTH:
            return False
        if search is None:
            try:
                search = compile_search(source, ignore_case=ignore_case)
            except PatternRefused:  # PatternInvalid too: neither ever matches
                search = never
        return search(value)  # a bool already

    return regex


def compile_operator(name: str, argument: Any) -> Compiled:
    """One operator of an operator object, as a node of the attribute value."""
    if name == "$eq":
        return _equals(argument), False
    if name == "$ne":
        return _not_equals(argument), False
    if name in _ORDER:
        return _order(name, argument), False
    if name in _VERSION_ORDER:
        return _version(name, argument), False
    if name in ("$in", "$ini"):
        return _membership(argument, insensitive=name == "$ini"), False
    if name in ("$nin", "$nini"):
        if not isinstance(argument, list):
            return NEVER  # a malformed $nin fails too; it is not the negation of $in here
        return negate((_membership(argument, insensitive=name == "$nini"), False))
    if name in ("$all", "$alli"):
        return _contains_all(argument, insensitive=name == "$alli")
    if name == "$elemMatch":
        return _elem_match(argument)
    if name == "$size":
        return _size(argument)
    if name == "$exists":
        if argument:
            return (lambda value: value is not None), False
        return (lambda value: value is None), False
    if name == "$type":
        if not isinstance(argument, str):
            return NEVER
        return (lambda value: json_type(value) == argument), False
    if name in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
        return _regex(name, argument), False
    if name == "$not":
        return negate(compile_value(argument))
    if name == "$inGroup":
        return NEVER  # GrowthBook saved groups: Tailor has none, so no value is in one
    if name == "$notInGroup":
        return ALWAYS if isinstance(argument, str) else NEVER
    if name in CONDITION_KEYS:
        return NEVER  # a condition-level key used on a value never matches
    return (stay_undecided, True)
