"""`POST /api/v1/blocks/batch`: personalized email blocks for many recipients at once."""

import re

import pytest
from django.db import connection
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from consent.models import ConsentRecord, PolicyVersion
from personalization.delivery.links import click_token_read
from personalization.features.models import VisitorFeatures
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Visitor
from personalization.visitors.services import visitor_merge
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    PurposeFactory,
    SlotFactory,
    SlotRuleFactory,
    VisitorFactory,
    grant,
)
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/blocks/batch"
LINK = re.compile(r'href="(http://testserver/t/[^"]+)"')


@pytest.fixture
def slots():
    """`newsletter-top`: VIPs, then engaged readers, get their own item; `newsletter-footer`."""
    article = ContentKindFactory(key="article")
    spring = ContentItemFactory(title="Spring catalogue", kind=article, external_id="spring")
    top = SlotFactory(key="newsletter-top", default_items=[spring])
    vip = ContentItemFactory(title="VIP preview", kind=article, external_id="vip")
    SlotRuleFactory(slot=top, position=1, name="VIP", condition={"$inSegment": "vip"}, items=[vip])
    back = ContentItemFactory(
        title="Welcome back", kind=article, external_id="back", cta_label="Come back"
    )
    SlotRuleFactory(
        slot=top, position=2, name="Engaged", condition={"lifecycle": "engaged"}, items=[back]
    )
    stores = ContentItemFactory(title="Our stores", kind=article, external_id="stores")
    SlotFactory(key="newsletter-footer", default_items=[stores])
    SegmentFactory(key="vip", kind="static")
    return top


def reader(external_id: str, *purposes: str, lifecycle: str = "engaged") -> Visitor:
    visitor = VisitorFactory(external_id=external_id)
    if purposes:
        grant(visitor, *purposes)
    VisitorFeatures.objects.create(visitor=visitor, computed_at=timezone.now(), lifecycle=lifecycle)
    return visitor


def batch(client: APIClient, recipients: list[str], slots=("newsletter-top", "newsletter-footer")):
    return client.post(URL, {"slots": list(slots), "recipients": recipients}, format="json")


def test_each_recipient_gets_html_text_and_item_ids_per_slot(newsletter, slots):
    reader("crm-1", "marketing", "personalization")

    response = batch(newsletter, ["crm-1"])

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["recipient"], result["personalized"]) == ("crm-1", True)
    assert "note" not in result
    top, footer = result["blocks"]["newsletter-top"], result["blocks"]["newsletter-footer"]
    assert (top["items"], top["reason"]) == (["back"], "rule")
    assert (footer["items"], footer["reason"]) == (["stores"], "default")
    assert top["html"].startswith('<div class="tailor-email-slot" data-slot="newsletter-top">')
    assert "Welcome back" in top["html"] and "Come back" in top["html"]
    assert top["text"].splitlines()[0] == "Welcome back"
    assert re.search(r"^Come back: http://testserver/t/\S+$", top["text"], re.MULTILINE)


def test_segment_rules_match_from_memberships(newsletter, slots):
    visitor = reader("crm-1", "marketing", "personalization")
    SegmentMembershipFactory(segment=SegmentFactory(key="vip", kind="static"), visitor=visitor)

    [result] = batch(newsletter, ["crm-1"]).json()["results"]

    assert result["blocks"]["newsletter-top"]["items"] == ["vip"]
    assert result["blocks"]["newsletter-top"]["reason"] == "segment"


def test_links_go_through_signed_tokens_naming_item_recipient_and_slot(newsletter, slots):
    visitor = reader("crm-1", "marketing", "personalization")

    [result] = batch(newsletter, ["crm-1"]).json()["results"]

    block = result["blocks"]["newsletter-top"]
    links = set(LINK.findall(block["html"]))
    assert len(links) == 1  # the title and the button share the item's link
    click = click_token_read(links.pop().rsplit("/", 1)[1])
    assert (click.visitor_id, click.slot) == (visitor.pk, "newsletter-top")
    assert "shop.example.com" not in block["html"] + block["text"]


def test_recipients_without_marketing_consent_get_the_default_and_are_told(newsletter, slots):
    reader("crm-1", "personalization")

    [result] = batch(newsletter, ["crm-1"]).json()["results"]

    assert result["personalized"] is False
    assert result["note"] == "no marketing consent: default content"
    assert result["blocks"]["newsletter-top"]["items"] == ["spring"]
    assert result["blocks"]["newsletter-top"]["reason"] == "no_marketing_consent"


def test_recipients_without_personalization_consent_get_the_default(newsletter, slots):
    reader("crm-1", "marketing")

    [result] = batch(newsletter, ["crm-1"]).json()["results"]

    assert result["personalized"] is False
    assert result["note"] == "no personalization consent: default content"
    assert result["blocks"]["newsletter-top"]["items"] == ["spring"]


def test_unknown_recipients_get_the_default_with_a_note(newsletter, slots):
    [result] = batch(newsletter, ["who-is-this"]).json()["results"]

    assert result["personalized"] is False
    assert result["note"] == "unknown recipient: default content"
    assert result["blocks"]["newsletter-top"]["items"] == ["spring"]
    assert result["blocks"]["newsletter-top"]["reason"] == "unknown_visitor"


def test_results_follow_the_recipients_order_with_cookie_ids_and_merged_profiles(newsletter, slots):
    known = reader("crm-1", "marketing", "personalization")
    anonymous = VisitorFactory(external_id=None)
    visitor_merge(source=anonymous, target=known)

    results = batch(newsletter, ["nobody", str(anonymous.uid), "crm-1"]).json()["results"]

    assert [r["recipient"] for r in results] == ["nobody", str(anonymous.uid), "crm-1"]
    assert [r["personalized"] for r in results] == [False, True, True]
    assert results[1]["blocks"] == results[2]["blocks"] | {
        "newsletter-top": results[1]["blocks"]["newsletter-top"]
    }
    assert results[1]["blocks"]["newsletter-top"]["items"] == ["back"]


def test_titles_are_escaped_in_html_and_plain_in_text(newsletter):
    SlotFactory(key="news", default_items=[ContentItemFactory(title="Tom & Jerry <3")])

    [result] = batch(newsletter, ["nobody"], slots=["news"]).json()["results"]

    assert "Tom &amp; Jerry &lt;3" in result["blocks"]["news"]["html"]
    assert result["blocks"]["news"]["text"].startswith("Tom & Jerry <3")


def test_products_render_with_their_own_email_template(newsletter):
    product = ContentKindFactory(key="product")
    SlotFactory(key="deals", default_items=[ContentItemFactory(
        title="Trail shoe", kind=product, metadata={"price": "89.00", "brand": "Peak"},
    )])  # fmt: skip

    block = batch(newsletter, ["nobody"], slots=["deals"]).json()["results"][0]["blocks"]["deals"]

    assert "tailor-email-block--product" in block["html"]
    assert "€89.00" in block["html"]
    assert block["text"].startswith("Trail shoe (Peak)\n€89.00")


def test_each_distinct_content_is_rendered_once_for_all_recipients(newsletter, slots):
    for n in range(30):
        reader(f"crm-{n}", "marketing", "personalization", lifecycle="engaged" if n % 2 else "new")
    rendered = []

    def collect(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(collect)
    try:
        response = batch(newsletter, [f"crm-{n}" for n in range(30)])
    finally:
        template_rendered.disconnect(collect)

    assert response.status_code == 200
    # Three distinct blocks (top for engaged, top for the rest, the footer): html + text each.
    assert sorted(rendered) == sorted(["tailor/email/default.html", "tailor/email/default.txt"] * 3)


def seed_recipients(count: int, prefix: str) -> list[str]:
    """`count` recipients in bulk: consenting, half engaged, every tenth a VIP."""
    ids = [f"{prefix}-{n}" for n in range(count)]
    visitors = Visitor.objects.bulk_create(Visitor(external_id=i) for i in ids)
    policy = PolicyVersion.objects.order_by("-version").first()
    purposes = [PurposeFactory(key="marketing"), PurposeFactory(key="personalization")]
    ConsentRecord.objects.bulk_create(
        ConsentRecord(visitor=v, purpose=p, granted=True, policy=policy, source="import")
        for v in visitors
        for p in purposes
    )
    now = timezone.now()
    VisitorFeatures.objects.bulk_create(
        VisitorFeatures(visitor=v, computed_at=now, lifecycle="engaged" if n % 2 else "new")
        for n, v in enumerate(visitors)
    )
    vip = SegmentFactory(key="vip", kind="static")
    SegmentMembership.objects.bulk_create(
        SegmentMembership(segment=vip, visitor=v) for v in visitors[::10]
    )
    return ids


def test_the_query_count_does_not_grow_with_the_number_of_recipients(newsletter, slots):
    ids = seed_recipients(1000, "r")
    batch(newsletter, ids[:10])  # warm the per-process caches and the key's last use

    with CaptureQueriesContext(connection) as ten:
        assert batch(newsletter, ids[:10]).status_code == 200
    with CaptureQueriesContext(connection) as thousand:
        assert batch(newsletter, ids).status_code == 200

    assert len(thousand) == len(ten), [q["sql"][:120] for q in thousand.captured_queries]
    assert len(ten) <= 10


def test_a_thousand_recipients_are_answered_in_one_call(newsletter, slots):
    ids = seed_recipients(1000, "r")

    response = batch(newsletter, ids)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["recipient"] for r in results] == ids
    assert all(r["personalized"] for r in results)
    top = [r["blocks"]["newsletter-top"]["items"][0] for r in results]
    assert (top.count("vip"), top.count("back"), top.count("spring")) == (100, 500, 400)
    tokens = {LINK.search(r["blocks"]["newsletter-top"]["html"]).group(1) for r in results}
    assert len(tokens) == 1000  # every recipient's links are their own


def test_more_than_1000_recipients_are_refused_naming_the_field(newsletter, slots):
    response = batch(newsletter, [f"r-{n}" for n in range(1001)])

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "recipients": ["Ensure this field has no more than 1000 elements."]
    }


def test_more_than_20_slots_are_refused_naming_the_field(newsletter, slots):
    response = batch(newsletter, ["crm-1"], slots=[f"slot-{n}" for n in range(21)])

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["slots"]


def test_unknown_slots_are_named_in_the_400(newsletter, slots):
    response = batch(newsletter, ["crm-1"], slots=["newsletter-top", "nope"])

    assert response.status_code == 400
    assert response.json()["errors"] == {"slots": ["unknown slot 'nope'"]}


def test_empty_lists_are_refused_per_field(newsletter, slots):
    response = newsletter.post(URL, {"slots": [], "recipients": []}, format="json")

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["recipients", "slots"]
