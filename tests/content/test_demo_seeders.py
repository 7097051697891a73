"""`seed_demo` runs every app's registered demo seeder, in order."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from content import registry


@pytest.fixture
def seeders(monkeypatch):
    """An empty registry for the test; the apps' seeders come back afterwards."""
    monkeypatch.setattr(registry, "_demo_seeders", {})


def reporting(name: str):
    def seed(options: registry.DemoOptions) -> None:
        options.write(f"{name}: {options.visitors} visitors, seed {options.seed}")

    return seed


def test_seed_demo_runs_the_registered_seeders_in_their_order_with_the_options_given(seeders):
    registry.demo_seeder_register("third", reporting("third"), order=300)
    registry.demo_seeder_register("first", reporting("first"), order=100)
    registry.demo_seeder_register("second", reporting("second"), order=200)
    out = StringIO()

    call_command("seed_demo", "--visitors", "3", "--seed", "7", stdout=out)

    assert out.getvalue().splitlines() == [
        "first: 3 visitors, seed 7",
        "second: 3 visitors, seed 7",
        "third: 3 visitors, seed 7",
        "demo data ready",
    ]


def test_registering_a_seeder_name_again_replaces_the_earlier_one(seeders):
    registry.demo_seeder_register("visitors", reporting("old"), order=100)
    registry.demo_seeder_register("visitors", reporting("new"), order=200)
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert out.getvalue().splitlines() == ["new: 80 visitors, seed 42", "demo data ready"]


def test_content_then_visitors_then_triggers_then_the_experiment_then_insights_are_seeded():
    assert [s.name for s in registry.demo_seeders()] == [
        "content", "visitors", "triggers", "experiment", "insights",
    ]  # fmt: skip


@pytest.mark.django_db
def test_seed_demo_reports_each_apps_demo_data_in_turn():
    out = StringIO()

    call_command("seed_demo", "--visitors", "2", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    assert re.fullmatch(r"demo content: \d+ items, \d+ slots", lines[0])
    assert re.fullmatch(
        r"demo visitors: 2 new \(demo-1 … demo-2\), \d+ events; no scores \(not enough "
        r"history .+\)",
        lines[1],
    )
    assert lines[2:4] == [
        "demo triggers: abandoned-cart, likely-to-churn (endpoint switched off)",
        "demo experiment: home-rail-title (running)",
    ]
    assert re.fullmatch(
        r"demo insights: 40 shoppers over 42 days with the holdout personalization-holdout "
        r"\(paused: start it to keep measuring\); rollups of \d+ days",
        lines[4],
    )
    assert lines[5] == "demo data ready"
