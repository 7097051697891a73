"""Conditions compiled into one generated function: what it covers and what it leaves out."""

from typing import Any

import pytest

from personalization.rules import compile_condition, engine
from personalization.rules.generated import MAX_PARTS, compiled_source, generate


def test_a_condition_with_only_known_operators_gets_a_generated_function() -> None:
    assert generate({"device": "mobile", "visits": {"$gte": 3}}) is not None


def test_a_condition_that_can_stay_undecided_is_left_to_the_closures() -> None:
    assert generate({"device": "mobile", "visits": {"$foo": 3}}) is None


def test_a_condition_with_too_many_parts_is_left_to_the_closures() -> None:
    condition = {"$and": [{"n": number} for number in range(MAX_PARTS + 1)]}
    assert generate(condition) is None
    assert compile_condition(condition)({"n": 1}) is False


@pytest.mark.parametrize(
    "text", ["') or True or ('", '" + __import__("os").getcwd() + "', "\\", "k1", "a.get"]
)
def test_condition_values_are_never_written_into_the_generated_source(text: str) -> None:
    engine.clear_caches()
    name = text.replace(".", "_")  # a dot would make it a path
    condition: dict[str, Any] = {name: text, "x": {"$in": [text]}, "y": {"$ne": text}}
    check = compile_condition(condition)
    assert check({name: text, "x": text, "y": "other"}) is True
    assert check({name: "other", "x": text, "y": "other"}) is False


def test_deeply_nested_conditions_are_left_to_the_closures() -> None:
    condition: dict[str, Any] = {"country": "DE"}
    for _ in range(150):
        condition = {"$not": {"$not": condition}}
    assert generate(condition) is None
    assert compile_condition(condition)({"country": "DE"}) is True


def test_conditions_of_the_same_shape_share_one_compiled_source() -> None:
    engine.clear_caches()
    first = compile_condition({"sessions": {"$gte": 1}, "lifecycle": {"$ne": "dormant"}})
    second = compile_condition({"visits": {"$gte": 7}, "plan": {"$ne": "free"}})
    assert compiled_source.cache_info().currsize == 1
    assert first({"sessions": 1, "lifecycle": "new"}) is True
    assert second({"visits": 1, "plan": "pro"}) is False
    assert second({"visits": 7, "plan": "pro"}) is True
