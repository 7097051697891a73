"""Run a module's condition tests both ways `evaluate_condition` answers."""

from collections.abc import Iterator

import pytest

from personalization.rules import engine


@pytest.fixture(autouse=True, params=["interpreted", "compiled"])
def evaluation_mode(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Every evaluation interpreted (as a condition's first uses), or every one compiled."""
    engine.clear_caches()
    uses = 10**9 if request.param == "interpreted" else 0
    monkeypatch.setattr(engine, "INTERPRETED_USES", uses)
    yield request.param
    engine.clear_caches()
