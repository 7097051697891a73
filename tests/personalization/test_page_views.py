from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.utils import timezone

from consent.services import consent_record
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import COOKIE_SALT

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def with_visitor_cookie(client, visitor: Visitor):
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = signer.sign(str(visitor.uid))
    return client


def consenting_visitor(**purposes: bool) -> Visitor:
    visitor = Visitor.objects.create(external_id="v-1")
    consent_record(visitor=visitor, choices=purposes, source="banner")
    return visitor


@pytest.mark.django_db
def test_without_consent_a_page_view_stores_nothing_and_sets_no_cookie(client):
    response = client.get("/", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 200
    assert settings.TAILOR_VISITOR_COOKIE not in response.cookies
    assert not Visitor.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_visitor_who_allows_analytics_has_page_views_stored_with_context(client):
    visitor = consenting_visitor(analytics=True)

    with_visitor_cookie(client, visitor).get("/?utm_source=mail", HTTP_USER_AGENT=BROWSER)

    event = Event.objects.get(visitor=visitor)
    assert event.type == "view"
    assert event.properties == {"path": "/"}
    assert event.context["utm_source"] == "mail"
    assert event.context["device"] == "desktop"


@pytest.mark.django_db
def test_a_visitor_who_refused_analytics_has_no_page_view_stored(client):
    visitor = consenting_visitor(analytics=False, personalization=True)

    with_visitor_cookie(client, visitor).get("/", HTTP_USER_AGENT=BROWSER)

    assert not Event.objects.exists()


@pytest.mark.django_db
def test_bots_are_never_tracked(client):
    visitor = consenting_visitor(analytics=True)

    with_visitor_cookie(client, visitor).get("/", HTTP_USER_AGENT="Googlebot/2.1")

    assert not Event.objects.exists()


@pytest.mark.django_db
def test_in_opt_out_mode_a_new_visitor_gets_a_profile_and_a_signed_cookie(client, settings):
    settings.TAILOR_CONSENT_MODE = "opt-out"

    response = client.get("/", HTTP_USER_AGENT=BROWSER)

    visitor = Visitor.objects.get()
    cookie = response.cookies[settings.TAILOR_VISITOR_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert str(visitor.uid) in cookie.value
    assert Event.objects.filter(visitor=visitor, type="view").count() == 1


@pytest.mark.django_db
def test_a_visit_after_thirty_quiet_minutes_starts_a_new_session(client):
    visitor = consenting_visitor(analytics=True)
    Visitor.objects.filter(pk=visitor.pk).update(
        sessions=1, last_seen=timezone.now() - timedelta(minutes=31)
    )
    with_visitor_cookie(client, visitor)

    client.get("/", HTTP_USER_AGENT=BROWSER)
    client.get("/", HTTP_USER_AGENT=BROWSER)

    visitor.refresh_from_db()
    assert visitor.sessions == 2
    assert [e.context["session"] for e in Event.objects.order_by("pk")] == [2, 2]


@pytest.mark.django_db
def test_a_tampered_cookie_is_ignored(client):
    visitor = consenting_visitor(analytics=True)
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = f"{visitor.uid}:forged"

    client.get("/", HTTP_USER_AGENT=BROWSER)

    assert not Event.objects.filter(visitor=visitor).exists()
