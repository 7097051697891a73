"""The developer toolbar: view the site as a demo visitor and see why slots chose (DEBUG only)."""

from io import StringIO

import pytest
from django.core.management import call_command

from content.models import ContentItem
from personalization.visitors.models import Event, Impression
from tests.factories import VisitorFactory, grant

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"


@pytest.fixture
def demo():
    call_command("seed_demo", "--visitors", "6", stdout=StringIO())


def hero(html: str) -> str:
    return html.split('class="hero"', 1)[1].split("</section>", 1)[0]


@pytest.mark.django_db
def test_with_debug_on_the_site_shows_as_the_chosen_demo_visitor(client, settings, demo):
    settings.DEBUG = True

    runner = client.get("/?tailor_as=demo-1", HTTP_USER_AGENT=BROWSER).content.decode()
    listener = client.get("/?tailor_as=demo-2", HTTP_USER_AGENT=BROWSER).content.decode()

    assert 'data-item="b-sports"' in hero(runner)
    assert 'data-item="b-tech"' in hero(listener)


@pytest.mark.django_db
def test_the_toolbar_says_which_rule_chose_each_slot(client, settings, demo):
    settings.DEBUG = True

    html = client.get("/?tailor_as=demo-1", HTTP_USER_AGENT=BROWSER).content.decode()

    toolbar = html.split('class="tailor-toolbar"', 1)[1]
    assert "rule &#x27;Sports fans&#x27; matched" in toolbar
    assert '<tr data-slot="homepage-recommended">' in toolbar
    assert "Viewing as <strong>demo-1</strong>" in toolbar


@pytest.mark.django_db
def test_the_chosen_demo_visitor_is_kept_for_the_next_pages_until_cleared(client, settings, demo):
    settings.DEBUG = True
    client.get("/?tailor_as=demo-2", HTTP_USER_AGENT=BROWSER)

    kept = client.get("/", HTTP_USER_AGENT=BROWSER).content.decode()
    client.get("/?tailor_as=", HTTP_USER_AGENT=BROWSER)
    cleared = client.get("/", HTTP_USER_AGENT=BROWSER).content.decode()

    assert 'data-item="b-tech"' in hero(kept)
    assert 'data-item="b-welcome"' in hero(cleared)


@pytest.mark.django_db
def test_viewing_as_a_demo_visitor_records_nothing_for_them(client, settings, demo):
    settings.DEBUG = True
    events, impressions = Event.objects.count(), Impression.objects.count()

    client.get("/?tailor_as=demo-1", HTTP_USER_AGENT=BROWSER)
    client.get(f"/items/{ContentItem.objects.get(external_id='p-running-1').slug}/")

    assert (Event.objects.count(), Impression.objects.count()) == (events, impressions)


@pytest.mark.django_db
def test_without_debug_there_is_no_toolbar_and_no_viewing_as_anyone(client, settings, demo):
    settings.DEBUG = False

    html = client.get("/?tailor_as=demo-1", HTTP_USER_AGENT=BROWSER).content.decode()

    assert "tailor-toolbar" not in html
    assert 'data-item="b-welcome"' in hero(html)


@pytest.mark.django_db
def test_only_demo_visitors_can_be_viewed_as(client, settings, demo):
    settings.DEBUG = True
    customer = VisitorFactory(external_id="crm-42")
    grant(customer, "personalization")

    html = client.get("/?tailor_as=crm-42", HTTP_USER_AGENT=BROWSER).content.decode()

    assert "Viewing as" not in html
