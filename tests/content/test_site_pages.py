"""The demo website's item and tag pages."""

import pytest
from django.conf import settings

from content.models import ContentItem
from personalization.visitors.models import Event
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    TagFactory,
    VisitorFactory,
    grant,
    visitor_cookie,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"


@pytest.fixture
def running():
    sports = TagFactory(name="Sports", slug="sports")
    return TagFactory(name="Running", slug="running", parent=sports)


@pytest.mark.django_db
def test_an_item_page_shows_the_item_then_items_sharing_its_tags_first(client, running):
    shoes = ContentItemFactory(title="Trail shoes", tags=[running])
    ContentItemFactory(title="Race vest", tags=[running])
    ContentItemFactory(title="Garden hose")

    html = client.get(f"/items/{shoes.slug}/").content.decode()

    assert "<h1>Trail shoes</h1>" in html
    similar = html.split("Similar items", 1)[1]
    assert "Trail shoes" not in similar
    assert similar.index("Race vest") < similar.index("Garden hose")


@pytest.mark.django_db
def test_a_draft_item_has_no_page(client):
    draft = ContentItemFactory(status=ContentItem.Status.DRAFT)

    assert client.get(f"/items/{draft.slug}/").status_code == 404


@pytest.mark.django_db
def test_viewing_an_item_page_stores_a_view_of_that_item(client, running):
    shoes = ContentItemFactory(title="Trail shoes", tags=[running])
    visitor = VisitorFactory()
    grant(visitor, "analytics")
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = visitor_cookie(visitor)

    client.get(f"/items/{shoes.slug}/", HTTP_USER_AGENT=BROWSER)

    assert list(Event.objects.values_list("type", "item_id")) == [("view", shoes.pk)]


@pytest.mark.django_db
def test_a_tag_page_lists_items_of_the_tag_and_of_the_tags_below_it(client, running):
    ContentItemFactory(title="Trail shoes", tags=[running])
    ContentItemFactory(title="Football", tags=[TagFactory(name="Football", slug="football")])

    html = client.get("/tags/sports/").content.decode()

    assert "Trail shoes" in html and "Football</a></h3>" not in html
    assert 'href="/tags/running/"' in html


@pytest.mark.django_db
def test_a_long_tag_page_is_split_into_pages(client, running):
    for n in range(30):
        ContentItemFactory(title=f"Shoe {n:02}", tags=[running], priority=100 - n)

    first = client.get("/tags/running/").content.decode()
    second = client.get("/tags/running/?page=2").content.decode()

    assert "Shoe 00" in first and "Shoe 29" not in first
    assert "Shoe 29" in second and "Page 2 of 2" in second


@pytest.mark.django_db
def test_an_unknown_tag_has_no_page(client):
    assert client.get("/tags/nothing-here/").status_code == 404


@pytest.mark.django_db
def test_a_tag_page_leaves_out_banners_and_email_blocks(client, running):
    ContentItemFactory(title="Trail shoes", tags=[running], kind=ContentKindFactory(key="product"))
    ContentItemFactory(title="Spring banner", tags=[running], kind=ContentKindFactory(key="banner"))
    ContentItemFactory(
        title="Newsletter block", tags=[running], kind=ContentKindFactory(key="email-block")
    )

    html = client.get("/tags/running/").content.decode()

    assert "Trail shoes" in html
    assert "Spring banner" not in html and "Newsletter block" not in html


@pytest.mark.django_db
def test_a_tag_page_narrowed_to_a_kind_shows_only_items_of_that_kind(client, running):
    ContentItemFactory(title="Trail shoes", tags=[running], kind=ContentKindFactory(key="product"))
    ContentItemFactory(title="How to run", tags=[running], kind=ContentKindFactory(key="article"))

    everything = client.get("/tags/running/").content.decode()
    products = client.get("/tags/running/?kind=product").content.decode()

    assert "Trail shoes" in everything and "How to run" in everything
    assert "Trail shoes" in products and "How to run" not in products
    assert 'href="?kind=article"' in products


@pytest.mark.django_db
def test_tag_names_are_capitalised_on_the_site(client):
    tag = TagFactory(name="trail running", slug="trail-running")
    ContentItemFactory(title="Trail shoes", tags=[tag])

    html = client.get("/tags/trail-running/").content.decode()

    assert "<h1>Trail running</h1>" in html
    assert ">Trail running</a>" in html  # the site's navigation of top-level tags


@pytest.mark.django_db
def test_prices_show_two_decimals_and_the_currency(client, running):
    ContentItemFactory(
        title="Trail shoes", tags=[running], kind=ContentKindFactory(key="product"),
        metadata={"price": 1289.5, "currency": "€"},
    )  # fmt: skip

    html = client.get("/tags/running/").content.decode()

    assert '<p class="card__price">€1,289.50</p>' in html


def test_pages_offer_the_favicon(client, db):
    html = client.get("/").content.decode()

    assert 'rel="icon" href="/static/tailor/favicon.svg"' in html
    assert client.get("/static/tailor/favicon.svg").status_code == 200
