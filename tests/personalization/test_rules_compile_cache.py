"""compile_condition compiles once into closures, caches by content and identity, never raises."""

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import pytest

from personalization.rules import compile_condition, engine, evaluate_condition


@pytest.fixture(autouse=True)
def _empty_caches() -> Iterator[None]:
    engine.clear_caches()
    yield
    engine.clear_caches()


def test_compiled_condition_gives_the_same_answers_as_evaluate_condition() -> None:
    condition = {"device": "mobile", "visits": {"$gte": 3}}
    compiled = compile_condition(condition)
    for visitor in ({"device": "mobile", "visits": 3}, {"device": "mobile"}, {}):
        assert compiled(visitor) is evaluate_condition(condition, visitor)


def test_compiling_the_same_condition_twice_returns_the_cached_function() -> None:
    condition = {"country": {"$in": ["DE", "FR"]}}
    assert compile_condition(condition) is compile_condition(condition)


def test_an_equal_copy_of_a_condition_finds_the_cached_function() -> None:
    condition = {"$or": [{"country": "DE"}, {"tags": {"$all": ["a", "b"]}}]}
    assert compile_condition(copy.deepcopy(condition)) is compile_condition(condition)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"x": 1}, {"x": True}),
        ({"x": 1}, {"x": 1.0}),
        ({"x": {"a": 1, "b": 2}}, {"x": {"b": 2, "a": 1}}),
        ({"x": [1, 2]}, {"x": [2, 1]}),
        ({"x": "1"}, {"x": 1}),
    ],
)
def test_conditions_that_differ_only_in_type_or_order_are_cached_apart(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    assert compile_condition(first) is not compile_condition(second)


def test_true_and_one_keep_their_own_meaning_through_the_cache() -> None:
    assert evaluate_condition({"x": 1}, {"x": 1}) is True
    assert evaluate_condition({"x": True}, {"x": 1}) is False
    assert evaluate_condition({"x": 1}, {"x": True}) is False


def test_editing_an_evaluated_condition_in_place_is_noticed() -> None:
    condition: dict[str, Any] = {"country": "DE"}
    assert evaluate_condition(condition, {"country": "DE"}) is True
    condition["country"] = "FR"
    assert evaluate_condition(condition, {"country": "DE"}) is False
    condition["tags"] = {"$size": 0}
    assert evaluate_condition(condition, {"country": "FR", "tags": []}) is True


def test_editing_a_nested_part_of_an_evaluated_condition_is_noticed() -> None:
    condition: dict[str, Any] = {"$and": [{"visits": {"$gte": 3}}]}
    assert evaluate_condition(condition, {"visits": 3}) is True
    condition["$and"][0]["visits"]["$gte"] = 4
    assert evaluate_condition(condition, {"visits": 3}) is False


def test_a_compiled_function_is_unaffected_by_later_edits_to_the_condition() -> None:
    condition: dict[str, Any] = {"country": {"$in": ["DE"]}}
    compiled = compile_condition(condition)
    condition["country"]["$in"].append("FR")
    assert compiled({"country": "FR"}) is False
    assert compile_condition(condition)({"country": "FR"}) is True


class CountingDict(dict[str, Any]):
    """A condition that counts how often anything reads it."""

    reads = 0

    def items(self) -> Any:
        CountingDict.reads += 1
        return super().items()

    def __iter__(self) -> Iterator[str]:
        CountingDict.reads += 1
        return super().__iter__()

    def __getitem__(self, key: str) -> Any:
        CountingDict.reads += 1
        return super().__getitem__(key)


def test_evaluating_a_compiled_condition_never_reads_the_condition_again() -> None:
    condition = CountingDict(
        {"$or": [CountingDict(country="DE"), CountingDict(visits=CountingDict({"$gt": 2}))]}
    )
    compiled = compile_condition(condition)
    reads_while_compiling = CountingDict.reads
    for visits in range(100):
        compiled({"country": "FR", "visits": visits})
    assert CountingDict.reads == reads_while_compiling
    assert compiled({"visits": 3}) is True


def test_conditions_beyond_marshal_are_compiled_without_caching() -> None:
    condition = OrderedDict(country="DE")
    assert compile_condition(condition) is not compile_condition(condition)
    assert evaluate_condition(condition, {"country": "DE"}) is True
    assert not engine._compiled


def test_tuples_and_sets_in_a_condition_keep_growthbooks_python_meaning() -> None:
    # GrowthBook's Python SDK only accepts lists for $in; a tuple is not one.
    assert evaluate_condition({"x": {"$in": ("a", "b")}}, {"x": "a"}) is False
    assert evaluate_condition({"x": {"$in": ["a", "b"]}}, {"x": "a"}) is True
    assert evaluate_condition({"x": {"$type": "array"}, "y": {"a"}}, {"x": [], "y": {"a"}})


def test_compiled_cache_is_bounded_and_keeps_recently_used_conditions() -> None:
    kept = {"kept": 0}
    kept_function = compile_condition(kept)
    for number in range(engine.COMPILED_CACHE_SIZE + 50):
        compile_condition({"n": number})
        if number % 100 == 0:
            compile_condition(copy.deepcopy(kept))  # a use by content, not by identity
    assert len(engine._compiled) == engine.COMPILED_CACHE_SIZE
    assert compile_condition(copy.deepcopy(kept)) is kept_function
    assert compile_condition({"n": 0}) is not None


def test_identity_table_is_bounded() -> None:
    conditions = [{"n": number} for number in range(2000)]
    for condition in conditions:
        evaluate_condition(condition, {"n": 1})
    assert len(engine._recent) <= 512


@pytest.mark.parametrize("depth", [300, 600])
def test_deeply_nested_condition_still_evaluates(depth: int) -> None:
    # One stack frame per level, as in GrowthBook's own recursion.
    condition: dict[str, Any] = {"country": "DE"}
    for _ in range(depth):
        condition = {"$not": condition}
    assert evaluate_condition(condition, {"country": "DE"}) is True
    assert evaluate_condition(condition, {"country": "FR"}) is False


def test_absurdly_nested_condition_fails_instead_of_raising() -> None:
    condition: dict[str, Any] = {"country": "DE"}
    for _ in range(5000):
        condition = {"$not": condition}
    assert evaluate_condition(condition, {"country": "DE"}) is False


def test_circular_condition_fails_instead_of_raising() -> None:
    condition: dict[str, Any] = {"country": "DE"}
    condition["$or"] = [condition]
    assert evaluate_condition(condition, {"country": "FR"}) is False


def test_evaluation_is_safe_from_many_threads_at_once() -> None:
    conditions = [{"visits": {"$gte": n}, "tags": {"$in": [f"t{n}"]}} for n in range(300)]
    failures: list[str] = []

    def worker(offset: int) -> None:
        for round_ in range(3):
            for n, condition in enumerate(conditions):
                visitor = {"visits": n + offset % 2, "tags": [f"t{n}"]}
                if evaluate_condition(copy.deepcopy(condition) if round_ else condition, visitor):
                    continue
                failures.append(f"{condition} on {visitor}")

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_conditions_first_evaluations_are_interpreted_and_the_next_one_compiles_it() -> None:
    condition = {"visits": {"$gte": 3}}
    for _ in range(engine.INTERPRETED_USES):
        assert evaluate_condition(condition, {"visits": 3}) is True
    assert not engine._compiled
    assert evaluate_condition(condition, {"visits": 2}) is False
    assert len(engine._compiled) == 1


def test_equal_copies_count_towards_compiling_a_condition() -> None:
    condition = {"country": {"$in": ["DE", "FR"]}}
    for _ in range(engine.INTERPRETED_USES + 1):
        assert evaluate_condition(copy.deepcopy(condition), {"country": "FR"}) is True
    assert len(engine._compiled) == 1


def test_compile_condition_compiles_at_once() -> None:
    compile_condition({"device": "mobile"})
    assert len(engine._compiled) == 1


def test_editing_a_compiled_condition_in_place_is_noticed() -> None:
    condition: dict[str, Any] = {"$and": [{"visits": {"$gte": 3}}]}
    for _ in range(engine.INTERPRETED_USES + 2):
        assert evaluate_condition(condition, {"visits": 3}) is True
    condition["$and"][0]["visits"]["$gte"] = 4
    assert evaluate_condition(condition, {"visits": 3}) is False
