"""Run a module's condition tests every way `evaluate_condition` answers."""

from collections.abc import Iterator

import pytest

from personalization.rules import engine


@pytest.fixture(autouse=True, params=["interpreted", "generated", "closures"])
def evaluation_mode(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Every evaluation interpreted (as a condition's first uses), or compiled at once into a
    generated function, or into closures only (what conditions the generator leaves out use)."""
    engine.clear_caches()
    uses = 10**9 if request.param == "interpreted" else 0
    monkeypatch.setattr(engine, "INTERPRETED_USES", uses)
    if request.param == "closures":
        monkeypatch.setattr(engine, "generate", lambda condition: None)
    yield request.param
    engine.clear_caches()
