"""GrowthBook's SDK specification cases (`tests/data/growthbook-cases-0.8.0.json`) as params.

Each case becomes one test id: its name in the spec, made unique by a number where the spec
repeats a name, or, for sections without names (`hash`, `getEqualWeights`), its inputs.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CASES_FILE = Path(__file__).resolve().parent / "data" / "growthbook-cases-0.8.0.json"
SPEC_VERSION = "0.8.0"


@cache
def _sections() -> dict[str, Any]:
    sections = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    assert sections["specVersion"] == SPEC_VERSION
    return sections


def cases(section: str) -> list[list[Any]]:
    """The raw cases of one section of the spec."""
    return _sections()[section]


def named_params(section: str) -> list[Any]:
    """A section whose cases start with a name, as params without the name, one id per case."""
    seen: dict[str, int] = {}
    params = []
    for name, *rest in cases(section):
        seen[name] = seen.get(name, 0) + 1
        case_id = name if seen[name] == 1 else f"{name} ({seen[name]})"
        params.append(pytest.param(*rest, id=case_id))
    return params


def unnamed_params(section: str) -> list[Any]:
    """A section whose cases have no name, with their inputs as the id."""
    return [
        pytest.param(*case, id=" ".join(json.dumps(part) for part in case[:-1]))
        for case in cases(section)
    ]
