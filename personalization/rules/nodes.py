"""What compiled conditions are made of: nodes, GrowthBook's three-valued result, combinators.

Every part of a condition compiles to a `Compiled` pair: a node, called with the value it
tests (the attribute dict for a condition, one attribute value for an operator), and
whether that node can answer `None`. `None` is GrowthBook's "undecided": an unknown
operator neither passes nor fails, `$not` keeps it undecided, `$or` can still pass through
another branch, and the whole condition fails unless it ends up `True`. Parts that cannot
be undecided get plain boolean combinators, which are faster.

A part GrowthBook cannot evaluate (`$and` holding a number, `$not` holding a string, ...)
compiles into a node that raises `MalformedConditionError` when it is reached, because
GrowthBook fails the whole condition at that moment, even under `$not` or `$or`, and not
when the malformed part is never reached.

Loops in nodes stay explicit: all() and any() over a generator would allocate one per call.
"""

from collections.abc import Callable
from typing import Any

# True or False, or None while undecided (an operator this language does not know).
Result = bool | None
Node = Callable[[Any], Result]
Compiled = tuple[Node, bool]

# Keys that combine conditions: inside $elemMatch they make it test each element's fields.
CONDITION_KEYS = frozenset({"$and", "$or", "$nor", "$savedGroup", "$inSegment"})
# Condition-level keys of GrowthBook's saved groups, which Tailor does not have.
SAVED_GROUP_KEYS = frozenset({"$savedGroup", "$savedGroups"})


class MalformedConditionError(Exception):
    """A part of a condition that GrowthBook cannot evaluate was reached."""


# What evaluating a condition can raise: a malformed part of the condition, or an attribute
# value that refuses to be compared. GrowthBook fails the whole condition on these, and so
# does Tailor: evaluation answers False rather than raising.
EVALUATION_ERRORS = (
    MalformedConditionError,
    TypeError,
    ValueError,
    AttributeError,
    LookupError,
    RecursionError,
)


def always(_value: Any) -> bool:
    """A node that always passes."""
    return True


def never(_value: Any) -> bool:
    """A node that never passes."""
    return False


def stay_undecided(_value: Any) -> None:
    """A node that stays undecided (an operator GrowthBook does not know)."""
    return None


def _malformed(_value: Any) -> bool:
    raise MalformedConditionError


ALWAYS: Compiled = (always, False)
NEVER: Compiled = (never, False)
MALFORMED: Compiled = (_malformed, False)


# --- combinators -------------------------------------------------------------------------


def all_of(parts: list[Compiled]) -> Compiled:
    """Pass when every part passes, checking them in order (an empty list passes)."""
    if not parts:
        return ALWAYS
    if len(parts) == 1:
        return parts[0]
    nodes = tuple(node for node, _ in parts)
    if any(undecided for _, undecided in parts):

        def all_of_undecided(value: Any) -> Result:
            result: Result = True
            for node in nodes:
                outcome = node(value)
                if outcome is False:
                    return False
                if outcome is None:
                    result = None
            return result

        return all_of_undecided, True
    if len(nodes) == 2:
        first, second = nodes
        return (lambda value: first(value) and second(value)), False

    def all_of_decided(value: Any) -> Result:
        for node in nodes:  # noqa: SIM110 - all() would allocate a generator per call
            if not node(value):
                return False
        return True

    return all_of_decided, False


def any_of(parts: list[Compiled]) -> Compiled:
    """Pass when a part passes, checking them in order (an empty list passes, as in GrowthBook)."""
    if not parts:
        return ALWAYS
    if len(parts) == 1:
        return parts[0]
    nodes = tuple(node for node, _ in parts)
    if any(undecided for _, undecided in parts):

        def any_of_undecided(value: Any) -> Result:
            result: Result = False
            for node in nodes:
                outcome = node(value)
                if outcome is True:
                    return True
                if outcome is None:
                    result = None
            return result

        return any_of_undecided, True

    def any_of_decided(value: Any) -> Result:
        for node in nodes:  # noqa: SIM110 - any() would allocate a generator per call
            if node(value):
                return True
        return False

    return any_of_decided, False


def negate(part: Compiled) -> Compiled:
    """Pass when the part fails; an undecided part stays undecided."""
    node, undecided = part
    if undecided:

        def negate_undecided(value: Any) -> Result:
            outcome = node(value)
            return None if outcome is None else not outcome

        return negate_undecided, True
    return (lambda value: not node(value)), False
