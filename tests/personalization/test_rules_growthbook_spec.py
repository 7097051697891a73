"""Every `evalCondition` case of GrowthBook's SDK specification (spec 0.8.0), one test each.

The cases are the reference every GrowthBook SDK is tested against (the vendored file and its
licence: `tests/data/README.md`), so they win where GrowthBook's Python SDK answers otherwise:
order operators compare as JavaScript's `<` does (a missing attribute is null, which is 0;
"8" is 8). Cases that pass saved groups: Tailor has none, so for it every group is unknown
and those cases answer as GrowthBook does for an unknown group id.
"""

from typing import Any
from unittest import mock

import pytest

from personalization.rules import compile_condition, engine, evaluate_condition
from personalization.rules.engine import interpret_condition
from tests.growthbook_cases import named_params

CASES = named_params("evalCondition")


def _expected(condition: Any, expected: bool, saved_groups: dict[str, Any] | None) -> bool:
    if saved_groups is None:
        return expected
    # Without saved groups GrowthBook answers as for a group id it does not know.
    operator = next(iter(next(iter(condition.values()))))
    return operator == "$notInGroup"


@pytest.mark.parametrize(("condition", "attributes", "expected", "saved_groups"), [
    pytest.param(*case.values, *([None] * (4 - len(case.values))), id=case.id) for case in CASES
])  # fmt: skip
def test_spec_case_answers_as_the_spec_says(
    condition: Any, attributes: dict[str, Any], expected: bool, saved_groups: Any
) -> None:
    engine.clear_caches()
    answer = _expected(condition, expected, saved_groups)
    assert interpret_condition(condition, attributes) is answer
    assert compile_condition(condition)(attributes) is answer
    assert evaluate_condition(condition, attributes) is answer
    with mock.patch.object(engine, "generate", return_value=None):
        engine.clear_caches()
        assert compile_condition(condition)(attributes) is answer  # closures only


def test_the_spec_has_every_evalcondition_case() -> None:
    assert len(CASES) == 248
