"""Check the shape of a condition and say, in an editor's words, what is wrong and where.

Evaluation forgives everything (a malformed part simply never matches), so an editor needs
this to learn why a rule never fires. Paths read like the condition: `$and[1].visits` is the
`visits` entry of the second condition under `$and`; operators nest with dots
(`tags.$elemMatch`), and the whole condition is `(condition)`.
"""

from dataclasses import dataclass
from typing import Any

from personalization.rules.nodes import CONDITION_KEYS
from personalization.rules.operators import is_operator_object
from personalization.rules.patterns import PatternInvalid, PatternRefused, compile_search
from personalization.rules.semantics import TYPE_NAMES

ROOT = "(condition)"

_LIST_OPERATORS = ("$in", "$nin", "$ini", "$nini", "$all", "$alli")
_ORDER_OPERATORS = ("$gt", "$gte", "$lt", "$lte")
_VERSION_OPERATORS = ("$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte")
_REGEX_OPERATORS = ("$regex", "$regexi", "$notRegex", "$notRegexi")
_SAVED_GROUP_OPERATORS = ("$savedGroup", "$savedGroups", "$inGroup", "$notInGroup")
_SAVED_GROUP_MESSAGE = (
    "{} needs GrowthBook saved groups, which Tailor does not have: use $inSegment"
)


@dataclass(frozen=True)
class ConditionIssue:
    """One problem in a condition: where it is and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate_condition(condition: Any) -> list["ConditionIssue"]:
    """Every shape problem of a condition, in reading order; an empty list means valid."""
    issues: list[ConditionIssue] = []
    if not isinstance(condition, dict):
        issues.append(ConditionIssue(ROOT, "a condition must be a JSON object"))
        return issues
    _check_condition(condition, "", issues)
    return issues


def condition_segment_keys(condition: Any) -> set[str]:
    """Every segment key that `$inSegment` names anywhere in the condition."""
    keys: set[str] = set()
    pending = [condition]
    # Every dict and list is searched, not just where $inSegment takes effect: finding too
    # many references only makes the cycle check stricter, never blind to a real cycle.
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            segment = current.get("$inSegment")
            if isinstance(segment, str):
                keys.add(segment)
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return keys


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check_condition(condition: dict[Any, Any], prefix: str, issues: list[ConditionIssue]) -> None:
    here = prefix or ROOT
    for key, value in condition.items():
        if not isinstance(key, str):
            issues.append(ConditionIssue(here, f"key {key!r} must be a string"))
        elif key in ("$and", "$or", "$nor"):
            _check_condition_list(key, value, _join(prefix, key), issues)
        elif key == "$not":
            path = _join(prefix, key)
            if isinstance(value, dict):
                _check_condition(value, path, issues)
            else:
                issues.append(ConditionIssue(path, "$not needs a condition (a JSON object)"))
        elif key == "$inSegment":
            if not isinstance(value, str) or not value:
                issues.append(ConditionIssue(here, "$inSegment needs a segment key"))
        elif key in _SAVED_GROUP_OPERATORS:
            issues.append(ConditionIssue(here, _SAVED_GROUP_MESSAGE.format(key)))
        elif key.startswith("$"):
            issues.append(ConditionIssue(here, f"unknown operator {key}"))
        elif not key:
            issues.append(ConditionIssue(here, "an attribute name must not be empty"))
        else:
            _check_value(value, _join(prefix, key), issues)


def _check_condition_list(key: str, value: Any, path: str, issues: list[ConditionIssue]) -> None:
    if not isinstance(value, list):
        issues.append(ConditionIssue(path, f"{key} needs a list of conditions"))
        return
    for position, item in enumerate(value):
        item_path = f"{path}[{position}]"
        if isinstance(item, dict):
            _check_condition(item, item_path, issues)
        else:
            issues.append(
                ConditionIssue(item_path, f"each entry of {key} must be a condition (an object)")
            )


def _check_value(value: Any, path: str, issues: list[ConditionIssue]) -> None:
    """A field's value: a literal to equal, or an object of operators."""
    if not isinstance(value, dict) or not value:
        return  # any JSON literal can be compared; {} matches everything
    if is_operator_object(value):
        for name, argument in value.items():
            _check_operator(name, argument, path, issues)
        return
    operators = [key for key in value if isinstance(key, str) and key.startswith("$")]
    if operators:
        issues.append(
            ConditionIssue(
                path,
                f"mixes operators ({', '.join(operators)}) with attribute names, "
                "so it would only match an identical object",
            )
        )


def _check_operator(name: str, argument: Any, path: str, issues: list[ConditionIssue]) -> None:
    """One operator on a field's value."""

    def issue(message: str) -> None:
        issues.append(ConditionIssue(path, message))

    if name in ("$eq", "$ne"):
        if isinstance(argument, list | dict):
            issue(
                f"{name} needs a single value (text, number, true/false or null): "
                "lists and objects never match"
            )
    elif name in _ORDER_OPERATORS:
        if isinstance(argument, bool) or not isinstance(argument, int | float | str):
            issue(f"{name} needs a number or a string")
    elif name in _VERSION_OPERATORS:
        if not isinstance(argument, str):
            issue(f'{name} needs a version string such as "1.2.3"')
    elif name in _LIST_OPERATORS:
        if not isinstance(argument, list):
            issue(f"{name} needs a list")
        elif name in ("$all", "$alli"):
            for position, item in enumerate(argument):
                _check_value(item, f"{path}.{name}[{position}]", issues)
    elif name == "$elemMatch":
        _check_elem_match(argument, _join(path, name), issues)
    elif name == "$size":
        if is_operator_object(argument):
            _check_value(argument, _join(path, name), issues)
        elif isinstance(argument, bool) or not isinstance(argument, int | float):
            issue("$size needs a number or an object of operators")
    elif name == "$exists":
        if not isinstance(argument, bool):
            issue("$exists needs true or false")
    elif name == "$type":
        if not isinstance(argument, str) or argument not in TYPE_NAMES:
            issue(f"$type needs one of: {', '.join(sorted(TYPE_NAMES))}")
    elif name in _REGEX_OPERATORS:
        problem = _regex_problem(name, argument)
        if problem:
            issue(problem)
    elif name == "$not":
        _check_value(argument, _join(path, name), issues)
    elif name in _SAVED_GROUP_OPERATORS:
        issue(_SAVED_GROUP_MESSAGE.format(name))
    elif name in CONDITION_KEYS:
        issue(f"{name} belongs at the condition level, not on an attribute")
    else:
        issue(f"unknown operator {name}")


def _check_elem_match(argument: Any, path: str, issues: list[ConditionIssue]) -> None:
    """Operators test each element itself; anything else is a condition on each element."""
    if not isinstance(argument, dict):
        issues.append(ConditionIssue(path, "$elemMatch needs a JSON object"))
    elif is_operator_object(argument) and not CONDITION_KEYS.intersection(argument):
        for name, inner in argument.items():
            _check_operator(name, inner, path, issues)
    else:
        _check_condition(argument, path, issues)


def _regex_problem(name: str, argument: Any) -> str | None:
    if not isinstance(argument, str):
        return f"{name} needs a regular expression as a string"
    try:
        compile_search(argument, ignore_case=name.endswith("i"))
    except PatternInvalid as invalid:
        return f"{name} is not a valid regular expression: {invalid}"
    except PatternRefused as refused:
        return f"{name}: {refused}"
    return None
