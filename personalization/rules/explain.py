"""Say which parts of a condition matched a visitor's attributes, and which part failed first.

`explain_condition` walks the condition the way an editor reads it and answers, for every
node, its path (written like `validate_condition`'s: `$and[1].visits`, `$not.device`, the
whole condition `(condition)`), whether it matched and, for a field test, the attribute
value it saw. Each node's answer is `evaluate_condition` of that node taken as a condition
of its own, so the explanation can never disagree with evaluation; only the walk is new.
A condition object with a single key is shown as that key's node (one level less to read).

This is for people (the admin's "test against a visitor"), not for the hot path: it
evaluates every node separately. Nothing here imports Django.
"""

from collections.abc import Mapping
from typing import Any

from personalization.rules.engine import evaluate_condition
from personalization.rules.operators import is_operator_object
from personalization.rules.semantics import array_index
from personalization.rules.validation import ROOT

_GROUPS = {"$and": "and", "$or": "or", "$nor": "nor"}


def explain_condition(condition: Any, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Whether the condition matched, the path of the first part that failed, and the tree.

    `{"matched": bool, "first_failure": path or None, "tree": node}`; a node is
    `{"path", "kind", "matched", ...}` where kind is `all` (a condition object of several
    keys, with `children`), `and`/`or`/`nor` (with `children`, one per listed condition),
    `not` (with `children`: the negated condition's keys), `field` (with `attribute`,
    `test`, `found`, `value` and, for several operators, `operators`), `segment`
    (`$inSegment`, with `segment` and `value`), `unknown` (an unknown `$` key) or `invalid`
    (not a condition object).
    """
    if not isinstance(attributes, dict):
        attributes = dict(attributes)
    tree = _condition_node(condition, "", attributes)
    matched = evaluate_condition(condition, attributes)
    return {
        "matched": matched,
        "first_failure": None if matched else _first_failure(tree),
        "tree": tree,
    }


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _matches(condition: Any, attributes: dict[str, Any]) -> bool:
    return evaluate_condition(condition, attributes)


def _condition_node(condition: Any, prefix: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """A condition object: the node of its only key, or an `all` node of its keys."""
    if not isinstance(condition, dict):
        return {"path": prefix or ROOT, "kind": "invalid", "matched": False, "children": []}
    if len(condition) == 1:
        ((key, value),) = condition.items()
        return _key_node(key, value, prefix, attributes)
    return {
        "path": prefix or ROOT,
        "kind": "all",
        "matched": _matches(condition, attributes),
        "children": [_key_node(key, value, prefix, attributes) for key, value in condition.items()],
    }


def _key_node(key: Any, value: Any, prefix: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """One key of a condition object, judged as the condition `{key: value}`."""
    matched = _matches({key: value}, attributes)
    if not isinstance(key, str):
        return {"path": prefix or ROOT, "kind": "invalid", "matched": matched, "children": []}
    path = _join(prefix, key)
    if key in _GROUPS:
        items = value if isinstance(value, list) else []
        return {
            "path": path,
            "kind": _GROUPS[key],
            "matched": matched,
            "children": [
                _condition_node(item, f"{path}[{position}]", attributes)
                for position, item in enumerate(items)
            ],
        }
    if key == "$not":
        inner = value if isinstance(value, dict) else {}
        return {
            "path": path,
            "kind": "not",
            "matched": matched,
            "children": [_key_node(k, v, path, attributes) for k, v in inner.items()],
        }
    if key == "$inSegment":
        return {
            "path": path,
            "kind": "segment",
            "matched": matched,
            "segment": value,
            "value": attributes.get("segments"),
        }
    if key.startswith("$") or not key:
        return {"path": path, "kind": "unknown", "matched": matched, "children": []}
    found, seen = _lookup(attributes, key)
    node: dict[str, Any] = {
        "path": path,
        "kind": "field",
        "matched": matched,
        "attribute": key,
        "test": value,
        "found": found,
        "value": seen,
    }
    if is_operator_object(value) and len(value) > 1:
        node["operators"] = [
            {
                "operator": name,
                "argument": argument,
                "matched": _matches({key: {name: argument}}, attributes),
            }
            for name, argument in value.items()
        ]
    return node


def _lookup(attributes: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path as conditions read it, and whether anything is there."""
    current = attributes
    for segment in path.split("."):
        if isinstance(current, dict):
            if segment not in current:
                return False, None
            current = current[segment]
        elif isinstance(current, list):
            index = array_index(segment)
            if segment == "length":
                current = len(current)
            elif index is not None and index < len(current):
                current = current[index]
            else:
                return False, None
        else:
            return False, None
    return True, current


def _first_failure(node: dict[str, Any]) -> str:
    """The path of the deepest failed node along the first failing branch."""
    if node["kind"] in ("all", "and"):
        for child in node["children"]:
            if not child["matched"]:
                return _first_failure(child)
    # A failed `or` is every branch failing, a failed `not` is its inside matching, and a
    # group whose parts all passed failed as a whole (a malformed part elsewhere): the node.
    return node["path"]
