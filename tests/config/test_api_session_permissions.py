"""People signed into the admin use the API with their Django permissions, not with `is_staff`."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from config.auth import SCOPE_PERMISSIONS
from config.models import SCOPES
from personalization.segments.models import Segment
from tests.factories import UserFactory, VisitorFactory, grant
from tests.factories.personalization import SegmentFactory

pytestmark = pytest.mark.django_db

REGEX_SEGMENT = {
    "key": "gmail-users",
    "name": "Gmail users",
    "kind": "rule",
    "condition": {"traits.email": {"$regex": "^.*@gmail\\.com$"}},
}


def signed_in(role: str, *, csrf_checks: bool = False) -> APIClient:
    """A browser signed into the admin as a staff member of `role` (a group from migrations)."""
    user = UserFactory(username=role.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = APIClient(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def with_permissions(*codenames: str, csrf_checks: bool = False) -> APIClient:
    user = UserFactory(username="segment-manager", staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


SEGMENT_PERMISSIONS = ("view_segment", "add_segment", "change_segment", "delete_segment")


@pytest.fixture
def demo_visitor():
    visitor = VisitorFactory(external_id="demo-1", traits={"email": "carol@example.com"})
    grant(visitor, "analytics", "personalization")
    return visitor


def test_an_analyst_signed_into_the_admin_cannot_read_a_visitors_profile(demo_visitor):
    response = signed_in("Analyst").get("/api/v1/profiles/demo-1")

    assert response.status_code == 403
    assert "carol@example.com" not in response.content.decode()


def test_an_analyst_can_neither_create_a_regex_segment_nor_delete_another(demo_visitor):
    SegmentFactory(key="vip", condition={"sessions_30d": {"$gte": 5}})
    analyst = signed_in("Analyst")

    created = analyst.post("/api/v1/segments", REGEX_SEGMENT, format="json")
    deleted = analyst.delete("/api/v1/segments/vip")

    assert (created.status_code, deleted.status_code) == (403, 403)
    assert list(Segment.objects.values_list("key", flat=True)) == ["vip"]


def test_an_editor_cannot_read_profiles_or_ask_for_decisions_about_a_visitor(demo_visitor):
    editor = signed_in("Editor")

    assert editor.get("/api/v1/profiles/demo-1").status_code == 403
    assert editor.get("/api/v1/profiles/demo-1/segments").status_code == 403
    assert editor.get("/api/v1/recommendations?visitor=demo-1").status_code == 403


def test_a_privacy_officer_who_may_view_visitors_reads_a_profile(demo_visitor):
    response = signed_in("Privacy officer").get("/api/v1/profiles/demo-1")

    assert response.status_code == 200
    assert response.json()["visitor_id"] == "demo-1"


def test_staff_with_the_segment_permissions_manage_segments_with_their_session():
    client = with_permissions(*SEGMENT_PERMISSIONS)

    response = client.post("/api/v1/segments", REGEX_SEGMENT, format="json")

    assert response.status_code == 201, response.json()
    assert client.delete("/api/v1/segments/gmail-users").status_code == 204
    assert not Segment.objects.exists()


def test_a_session_write_without_the_csrf_token_is_refused_and_stores_nothing():
    client = with_permissions(*SEGMENT_PERMISSIONS, csrf_checks=True)

    response = client.post("/api/v1/segments", REGEX_SEGMENT, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not Segment.objects.exists()


def test_a_superuser_passes_every_scope(demo_visitor):
    client = APIClient()
    client.force_login(UserFactory(username="root", superuser=True))

    assert client.get("/api/v1/profiles/demo-1").status_code == 200
    assert client.get("/api/v1/segments").status_code == 200


def test_every_api_scope_names_django_permissions_that_exist():
    assert set(SCOPE_PERMISSIONS) == set(SCOPES)
    for scope, names in SCOPE_PERMISSIONS.items():
        assert names, scope
        for name in names:
            app_label, codename = name.split(".")
            assert Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists(), f"{scope}: no permission {name}"
