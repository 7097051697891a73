"""The builder's admin views: the attribute list and "test against a visitor".

Staff only, and only with the permissions of what each view shows: the catalogue to those who may
see a condition, a visitor's attributes to those who may view visitors.
"""

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from personalization.features.models import VisitorFeatures
from tests.factories import UserFactory, VisitorFactory, grant

ATTRIBUTES_URL = "/admin/tailor/attributes.json"
TEST_URL = "/admin/tailor/condition-test/"
ENGAGED_ON_MOBILE = {
    "device": "mobile",
    "$or": [{"lifecycle": "engaged"}, {"sessions_30d": {"$gte": 3}}],
}


@pytest.fixture
def staff_client(client: Client) -> Client:
    """A staff member who may view segments and visitors."""
    stella = UserFactory(username="stella", staff=True)
    stella.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_segment", "view_visitor"])
    )
    client.force_login(stella)
    return client


def member_of(client: Client, role: str) -> Client:
    user = UserFactory(username=role.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


@pytest.fixture
def engaged_visitor():
    visitor = VisitorFactory(external_id="crm-7", traits={"plan": "pro"})
    grant(visitor, "analytics", "personalization")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), lifecycle="engaged", sessions_30d=5
    )
    return visitor


def run_test(client: Client, condition, visitor: str, **context: str):
    data = {"condition": json.dumps(condition), "visitor": visitor, **context}
    return client.post(TEST_URL, data)


@pytest.mark.django_db
def test_staff_get_the_attribute_catalogue(staff_client):
    response = staff_client.get(ATTRIBUTES_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["catalogue"] is True
    sessions = next(row for row in body["attributes"] if row["name"] == "sessions_30d")
    assert sessions["type"] == "number"
    assert {"source", "description", "example", "live"} <= sessions.keys()
    device = next(row for row in body["attributes"] if row["name"] == "device")
    assert device["live"] is True
    assert "mobile" in device["choices"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [ATTRIBUTES_URL, TEST_URL])
def test_anonymous_visitors_are_refused(client, url):
    response = client.post(url) if url == TEST_URL else client.get(url)

    assert response.status_code == 403
    assert "staff" in response.json()["error"]


@pytest.mark.django_db
def test_users_who_are_not_staff_are_refused(client, engaged_visitor):
    client.force_login(UserFactory(username="norma"))

    response = run_test(client, {}, "crm-7")

    assert response.status_code == 403
    assert "attributes" not in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Analyst", "Editor"])
def test_staff_who_may_not_view_visitors_cannot_see_a_visitors_attributes(
    client, engaged_visitor, role
):
    response = run_test(member_of(client, role), {}, "crm-7")

    assert response.status_code == 403
    assert "attributes" not in response.json()
    assert "personalization.view_visitor" in response.json()["error"]


@pytest.mark.django_db
def test_a_privacy_officer_who_may_view_visitors_tests_a_condition_against_one(
    client, engaged_visitor
):
    response = run_test(member_of(client, "Privacy officer"), {"lifecycle": "engaged"}, "crm-7")

    assert response.status_code == 200
    assert response.json()["matched"] is True


@pytest.mark.django_db
def test_staff_who_may_see_no_condition_get_no_attribute_catalogue(client):
    client.force_login(UserFactory(username="stan", staff=True))

    response = client.get(ATTRIBUTES_URL)

    assert response.status_code == 403
    assert "attributes" not in response.json()


@pytest.mark.django_db
def test_an_analyst_who_reads_slot_rules_gets_the_attribute_catalogue(client):
    response = member_of(client, "Analyst").get(ATTRIBUTES_URL)

    assert response.status_code == 200
    assert response.json()["catalogue"] is True


@pytest.mark.django_db
def test_the_test_view_checks_the_csrf_token(engaged_visitor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="stella", superuser=True))

    response = run_test(client, {}, "crm-7")

    assert response.status_code == 403


@pytest.mark.django_db
def test_the_test_view_only_answers_posts(staff_client):
    assert staff_client.get(TEST_URL).status_code == 405


@pytest.mark.django_db
def test_an_unknown_visitor_is_named_in_the_error(staff_client):
    response = run_test(staff_client, {"device": "mobile"}, "nobody-42")

    assert response.status_code == 404
    assert response.json() == {"error": "No visitor with the id 'nobody-42'."}


@pytest.mark.django_db
def test_a_visitor_id_is_required(staff_client):
    response = run_test(staff_client, {}, " ")

    assert response.status_code == 400
    assert "visitor id" in response.json()["error"]


@pytest.mark.django_db
def test_a_condition_that_is_not_json_is_refused(staff_client, engaged_visitor):
    response = staff_client.post(TEST_URL, {"condition": "{device: mobile", "visitor": "crm-7"})

    assert response.status_code == 400
    assert response.json()["error"].startswith("The condition is not valid JSON")


@pytest.mark.django_db
def test_a_matching_visitor_matches_with_the_context_filled_in(staff_client, engaged_visitor):
    response = run_test(staff_client, ENGAGED_ON_MOBILE, "crm-7", device="mobile")

    assert response.status_code == 200
    body = response.json()
    assert body["matched"] is True
    assert body["first_failure"] is None
    assert body["visitor"] == "crm-7"
    assert body["personalization_allowed"] is True
    assert body["context"] == {"device": "mobile"}
    assert body["attributes"]["lifecycle"] == "engaged"
    assert body["attributes"]["traits"] == {"plan": "pro"}
    assert body["attributes"]["segments"] == []
    assert body["explanation"]["kind"] == "all"
    assert body["issues"] == []


@pytest.mark.django_db
def test_without_context_a_request_attribute_is_the_failing_part(staff_client, engaged_visitor):
    body = run_test(staff_client, ENGAGED_ON_MOBILE, "crm-7").json()

    assert body["matched"] is False
    assert body["first_failure"] == "device"
    device = body["explanation"]["children"][0]
    assert (device["path"], device["matched"], device["value"]) == ("device", False, None)


@pytest.mark.django_db
def test_a_visitor_is_found_by_cookie_id_and_consent_is_reported(staff_client):
    visitor = VisitorFactory(external_id=None)

    body = run_test(staff_client, {"country": "DE"}, str(visitor.uid), country="de").json()

    assert body["matched"] is True
    assert body["personalization_allowed"] is False


@pytest.mark.django_db
def test_validation_and_catalogue_problems_come_with_the_result(staff_client, engaged_visitor):
    condition = {"sessions_30d": {"$gte": "three"}, "favorite": 1, "$and": {"a": 1}}

    body = run_test(staff_client, condition, "crm-7").json()

    assert "$and: $and needs a list of conditions" in body["issues"]
    assert any(issue.startswith("sessions_30d: $gte needs a number") for issue in body["issues"])
    assert any(issue.startswith("favorite: unknown attribute") for issue in body["issues"])
    assert body["matched"] is False
