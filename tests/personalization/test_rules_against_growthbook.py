"""personalization.rules against GrowthBook's own interpreter, `growthbook.core.evalCondition`.

Two sources of cases: a hand-written catalogue of conditions crossed with a catalogue of
visitors (every operator, wrong types, missing values, arrays, malformed shapes), and a
seeded generator of random conditions and attributes. Every case must give exactly the
SDK's answer, except where the SDK orders two values that are not two numbers or two
strings (`$lt $lte $gt $gte` on a missing attribute, on "8" against 5, ...): there GrowthBook's
spec cases answer as JavaScript's `<` does and so does Tailor (test_rules_growthbook_spec.py,
test_rules_operators.py), so those cases, and only those, are left out here. Not generated,
on purpose: NaN (which Python compares by identity inside containers, so the answer would
depend on object reuse rather than on the condition).
"""

import json
import random
from typing import Any
from unittest import mock

import pytest
from growthbook import core as growthbook_core
from growthbook.core import evalCondition

from personalization.rules import compile_condition, evaluate_condition
from personalization.rules.engine import interpret_condition

VISITORS: list[dict[str, Any]] = [
    {},
    {"country": "DE", "device": "mobile", "visits": 3, "tags": ["shoes", "sale"]},
    {"country": "us", "device": "Desktop", "visits": 0, "tags": []},
    {"country": None, "device": None, "visits": None, "tags": None},
    {"country": "FR", "visits": "3", "tags": "shoes", "score": 2.5},
    {"visits": True, "score": 1, "flag": False, "tags": [True, 1, 0, False]},
    {"visits": 1.0, "score": 0.0, "flag": 0, "tags": [1.0, "1", None]},
    {"user": {"plan": "pro", "age": 40, "langs": ["de", "en"]}, "visits": 12},
    {"user": {"plan": "free", "age": "40"}, "items": [{"sku": "a1", "qty": 2}, {"sku": "b2"}]},
    {"user": None, "items": [None, {"sku": "A1", "qty": 0}]},
    {"items": [[1, 2], [3]], "nums": [5, 15, -20], "name": "Zoë"},
    {"nums": [], "name": "zoe", "app": "1.2.3", "os": "v10.0.1-beta.2+build.7"},
    {"app": "1.2.3-rc.1", "os": "10.0", "name": "😀 party", "nums": [0, 0.5]},
    {"app": "1.10.0", "os": 10, "name": "\ue000", "bday": "1980-12-25"},
    {"app": 1.5, "os": "", "bday": "12-25", "ua": "Android Mobile Safari"},
    {"app": "", "ua": "Mozilla/5.0 (iPad; Tablet)", "email": "Ann@Example.COM"},
    {"email": "bob@example.com", "tags": ["SHOES", "Sale"], "ids": [{"id": 1}, {"id": "1"}]},
    {"ids": [{"id": 2, "tags": ["x"]}, {"id": 3, "tags": []}], "profile": {"a": 1, "b": [1]}},
    {"profile": {"b": [1], "a": 1}, "list": [1, [2, 3], {"k": "v"}], "big": 10**30},
    {"profile": {"a": 1, "b": [1]}, "list": [1, [2, 3], {"k": "v"}], "big": 1e21},
    {"user": {"langs": ["fr"], "plan": "PRO", "age": 17}, "visits": -1, "country": "de"},
    {"0": "zero", "length": 3, "arr": ["a", "b", "c"], "obj": {"0": "x", "1": "y"}},
    {"inf": float("inf"), "neg": float("-inf"), "zero": -0.0},
]

CONDITIONS: list[Any] = [
    {},
    {"country": "DE"},
    {"country": "de"},
    {"country": None},
    {"visits": 3},
    {"visits": 3.0},
    {"visits": True},
    {"flag": False},
    {"flag": 0},
    {"tags": "shoes"},
    {"tags": ["shoes", "sale"]},
    {"tags": []},
    {"profile": {"a": 1, "b": [1]}},
    {"profile": {"b": [1], "a": 1}},
    {"obj": {"1": "y", "0": "x"}},
    {"list": [1, [2, 3], {"k": "v"}]},
    {"inf": float("inf")},
    {"country": {"$eq": "DE"}},
    {"country": {"$ne": "DE"}},
    {"tags": {"$eq": ["shoes", "sale"]}},
    {"tags": {"$ne": []}},
    {"score": {"$eq": 1}},
    {"flag": {"$eq": False}},
    {"visits": {"$gt": 2}},
    {"visits": {"$gte": 3, "$lt": 10}},
    {"visits": {"$lte": 0}},
    {"visits": {"$gt": "2"}},
    {"visits": {"$gt": True}},
    {"visits": {"$lt": None}},
    {"name": {"$gt": "Z"}},
    {"name": {"$lt": "zoe"}},
    {"name": {"$gt": "\ud83d"}},
    {"name": {"$lt": "\uffff"}},
    {"big": {"$gt": 1e29}},
    {"inf": {"$gte": 1e308}},
    {"neg": {"$lt": -1e308}},
    {"country": {"$in": ["DE", "FR"]}},
    {"country": {"$in": "DE"}},
    {"country": {"$nin": ["DE", "FR"]}},
    {"country": {"$nin": "DE"}},
    {"country": {"$ini": ["de"]}},
    {"country": {"$nini": ["DE", "us"]}},
    {"tags": {"$in": ["sale", "x"]}},
    {"tags": {"$in": [1]}},
    {"tags": {"$in": [True]}},
    {"tags": {"$in": [None]}},
    {"tags": {"$in": [[1, 2], "shoes"]}},
    {"tags": {"$nin": ["shoes"]}},
    {"tags": {"$ini": ["shoes"]}},
    {"tags": {"$nini": ["SALE"]}},
    {"visits": {"$in": [0, 1]}},
    {"visits": {"$in": [True, 3]}},
    {"items": {"$in": [[1, 2]]}},
    {"user": {"$in": [{"plan": "pro"}]}},
    {"tags": {"$all": ["shoes", "sale"]}},
    {"tags": {"$all": []}},
    {"tags": {"$all": "shoes"}},
    {"tags": {"$alli": ["SHOES"]}},
    {"tags": {"$all": [{"$regex": "^sh"}, "sale"]}},
    {"items": {"$all": [[1, 2]]}},
    {"nums": {"$elemMatch": {"$gt": 10}}},
    {"nums": {"$elemMatch": {"$gt": 10, "$lt": 12}}},
    {"items": {"$elemMatch": {"sku": "a1"}}},
    {"items": {"$elemMatch": {"qty": {"$gte": 1}}}},
    {"items": {"$elemMatch": {"$or": [{"sku": "b2"}, {"qty": 0}]}}},
    {"ids": {"$elemMatch": {"tags": {"$size": 0}}}},
    {"tags": {"$elemMatch": {}}},
    {"tags": {"$elemMatch": {"$exists": False}}},
    {"tags": {"$elemMatch": {"$type": "null"}}},
    {"tags": {"$elemMatch": {"$ne": "1"}}},
    {"items": {"$elemMatch": {"sku": {"$exists": False}}}},
    {"tags": {"$elemMatch": "shoes"}},
    {"tags": {"$elemMatch": {"$not": {"$eq": "shoes"}}}},
    {"tags": {"$size": 2}},
    {"tags": {"$size": 0}},
    {"tags": {"$size": {"$gt": 1}}},
    {"tags": {"$size": "2"}},
    {"tags": {"$size": 2.0}},
    {"country": {"$exists": True}},
    {"country": {"$exists": False}},
    {"user.plan": {"$exists": True}},
    {"country": {"$exists": 0}},
    {"country": {"$exists": "no"}},
    {"country": {"$type": "string"}},
    {"country": {"$type": "null"}},
    {"tags": {"$type": "array"}},
    {"user": {"$type": "object"}},
    {"visits": {"$type": "number"}},
    {"visits": {"$type": "boolean"}},
    {"missing": {"$type": "undefined"}},
    {"ua": {"$regex": "(Mobile|Tablet)"}},
    {"ua": {"$regex": "mobile"}},
    {"ua": {"$regexi": "mobile"}},
    {"ua": {"$regex": "(unclosed"}},
    {"ua": {"$regexi": 5}},
    {"visits": {"$regex": "3"}},
    {"bday": {"$regex": "-12-25$"}},
    {"email": {"$notRegex": "@example\\.com$"}},
    {"email": {"$notRegexi": "@example\\.com$"}},
    {"email": {"$notRegex": "["}},
    {"app": {"$veq": "1.2.3"}},
    {"app": {"$vne": "1.2.3"}},
    {"app": {"$vgt": "1.2.3-rc.0"}},
    {"app": {"$vgte": "1.2.3"}},
    {"app": {"$vlt": "1.9.0"}},
    {"app": {"$vlte": "v1.10.0+abc"}},
    {"app": {"$vgt": 1}},
    {"app": {"$vne": 1.5}},
    {"app": {"$vgt": None}},
    {"app": {"$vne": None}},
    {"os": {"$vgt": "10.0.1-beta.1"}},
    {"os": {"$vlt": "10.0.1"}},
    {"os": {"$veq": "10"}},
    {"os": {"$vgte": 9}},
    {"user.plan": "pro"},
    {"user.age": {"$gte": 18}},
    {"user.langs.0": "de"},
    {"user.langs.length": 2},
    {"items.0.sku": "a1"},
    {"items.1.sku": {"$exists": True}},
    {"items.01.sku": "b2"},
    {"arr.length": {"$gt": 2}},
    {"arr.2": "c"},
    {"arr.-1": "c"},
    {"obj.0": "x"},
    {"0": "zero"},
    {"length": 3},
    {"user.plan.length": 3},
    {"$not": {"country": "DE"}},
    {"$not": {"country": {"$foo": 1}}},
    {"$not": "country"},
    {"$and": [{"country": "DE"}, {"visits": {"$gt": 2}}]},
    {"$and": []},
    {"$and": {}},
    {"$and": "x"},
    {"$and": 5},
    {"$and": [{"country": "DE"}, 5]},
    {"$and": [5, {"country": "DE"}]},
    {"$or": []},
    {"$or": {}},
    {"$or": {"country": "DE"}},
    {"$or": [{"country": "DE"}, {"country": "FR"}]},
    {"$or": [{"country": "DE"}, None]},
    {"$or": [{"x": {"$foo": 1}}, {"visits": 3}]},
    {"$or": [{"x": {"$foo": 1}}, {"visits": 4}]},
    {"$nor": []},
    {"$nor": [{"country": "DE"}, {"device": "Desktop"}]},
    {"$nor": [{"x": {"$foo": 1}}]},
    {"$nor": None},
    {"country": {"$foo": "DE"}},
    {"country": {"$foo": "DE"}, "visits": 4},
    {"country": {"$not": {"$foo": 1}}},
    {"country": {"$not": "DE"}},
    {"country": {"$not": {"$in": ["DE", "FR"]}}},
    {"country": {"$or": [{"$eq": "DE"}]}},
    {"country": {"$inGroup": "g"}},
    {"country": {"$notInGroup": "g"}},
    {"country": {"$notInGroup": 5}},
    {"country": {"$savedGroups": 5}},
    {"$savedGroup": {"id": "g"}},
    {"country": {"$eq": "DE", "x": 1}},
    {"tags": {"$all": [{"$foo": 1}]}},
    {"tags": {"$elemMatch": {"$foo": 1}}},
    {"tags": {"$size": {"$foo": 1}}},
    {"$and": [{"user.age": {"$gt": 30}}, {"$or": [{"bday": {"$regex": "-12-25$"}}, {"x": 1}]}]},
    {"$inSegment": "vip"},
    {"$not": {"$inSegment": "vip"}},
    None,
    [],
    "country",
]


_ORDER_OPERATORS = frozenset({"$lt", "$lte", "$gt", "$gte"})
_sdk_operator = growthbook_core._eval_operator_condition


def _growthbook(attributes: dict[str, Any], condition: Any) -> bool | None:
    """The SDK's answer, or None where it ordered a pair that JavaScript would coerce."""
    coerced: list[str] = []

    def operator_spy(operator: str, value: Any, argument: Any, *args: Any, **kw: Any) -> Any:
        if operator in _ORDER_OPERATORS and not growthbook_core._is_orderable(value, argument):
            coerced.append(operator)
        return _sdk_operator(operator, value, argument, *args, **kw)

    with mock.patch.object(growthbook_core, "_eval_operator_condition", operator_spy):
        answer = evalCondition(attributes, condition)
    return None if coerced else answer


def _mismatches(cases: list[tuple[Any, dict[str, Any]]], least_compared: float = 0.8) -> list[str]:
    found = []
    compared = 0
    for condition, attributes in cases:
        theirs = _growthbook(attributes, condition)
        if theirs is None:
            continue
        compared += 1
        # Both ways Tailor answers: walking the condition (its first uses), and compiled.
        for way, ours in (
            ("interpreted", interpret_condition(condition, attributes)),
            ("compiled", compile_condition(condition)(attributes)),
        ):
            if ours is not theirs:
                found.append(f"{way}={ours} growthbook={theirs} {condition!r} on {attributes!r}")
    # The exclusion must stay narrow: most cases are compared.
    assert compared >= least_compared * len(cases), (compared, len(cases))
    return found


def test_catalogue_of_conditions_and_visitors_matches_growthbook() -> None:
    cases = [(condition, visitor) for condition in CONDITIONS for visitor in VISITORS]
    assert _mismatches(cases)[:5] == []


def test_catalogue_compiled_once_matches_growthbook_for_every_visitor() -> None:
    for condition in CONDITIONS:
        compiled = compile_condition(condition)
        for visitor in VISITORS:
            theirs = _growthbook(visitor, condition)
            if theirs is not None:
                assert compiled(visitor) is theirs, (condition, visitor)


_VERSIONS: list[Any] = [
    "1.0.0", "1.0.1", "1.9.0", "1.10.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "v1.0.0", "1.0.0+build.5", "1.0", "1",
    "10.0.0", "1.2.3.4", "1.0.0-", "", "v", "2023.10.01", "1.0.0-RC.1", "٣.0.0",
    0, 1, 1.5, 10, 1e21, -1, None, True, ["1.0.0"],
]  # fmt: skip


@pytest.mark.parametrize("operator", ["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"])
def test_every_pair_of_versions_compares_as_in_growthbook(operator: str) -> None:
    cases = [
        ({"v": {operator: bound}}, {"v": version}) for bound in _VERSIONS for version in _VERSIONS
    ]
    assert _mismatches(cases)[:5] == []


# --- random generation -------------------------------------------------------------------

_NAMES = ["a", "b", "tags", "user", "items", "n", "ver", "$groups"]
_STRINGS = [
    "", "a", "A", "b", "ab", "Ab", "shoes", "SHOES", "é", "É", "😀", "\ue000", "z",
    "1", "10", "2", "1.2.3", "1.2.3-beta", "1.2.3-rc.1", "v1.2.3", "1.2.3+build", "1.10",
    "1.2", "0", "true", "null",
]  # fmt: skip
_NUMBERS = [0, 1, -1, 2, 3, 10, 0.0, 1.0, 0.5, 2.5, -1.5, 1e21, 1e-7, 10**20, float("inf")]
_OPERATORS = [
    "$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$ini", "$nini", "$all",
    "$alli", "$elemMatch", "$size", "$exists", "$type", "$regex", "$regexi", "$notRegex",
    "$notRegexi", "$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte", "$not", "$foo",
    "$inGroup", "$notInGroup", "$or", "$savedGroups",
]  # fmt: skip
_PATTERNS = ["^a", "A$", "b|é", "[", "(x", "sh.es", "\\d+", "", "^$", "😀"]
_TYPES = ["string", "number", "boolean", "array", "object", "null", "undefined", "unknown"]


def _scalar(rng: random.Random) -> Any:
    kind = rng.randrange(10)
    if kind < 4:
        return rng.choice(_STRINGS)
    if kind < 7:
        return rng.choice(_NUMBERS)
    if kind < 9:
        return rng.choice([True, False])
    return None


def _value(rng: random.Random, depth: int = 0) -> Any:
    """An attribute value: mostly scalars, sometimes arrays and objects."""
    kind = rng.randrange(10)
    if depth >= 2 or kind < 6:
        return _scalar(rng)
    if kind < 9:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice([*_NAMES, "0", "1"]): _value(rng, depth + 1) for _ in range(rng.randrange(3))
    }


def _attributes(rng: random.Random) -> dict[str, Any]:
    return {name: _value(rng) for name in _NAMES if rng.random() < 0.7}


def _path(rng: random.Random) -> str:
    path = rng.choice(_NAMES)
    while rng.random() < 0.25:
        path += "." + rng.choice([*_NAMES, "0", "1", "length", "01"])
    return path


def _argument(rng: random.Random, operator: str, depth: int) -> Any:
    """Usually an argument of the operator's kind, sometimes any value at all."""
    if rng.random() < 0.12:
        return _value(rng)
    if operator in ("$in", "$nin", "$ini", "$nini", "$all", "$alli"):
        items = [_scalar(rng) for _ in range(rng.randrange(4))]
        if operator in ("$all", "$alli") and rng.random() < 0.3:
            items.append(_operators(rng, depth + 1))
        return items
    if operator == "$elemMatch":
        return _operators(rng, depth + 1) if rng.random() < 0.6 else _condition(rng, depth + 1)
    if operator == "$size":
        return rng.randrange(4) if rng.random() < 0.6 else _operators(rng, depth + 1)
    if operator == "$exists":
        return rng.choice([True, False])
    if operator == "$type":
        return rng.choice(_TYPES)
    if operator in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
        return rng.choice(_PATTERNS)
    if operator == "$not":
        return _operators(rng, depth + 1) if rng.random() < 0.7 else _scalar(rng)
    if operator == "$or":
        return [_condition(rng, depth + 1)]
    return _scalar(rng)


def _operators(rng: random.Random, depth: int) -> dict[str, Any]:
    if depth > 3:
        return {"$exists": rng.choice([True, False])}
    count = rng.choice([1, 1, 1, 2, 3])
    return {operator: _argument(rng, operator, depth) for operator in rng.sample(_OPERATORS, count)}


def _condition(rng: random.Random, depth: int = 0) -> Any:
    """A condition, occasionally malformed the ways editors manage to malform them."""
    if rng.random() < 0.03:
        return rng.choice([None, 5, "a", [], [{}]])
    condition: dict[str, Any] = {}
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.randrange(10)
        if depth < 3 and kind == 0:
            key = rng.choice(["$and", "$or", "$nor"])
            items = [_condition(rng, depth + 1) for _ in range(rng.randrange(4))]
            condition[key] = items if rng.random() < 0.95 else rng.choice([{}, "", "ab", 3])
        elif depth < 3 and kind == 1:
            condition["$not"] = _condition(rng, depth + 1)
        elif kind == 2:
            condition[_path(rng)] = _value(rng)
        elif kind == 3:
            condition["$inSegment"] = rng.choice(["vip", ""])
        else:
            condition[_path(rng)] = _operators(rng, depth)
    return condition


@pytest.mark.parametrize("seed", range(12))
def test_random_conditions_match_growthbook(seed: int) -> None:
    rng = random.Random(seed)
    cases = [(_condition(rng), _attributes(rng)) for _ in range(400)]
    assert _mismatches(cases)[:5] == []


@pytest.mark.parametrize("operator", _OPERATORS)
def test_random_single_operators_match_growthbook(operator: str) -> None:
    # One operator on one attribute at a time passes far more often than whole random
    # conditions do, so both answers of every operator get exercised.
    rng = random.Random(operator)
    cases = []
    for _ in range(150):
        attributes = _attributes(rng)
        name = rng.choice(_NAMES)
        argument = _argument(rng, operator, depth=1)
        if operator in _ORDER_OPERATORS and isinstance(argument, str | int | float):
            # Mostly a value of the bound's own kind: other pairs follow JavaScript (above).
            attributes[name] = rng.choice(_STRINGS if isinstance(argument, str) else _NUMBERS)
        cases.append(({name: {operator: argument}}, attributes))
    assert _mismatches(cases, least_compared=0.6)[:5] == []


@pytest.mark.parametrize("seed", range(4))
def test_random_conditions_survive_a_json_round_trip(seed: int) -> None:
    # Conditions are stored as JSON; the stored copy must mean exactly the same.
    rng = random.Random(1000 + seed)
    for _ in range(300):
        condition, attributes = _condition(rng), _attributes(rng)
        stored = json.loads(json.dumps(condition))
        assert evaluate_condition(stored, attributes) is evaluate_condition(condition, attributes)
