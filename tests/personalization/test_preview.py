"""Staff preview the site as a real visitor, a segment or request facts: shown, never recorded."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from consent.models import ConsentRecord
from content.models import ContentItem
from experiments.models import Exposure
from personalization.delivery.links import click_token
from personalization.delivery.preview import SESSION_KEY
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Event, Impression, Visitor
from tests.factories import UserFactory, VisitorFactory, grant

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"
PAGE = "/admin/tailor/preview/"
TABLES = (Event, Impression, Exposure, Visitor, ConsentRecord, SegmentMembership)


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--visitors", "6", stdout=StringIO())


def member_of(role: str):
    user = UserFactory(username=role.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def logged_in(user) -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.force_login(user)
    return client


@pytest.fixture
def root(db):
    return logged_in(UserFactory(username="root", superuser=True))


def hero(html: str) -> str:
    return html.split('class="hero"', 1)[1].split("</section>", 1)[0]


def counts() -> dict[str, int]:
    return {table.__name__: table.objects.count() for table in TABLES}


def test_a_segment_preview_shows_a_made_up_member_and_why_each_slot_chose(root, demo):
    root.post(PAGE, {"segment": "mobile-visitors"})

    html = root.get("/").content.decode()

    assert 'data-item="b-mobile"' in hero(html)
    toolbar = html.split('class="tailor-preview-bar"', 1)[1]
    assert "a member of Mobile visitors (mobile-visitors)" in toolbar
    assert "rule &#x27;Mobile visitors&#x27; matched" in toolbar
    assert "satisfies the segment's condition (device = mobile)" in toolbar


def test_a_real_visitor_preview_shows_their_slots(root, demo):
    root.post(PAGE, {"visitor": "demo-1"})

    html = root.get("/").content.decode()

    assert 'data-item="b-sports"' in hero(html)
    assert "Preview</strong> as visitor demo-1" in html


def test_a_visitor_is_found_by_email(root, db):
    visitor = VisitorFactory(external_id="crm-42", traits={"email": "ada@example.org"})

    root.post(PAGE, {"visitor": "ADA@example.org"})

    assert root.session[SESSION_KEY] == {"visitor": visitor.identifier, "facts": {}}


def test_request_facts_alone_change_what_slots_choose(root, demo):
    root.post(PAGE, {"device": "mobile", "country": "de"})

    html = root.get("/").content.decode()

    assert 'data-item="b-mobile"' in hero(html)
    assert "device mobile · country DE" in html


def test_previewing_records_no_event_impression_exposure_visitor_or_consent(root, demo):
    customer = Visitor.objects.get(external_id="demo-1")
    grant(customer, "analytics", "personalization", "marketing")
    item = ContentItem.objects.get(external_id="p-running-1")
    root.get("/")  # the staff member's own visit, before the preview
    root.post(PAGE, {"visitor": "demo-1"})
    before = counts()

    for path in ("/", f"/items/{item.slug}/", "/", "/?utm_source=newsletter"):
        assert root.get(path, HTTP_SEC_GPC="1").status_code == 200
    root.post(PAGE, {"segment": "big-spenders", "device": "mobile"})
    root.get("/")

    assert counts() == before


def test_a_preview_sets_no_visitor_cookie(root, demo, settings):
    root.post(PAGE, {"segment": "runners"})

    response = root.get("/")

    assert settings.TAILOR_VISITOR_COOKIE not in response.cookies


def test_stopping_shows_the_site_as_the_staff_member_again(root, demo):
    root.post(PAGE, {"segment": "mobile-visitors"})

    response = root.post(f"{PAGE}stop/", {"next": "/"})

    assert response.status_code == 302
    assert 'data-item="b-welcome"' in hero(root.get("/").content.decode())


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_people_who_are_not_staff_cannot_open_or_start_a_preview(db, demo, who):
    client = Client()
    if who == "member":
        client.force_login(UserFactory(username="member"))

    opened = client.get(PAGE)
    started = client.post(PAGE, {"segment": "mobile-visitors"})

    assert opened.status_code == started.status_code == 302
    assert "/admin/login/" in started["Location"]
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("role", ["plain staff", "Privacy officer"])
def test_staff_without_the_preview_permission_are_refused(db, demo, role):
    user = UserFactory(username="staff", staff=True) if role == "plain staff" else member_of(role)
    client = logged_in(user)

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"visitor": "demo-1"}).status_code == 403
    assert client.get(f"{PAGE}visitors.json?q=demo").status_code == 403
    assert SESSION_KEY not in client.session
    assert "tailor-preview-bar" not in client.get("/").content.decode()


def test_previewing_a_real_visitor_also_needs_the_permission_to_view_visitors(db, demo):
    editor = logged_in(member_of("Editor"))

    response = editor.post(PAGE, {"visitor": "demo-1"})

    assert response.status_code == 400
    assert "visitor: you need the permission to view visitors." in response.content.decode()
    assert editor.get(f"{PAGE}visitors.json?q=demo").status_code == 403
    assert SESSION_KEY not in editor.session


def test_an_editor_previews_a_segment(db, demo):
    editor = logged_in(member_of("Editor"))

    editor.post(PAGE, {"segment": "mobile-visitors"})

    assert 'data-item="b-mobile"' in hero(editor.get("/").content.decode())


def test_a_link_only_opens_the_page_and_never_starts_a_preview(root, demo):
    page = root.get(f"{PAGE}?visitor=demo-1&next=/")

    assert 'value="demo-1"' in page.content.decode()
    assert SESSION_KEY not in root.session
    assert 'data-item="b-welcome"' in hero(root.get("/").content.decode())


def test_a_cross_site_post_without_the_csrf_token_is_refused(db, demo):
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER)
    client.force_login(UserFactory(username="root", superuser=True))

    response = client.post(PAGE, {"visitor": "demo-1"})

    assert response.status_code == 403
    assert SESSION_KEY not in client.session


def test_the_old_query_parameter_shows_nobody_else_even_with_debug(client, settings, demo):
    settings.DEBUG = True

    html = client.get("/?tailor_as=demo-1", HTTP_USER_AGENT=BROWSER).content.decode()

    assert 'data-item="b-welcome"' in hero(html)
    assert "tailor-preview-bar" not in html


def test_a_preview_ends_for_someone_whose_permission_is_withdrawn(db, demo):
    user = member_of("Analyst")
    client = logged_in(user)
    client.post(PAGE, {"segment": "mobile-visitors"})
    Group.objects.get(name="Analyst").permissions.remove(
        Permission.objects.get(codename="preview_visitor")
    )

    html = client.get("/").content.decode()

    assert 'data-item="b-welcome"' in hero(html)
    assert "tailor-preview-bar" not in html


def test_the_page_goes_back_only_to_this_site(root, demo):
    response = root.post(PAGE, {"segment": "runners", "next": "https://evil.example/"})

    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("segment", "nobody", "segment: no segment has the key &#x27;nobody&#x27;."),
        ("visitor", "crm-404", "visitor: no visitor has the id or email &#x27;crm-404&#x27;."),
        ("device", "fridge", "device: one of desktop, mobile, tablet"),
        ("country", "Germany", "country: a two-letter code such as DE"),
    ],
)
def test_a_wrong_choice_is_refused_naming_the_field(root, demo, field, value, message):
    response = root.post(PAGE, {field: value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert SESSION_KEY not in root.session


def test_the_visitor_search_finds_by_id_and_email(root, db):
    VisitorFactory(external_id="crm-42", traits={"email": "ada@example.org"})

    by_id = root.get(f"{PAGE}visitors.json?q=crm").json()
    by_email = root.get(f"{PAGE}visitors.json?q=ada@").json()

    assert (
        by_id == by_email == {"values": [{"value": "crm-42", "label": "crm-42 · ada@example.org"}]}
    )


def test_a_preview_of_a_visitor_who_is_gone_ends_and_says_so(root, demo):
    root.post(PAGE, {"visitor": "demo-2"})
    Visitor.objects.filter(external_id="demo-2").delete()

    html = root.get("/").content.decode()

    assert 'data-item="b-welcome"' in hero(html)
    assert "The previewed visitor or segment no longer exists." in html
    assert SESSION_KEY not in root.session


def test_a_tracked_link_followed_during_a_preview_records_no_click(root, demo):
    customer = Visitor.objects.get(external_id="demo-1")
    grant(customer, "analytics", "personalization")
    item = ContentItem.objects.get(external_id="p-running-1")
    ContentItem.objects.filter(pk=item.pk).update(cta_url="https://shop.example/pacer")
    link = click_token(item=item, visitor=customer, slot="homepage-hero")
    root.post(PAGE, {"segment": "runners"})
    before = counts()

    response = root.get(f"/t/{link}")

    assert response.status_code == 302
    assert counts() == before
