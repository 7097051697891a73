"""One browser, several people: logging in merges only anonymous profiles, logging out forgets.

Carol logs in on a shared browser, shops, logs out; Dave logs in on the same browser. Dave must
not end up with Carol's history or consent, and nobody signed out keeps acting as Carol.
"""

import pytest
from django.conf import settings
from django.test import Client

from consent.models import ConsentRecord
from personalization.visitors.models import Event, Visitor, VisitorMerge
from personalization.visitors.services import visitor_merge
from tests.factories import UserFactory, grant
from tests.factories.users import PASSWORD
from tests.personalization.test_page_views import BROWSER, with_visitor_cookie

pytestmark = pytest.mark.django_db

EVERYTHING = {"analytics": True, "personalization": True, "marketing": True}


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER)


def log_in(browser: Client, username: str) -> None:
    response = browser.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "the login failed"


def consent_to_everything(browser: Client) -> None:
    response = browser.post("/api/v1/consent", {"purposes": EVERYTHING}, "application/json")
    assert response.status_code == 200


def add_to_cart(browser: Client, event_id: str) -> None:
    event = {"event_id": event_id, "type": "add_to_cart", "value": "120.00"}
    response = browser.post("/api/v1/events", {"events": [event]}, "application/json")
    assert response.json()["accepted"] == 1, response.json()


def cookie_cleared(response, name: str) -> bool:
    cookie = response.cookies.get(name)
    return cookie is not None and cookie.value == "" and str(cookie["max-age"]) == "0"


@pytest.fixture
def carol():
    return UserFactory(username="carol")


@pytest.fixture
def dave_with_a_profile():
    dave = UserFactory(username="dave")
    grant(Visitor.objects.create(user=dave), "analytics", "personalization")
    return dave


def carol_shops_and_logs_out(browser: Client, carol) -> Visitor:
    consent_to_everything(browser)
    log_in(browser, "carol")
    add_to_cart(browser, "carol-cart-1")
    browser.post("/accounts/logout/")
    return Visitor.objects.get(user=carol)


def test_dave_logging_in_after_carol_on_one_browser_gets_none_of_her_history_or_consent(
    browser, carol, dave_with_a_profile
):
    carols = carol_shops_and_logs_out(browser, carol)

    log_in(browser, "dave")
    add_to_cart(browser, "dave-cart-1")

    daves = Visitor.objects.get(user=dave_with_a_profile)
    carols.refresh_from_db()
    assert (carols.user, carols.merged_into) == (carol, None)
    assert not VisitorMerge.objects.filter(source_uid=carols.uid).exists()
    assert list(Event.objects.filter(visitor=carols).values_list("event_id", flat=True)) == [
        "carol-cart-1"
    ]
    assert list(Event.objects.filter(visitor=daves).values_list("event_id", flat=True)) == [
        "dave-cart-1"
    ]
    assert ConsentRecord.objects.filter(visitor=carols).count() == 3
    assert ConsentRecord.objects.filter(visitor=daves).count() == 2


def test_dave_without_a_profile_is_not_served_carols_after_she_logged_out(browser, carol):
    carols = carol_shops_and_logs_out(browser, carol)
    dave = UserFactory(username="dave")

    log_in(browser, "dave")
    consent_to_everything(browser)
    add_to_cart(browser, "dave-cart-1")

    daves = Visitor.objects.get(user=dave)
    assert daves != carols
    assert Event.objects.get(event_id="dave-cart-1").visitor == daves
    assert Visitor.objects.get(pk=carols.pk).user == carol


def test_logging_out_deletes_the_visitor_cookie(browser, carol):
    consent_to_everything(browser)
    log_in(browser, "carol")

    response = browser.post("/accounts/logout/")

    assert cookie_cleared(response, settings.TAILOR_VISITOR_COOKIE)


def test_a_signed_out_browser_whose_cookie_names_a_users_profile_starts_anonymous(browser, carol):
    carols = Visitor.objects.create(user=carol)
    grant(carols, "analytics")
    with_visitor_cookie(browser, carols)

    home = browser.get("/")
    consent_to_everything(browser)
    add_to_cart(browser, "someone-else-1")

    stranger = Event.objects.get(event_id="someone-else-1").visitor
    assert cookie_cleared(home, settings.TAILOR_VISITOR_COOKIE)
    assert stranger != carols
    assert stranger.user is None
    assert not Event.objects.filter(visitor=carols).exists()


def test_a_signed_in_user_is_never_served_another_users_profile_from_the_cookie(browser, carol):
    carols = Visitor.objects.create(user=carol)
    dave = UserFactory(username="dave")
    browser.force_login(dave)
    with_visitor_cookie(browser, carols)

    consent_to_everything(browser)
    add_to_cart(browser, "dave-cart-1")

    assert Event.objects.get(event_id="dave-cart-1").visitor == Visitor.objects.get(user=dave)
    assert not ConsentRecord.objects.filter(visitor=carols).exists()


def test_logging_in_still_merges_the_browsers_anonymous_profile_into_the_users(
    browser, dave_with_a_profile
):
    consent_to_everything(browser)
    add_to_cart(browser, "before-login")
    anonymous = Event.objects.get(event_id="before-login").visitor

    log_in(browser, "dave")

    daves = Visitor.objects.get(user=dave_with_a_profile)
    assert Event.objects.get(event_id="before-login").visitor == daves
    assert VisitorMerge.objects.get(source_uid=anonymous.uid).target == daves


def test_a_profile_that_belongs_to_a_user_is_never_merged_into_another(carol):
    carols = Visitor.objects.create(user=carol)
    Event.objects.create(event_id="c-1", visitor=carols, type="view", occurred_at=carols.first_seen)
    daves = Visitor.objects.create(user=UserFactory(username="dave"))

    assert visitor_merge(source=carols, target=daves) is None
    assert Event.objects.get(event_id="c-1").visitor == carols
    assert Visitor.objects.get(pk=carols.pk).merged_into is None
