"""Conditions compiled into one generated function: what it covers and what it leaves out."""

from typing import Any

import pytest

from personalization.rules import compile_condition, engine
from personalization.rules import generated as generated_module
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


class Text(str):
    """A string subclass: the inline tests leave it to the operator's own node."""


class Items(list[Any]):
    """A list subclass, likewise."""


INLINE_CONDITIONS: list[dict[str, Any]] = [
    {"x": {"$ini": ["DE", "fr"]}},
    {"x": {"$nini": ["DE", "fr"]}},
    {"x": {"$vgte": "2.3.0"}},
    {"x": {"$vne": "1.0.0-rc.1"}},
    {"x": {"$veq": ""}},
    {"x": {"$size": 2}},
    {"x": {"$size": {"$gt": 1}}},
    {"x": {"$size": {"$lte": 1.5}}},
    {"x": {"$type": "string"}},
    {"x": {"$type": "null"}},
    {"x": {"$all": ["a", "b"]}},
    {"x": {"$elemMatch": {"k": "a", "n": {"$gte": 2}}}},
    {"x": {"$elemMatch": {"k": {"$in": "not a list"}}}},
    {"x": {"$elemMatch": {"k": "a", "$and": 5}}},
]
ODD_VALUES: list[Any] = [
    None, "", "de", "FR", Text("de"), "2.3.0", "2.10.0-beta", "1.0.0-rc.1", Text("9.0.0"),
    2, 2.0, True, [], ["a"], ["a", "b"], ["b", "a", 1], Items(["a", "b"]), [None, "a", "b"],
    [{"k": "a", "n": 2}], [{"k": "a", "n": "2"}, None], [{"k": Text("a"), "n": 3}], ["a", ["b"]],
    {"k": "a"}, {"a", "b"},
]  # fmt: skip


@pytest.mark.parametrize("condition", INLINE_CONDITIONS)
def test_leaves_written_inline_answer_as_the_operators_own_nodes(
    condition: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    generated = generate(condition)
    assert generated is not None
    monkeypatch.setattr(engine, "generate", lambda condition: None)
    monkeypatch.setattr(generated_module, "generate_root", lambda condition: None)
    closures = engine._compile_uncached(condition)
    for value in ODD_VALUES:
        attributes = {"x": value}
        expected = closures(attributes)
        assert generated(attributes) is expected, (condition, value)
        assert engine.interpret_condition(condition, attributes) is expected, (condition, value)
