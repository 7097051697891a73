"""The migration that scopes event ids to their source fills the source of stored events."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


def executor() -> MigrationExecutor:
    found = MigrationExecutor(connection)
    found.loader.build_graph()
    return found


def migration(suffix: str) -> tuple[str, str]:
    """Personalization's migration whose name ends with `suffix` (whatever its number)."""
    nodes = executor().loader.graph.nodes
    return next(key for key in nodes if key[0] == "personalization" and key[1].endswith(suffix))


def migrate(targets):
    runner = executor()
    runner.migrate(targets)
    return runner.loader.project_state(targets).apps


def before_sources() -> list[tuple[str, str]]:
    added = executor().loader.get_migration(*migration("_event_source_add"))
    return [dependency for dependency in added.dependencies if dependency[0] == "personalization"]


def latest() -> list[tuple[str, str]]:
    return executor().loader.graph.leaf_nodes("personalization")


@pytest.mark.django_db(transaction=True)
def test_stored_events_get_the_source_they_came_from_and_stay_unique():
    apps = migrate(before_sources())
    Visitor = apps.get_model("personalization", "Visitor")
    Event = apps.get_model("personalization", "Event")
    visitor = Visitor.objects.create()
    now = timezone.now()
    for event_id, context in [
        ("tracker-1", {"source": "browser", "device": "mobile"}),
        ("order-1042", {"source": "api"}),
        ("row-7", {"source": "import"}),
        ("pv-1", {"session": 1}),
        ("click-1", {"source": "tracked_link"}),
    ]:
        Event.objects.create(
            event_id=event_id, visitor=visitor, type="view", context=context, occurred_at=now
        )

    apps = migrate(latest())

    Event = apps.get_model("personalization", "Event")
    assert dict(Event.objects.values_list("event_id", "source")) == {
        "tracker-1": f"browser:{visitor.pk}",
        "order-1042": "api",
        "row-7": "import",
        "pv-1": "server",
        "click-1": "server",
    }
    Event.objects.create(
        event_id="order-1042", source="api-key:1", visitor_id=visitor.pk, type="purchase",
        occurred_at=now,
    )  # fmt: skip
    assert Event.objects.filter(event_id="order-1042").count() == 2
