"""export_recommendations: K published, unseen items for every visitor with history."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command

from content.models import ContentItem
from tests.factories.content import ContentItemFactory
from tests.factories.personalization import EventFactory, VisitorFactory, grant
from tests.personalization.test_recommendations_compute import shop

pytestmark = pytest.mark.django_db


def test_every_visitor_with_history_gets_k_published_items_they_never_touched(tmp_path):
    _, people = shop()
    ContentItemFactory.create_batch(6)  # enough published items to fill up lists of 10
    draft = ContentItemFactory(status=ContentItem.Status.DRAFT)
    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())
    out = tmp_path / "recs.csv"

    call_command("export_recommendations", "--k", "10", "--output", str(out), stdout=StringIO())

    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["visitor_id", "rank", "item_id", "score", "algorithm"]
    published = set(
        ContentItem.objects.filter(status="published").values_list("external_id", flat=True)
    )
    for visitor in people:
        mine = [r for r in rows if r["visitor_id"] == visitor.external_id]
        touched = set(visitor.events.values_list("item__external_id", flat=True))
        assert [int(r["rank"]) for r in mine] == list(range(1, 11))
        assert {r["item_id"] for r in mine} <= published - touched - {draft.external_id}
    assert {r["algorithm"] for r in rows} == {"hybrid", "popularity"}  # fallbacks filled up


def test_visitors_without_consent_or_history_are_not_exported():
    shop(visitors=2)
    silent = VisitorFactory()
    grant(silent, "analytics", "personalization")
    refused = VisitorFactory()
    grant(refused, "analytics")
    EventFactory(visitor=refused, item=ContentItemFactory())
    out = StringIO()

    call_command("export_recommendations", "--format", "jsonl", stdout=out, stderr=StringIO())

    exported = {json.loads(line)["visitor_id"] for line in out.getvalue().splitlines()}
    assert len(exported) == 2 and not exported & {silent.external_id, refused.external_id}
