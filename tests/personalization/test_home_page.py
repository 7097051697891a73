"""The demo home page: "because you viewed", and the `tailor` context processor."""

import pytest
from django.conf import settings
from django.db import connection
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.utils import timezone

from content.models import SlotRule
from personalization.decisions.request import RequestState
from personalization.visitors.models import Event
from personalization.visitors.selectors import visitor_interactions
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
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"


def home(client, visitor) -> str:
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = visitor_cookie(visitor)
    return client.get("/", HTTP_USER_AGENT=BROWSER).content.decode()


@pytest.fixture
def viewed_tent():
    camping = TagFactory(name="Camping", slug="camping")
    tent = ContentItemFactory(title="Two-person tent", tags=[camping])
    ContentItemFactory(title="Sleeping bag", tags=[camping])
    visitor = VisitorFactory()
    EventFactory(visitor=visitor, type="view", item=tent)
    return visitor


@pytest.mark.django_db
def test_the_home_page_offers_items_like_the_one_the_visitor_viewed_last(client, viewed_tent):
    grant(viewed_tent, "analytics", "personalization")

    html = home(client, viewed_tent)

    because = html.split("Because you viewed", 1)[1].split("</section>", 1)[0]
    assert "Two-person tent" in because.split("</h2>", 1)[0]
    assert "Sleeping bag" in because.split("</h2>", 1)[1]


@pytest.mark.django_db
def test_without_personalization_consent_there_is_no_because_you_viewed(client, viewed_tent):
    grant(viewed_tent, "analytics")

    assert "Because you viewed" not in home(client, viewed_tent)


@pytest.mark.django_db
def test_templates_read_the_visitor_and_their_segments_from_the_tailor_context():
    visitor = VisitorFactory(external_id="crm-7")
    grant(visitor, "personalization")
    SegmentMembershipFactory(segment=SegmentFactory(key="vip", kind="static"), visitor=visitor)
    request = RequestFactory().get("/")
    request.visitor = visitor
    request.tailor = RequestState(request, context={"device": "desktop"})

    html = Template("{{ tailor.visitor.external_id }}: {{ tailor.segments|join:',' }}").render(
        RequestContext(request)
    )

    assert html == "crm-7: vip"


@pytest.mark.django_db
def test_the_last_viewed_item_is_the_latest_view_not_the_latest_click(viewed_tent):
    bag = ContentItemFactory(title="Sleeping mat")
    EventFactory(visitor=viewed_tent, type="click", item=bag, occurred_at=timezone.now())

    interactions = visitor_interactions(viewed_tent)

    assert interactions.seen == {bag.pk, viewed_tent.events.get(type="view").item_id}
    assert interactions.last_viewed == viewed_tent.events.get(type="view").item_id


@pytest.mark.django_db
def test_the_rail_and_because_you_viewed_read_the_visitors_interactions_once(client, viewed_tent):
    rail = SlotFactory(key="homepage-recommended", max_items=4)
    SlotRuleFactory(slot=rail, strategy=SlotRule.Strategy.RECOMMENDATIONS, condition={})
    grant(viewed_tent, "analytics", "personalization")
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = visitor_cookie(viewed_tent)
    reads = []

    def count_event_reads(execute, sql, params, many, context):
        if sql.lstrip("( ").startswith("SELECT") and Event._meta.db_table in sql:
            reads.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_event_reads):
        html = client.get("/", HTTP_USER_AGENT=BROWSER).content.decode()

    assert "Because you viewed" in html
    assert "Sleeping bag" in html.split('class="rail rail--recommended"')[1].split("</section>")[0]
    assert len(reads) == 1
