"""A visitor's snapshot: a personalized page reads it in one cache round trip, and never stale.

Transactional tests: snapshots are stored only outside a transaction, and the writes that make
them stale act again once they commit.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent.cookies import consent_cookie_value
from consent.selectors import policy_current_version
from consent.services import consent_record
from content.models import SlotRule
from personalization.decisions import snapshot as snapshots
from personalization.features.services import features_compute
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.recommendations.services import model_run_make_current
from personalization.segments.services import segment_members_write
from personalization.visitors.services import PageView, page_views_write
from personalization.visitors.snapshots import cookie_id_hash, snapshot_key, snapshot_uid_key
from tests.factories import (
    ContentItemFactory,
    EventFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
    VisitorFactory,
    grant,
    visitor_cookie,
)
from tests.factories.personalization import SegmentFactory

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"


def home(client, visitor) -> str:
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = visitor_cookie(visitor)
    response = client.get("/", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    return response.content.decode()


def because(html: str) -> str:
    """The title of the item "because you viewed" starts from ("" without the section)."""
    if "Because you viewed" not in html:
        return ""
    return html.split("Because you viewed", 1)[1].split("</a>", 1)[0].rsplit(">", 1)[1]


def rail(html: str) -> list[str]:
    """Titles of the recommendation rail's cards, in order."""
    section = html.split('class="rail rail--recommended"', 1)[1].split("</section>", 1)[0]
    return [part.split("</a>", 1)[0].rsplit(">", 1)[1] for part in section.split("card__title")[1:]]


@pytest.fixture
def camper():
    """Viewed a tent; the current model run lists a sleeping bag for them; no page views kept."""
    camping = TagFactory(name="Camping", slug="camping")
    tent, bag, stove, lamp = (
        ContentItemFactory(title=title, tags=[camping])
        for title in ("Two-person tent", "Sleeping bag", "Camping stove", "Lamp")
    )
    slot = SlotFactory(key="homepage-recommended", max_items=2, default_items=[lamp])
    SlotRuleFactory(slot=slot, strategy=SlotRule.Strategy.RECOMMENDATIONS, condition={})
    visitor = VisitorFactory()
    grant(visitor, "personalization")
    EventFactory(visitor=visitor, type="view", item=tent)
    run = ModelRun.objects.create(status="finished", kind="compute")
    Recommendation.objects.create(run=run, visitor=visitor, item=bag, rank=1, score=1.0)
    model_run_make_current(run=run)
    visitor.items = {"tent": tent, "bag": bag, "stove": stove, "lamp": lamp}
    return visitor


def test_a_returning_visitors_page_reads_nothing_from_the_database(client, camper):
    # The banner's cookie, as a browser that chose there sends it: it answers "decided?".
    client.cookies[settings.TAILOR_CONSENT_COOKIE] = consent_cookie_value(
        choices={"analytics": False, "personalization": True, "marketing": False},
        policy_version=policy_current_version(),
    )
    home(client, camper)  # builds and stores the snapshot

    with CaptureQueriesContext(connection) as page:
        html = home(client, camper)

    assert because(html) == "Two-person tent"
    assert rail(html)[0] == "Sleeping bag"
    # The impressions' writer locks the rows it refers to (FOR KEY SHARE): part of the write.
    reads = [
        q["sql"]
        for q in page.captured_queries
        if q["sql"].startswith("SELECT") and not q["sql"].endswith("FOR KEY SHARE")
    ]
    writes = {
        q["sql"].split('"')[1]
        for q in page.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
    }
    assert reads == [], [sql[:100] for sql in reads]
    assert writes <= {"personalization_impression"}  # what the page showed, buffered in production


def test_an_item_viewed_since_is_the_next_pages_because_you_viewed(client, camper):
    grant(camper, "analytics")  # page views are kept
    assert because(home(client, camper)) == "Two-person tent"

    stove = camper.items["stove"]
    page = client.get(reverse("item", args=[stove.slug]), HTTP_USER_AGENT=BROWSER)
    assert page.status_code == 200

    html = home(client, camper)
    assert because(html) == "Camping stove"
    assert "Camping stove" not in rail(html)  # seen: no longer recommended


def test_a_new_model_run_is_served_on_the_next_page(client, camper):
    assert rail(home(client, camper))[0] == "Sleeping bag"
    run = ModelRun.objects.create(status="finished", kind="compute")
    Recommendation.objects.create(
        run=run, visitor=camper, item=camper.items["stove"], rank=1, score=1.0
    )

    model_run_make_current(run=run)

    assert rail(home(client, camper))[0] == "Camping stove"


def test_withdrawing_personalization_consent_counts_on_the_next_page(client, camper):
    assert because(home(client, camper)) == "Two-person tent"

    consent_record(visitor=camper, choices={"personalization": False}, source="banner")

    html = home(client, camper)
    assert because(html) == ""
    assert rail(html) == ["Lamp"]  # the slot's default


def test_joining_a_segment_counts_on_the_next_page(client, camper):
    spenders = SegmentFactory(key="big-spenders", kind="static")
    assert "Thank you for being one of our best customers" not in home(client, camper)

    segment_members_write(segment=spenders, wanted=[camper.pk], replace=False, now=timezone.now())

    assert "Thank you for being one of our best customers" in home(client, camper)


def test_a_snapshot_that_cannot_be_read_leaves_the_page_with_default_content(
    client, camper, monkeypatch
):
    class Unreadable:
        def rows(self, visitor_id):
            raise RuntimeError("the snapshot's rows are unavailable")

    monkeypatch.setattr(snapshots, "_SNAPSHOT_ROWS", Unreadable())

    html = home(client, camper)

    assert because(html) == ""
    assert rail(html) == ["Lamp"]


def test_something_else_under_a_snapshots_key_is_rebuilt_not_served(client, camper):
    home(client, camper)
    cache.set(snapshot_key(camper.pk), {"not": "a snapshot"})

    assert because(home(client, camper)) == "Two-person tent"


def hero(html: str) -> str:
    """The title of the hero slot's first card ("" when it shows nothing)."""
    section = html.split('class="hero"', 1)[1].split("</section>", 1)[0]
    return section.split("</a>", 1)[0].rsplit(">", 1)[1] if "</a>" in section else ""


def hero_for(condition: dict) -> None:
    """The home page's hero shows "For you" to visitors matching `condition`, "Welcome" else."""
    slot = SlotFactory(key="homepage-hero", default_items=[ContentItemFactory(title="Welcome")])
    SlotRuleFactory(slot=slot, condition=condition, items=[ContentItemFactory(title="For you")])


def test_a_visitors_traits_saved_since_count_on_the_next_page(client, camper):
    hero_for({"traits.tier": "gold"})
    assert hero(home(client, camper)) == "Welcome"

    camper.traits = {"tier": "gold"}
    camper.save(update_fields=["traits"])

    assert hero(home(client, camper)) == "For you"


def test_a_new_session_counts_on_the_next_page(client, camper):
    hero_for({"visit_count": {"$gte": 2}})
    camper.sessions = 1
    camper.save(update_fields=["sessions"])
    assert hero(home(client, camper)) == "Welcome"

    later = timezone.now() + timedelta(hours=2)
    page_views_write([PageView(camper.pk, None, "/", {}, later)])

    assert hero(home(client, camper)) == "For you"


def test_features_computed_since_count_on_the_next_page(client, camper):
    hero_for({"event_count": {"$gte": 1}})
    assert hero(home(client, camper)) == "Welcome"  # no features computed yet

    features_compute(visitor_ids=[camper.pk])

    assert hero(home(client, camper)) == "For you"


def test_a_cookie_whose_entry_names_another_visitors_snapshot_is_read_from_the_database(
    client, camper
):
    home(client, camper)  # stores the camper's snapshot
    stranger = VisitorFactory()
    grant(stranger, "personalization")
    cache.set(snapshot_uid_key(cookie_id_hash(stranger.uid)), camper.pk)

    html = home(client, stranger)

    assert because(html) == ""  # the camper viewed a tent; the stranger nothing
    assert rail(html) != ["Sleeping bag"]


def test_erasure_deletes_the_entry_that_names_a_cookies_snapshot(client, camper):
    home(client, camper)
    entry = snapshot_uid_key(cookie_id_hash(camper.uid))
    assert cache.get(entry) == camper.pk

    call_command("erase_subject", str(camper.uid), "--yes")

    assert cache.get(entry) is None
    assert cache.get(snapshot_key(camper.pk)) is None
