"""Erasing a data subject anonymizes their user account: for staff only when asked, and never
for the last active superuser, whom the site cannot be administered without."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from consent.gdpr.audit import COMMAND
from consent.gdpr.erase import ErasureRefused
from consent.gdpr.requests import subject_request_create
from consent.models import DataSubjectRequest
from consent.tasks import erase_subject
from personalization.visitors.models import Visitor
from tests.consent.test_export import client_with_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ERASE_URL = "/api/v1/privacy/erase"
CHANGELIST = "/admin/consent/datasubjectrequest/"


def profile_of(user) -> Visitor:
    return Visitor.objects.create(user=user, external_id=f"{user.get_username()}-crm")


def account(user) -> tuple[str, bool, bool, bool]:
    user = get_user_model().objects.get(pk=user.pk)
    return user.get_username(), user.is_active, user.is_staff, user.is_superuser


def erase(identifier: str, *options: str) -> None:
    call_command("erase_subject", identifier, "--yes", *options)


@pytest.fixture
def root():
    """The site's only superuser, who also browsed the shop."""
    user = UserFactory(username="root", superuser=True)
    profile_of(user)
    return user


@pytest.fixture
def editor():
    user = UserFactory(username="edith", staff=True)
    profile_of(user)
    return user


@pytest.fixture
def privacy_client() -> APIClient:
    return client_with_key("privacy:admin")


def test_erase_subject_refuses_a_staff_members_visitor_and_changes_nothing(root, editor):
    with pytest.raises(CommandError) as refused:
        erase("edith-crm")

    assert "staff" in str(refused.value)
    assert "--include-staff" in str(refused.value)
    assert account(editor) == ("edith", True, True, False)
    assert Visitor.objects.filter(external_id="edith-crm").exists()
    assert not DataSubjectRequest.objects.exists()


def test_erase_subject_erases_a_staff_member_when_asked_explicitly(root, editor):
    erase("edith-crm", "--include-staff")

    assert account(editor) == (f"erased-{editor.pk}", False, False, False)
    assert not Visitor.objects.filter(external_id="edith-crm").exists()


def test_the_last_active_superuser_is_never_erased_even_when_asked(root):
    UserFactory(username="retired", superuser=True, is_active=False)

    with pytest.raises(CommandError) as refused:
        erase("root-crm", "--include-staff")

    assert "last active superuser" in str(refused.value)
    assert account(root) == ("root", True, True, True)
    assert Visitor.objects.filter(external_id="root-crm").exists()


def test_a_superuser_with_another_active_superuser_is_erased_when_asked(root):
    UserFactory(username="deputy", superuser=True)

    erase("root-crm", "--include-staff")

    assert account(root) == (f"erased-{root.pk}", False, False, False)


def test_the_erase_api_refuses_staff_unless_include_staff_is_sent(
    root, editor, privacy_client, django_capture_on_commit_callbacks
):
    refused = privacy_client.post(ERASE_URL, {"visitor_id": "edith-crm"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        asked = privacy_client.post(
            ERASE_URL, {"visitor_id": "edith-crm", "include_staff": True}, format="json"
        )

    assert refused.status_code == 409
    assert "staff" in refused.json()["errors"]["include_staff"][0]
    assert asked.status_code == 202
    assert account(editor)[1:] == (False, False, False)


def test_the_erase_api_never_erases_the_last_active_superuser(root, privacy_client):
    response = privacy_client.post(
        ERASE_URL, {"visitor_id": "root-crm", "include_staff": True}, format="json"
    )

    assert response.status_code == 409
    assert "last active superuser" in response.json()["errors"]["include_staff"][0]
    assert account(root) == ("root", True, True, True)
    assert not DataSubjectRequest.objects.exists()


@pytest.fixture
def officer_client() -> Client:
    officer = UserFactory(username="olivia", staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    client = Client()
    client.force_login(officer)
    return client


def test_erase_now_in_the_admin_refuses_staff_unless_the_request_includes_them(
    root, editor, officer_client, django_capture_on_commit_callbacks
):
    plain = subject_request_create(type="erasure", identifier="edith-crm", actor=COMMAND)

    with django_capture_on_commit_callbacks(execute=True):
        page = officer_client.post(
            CHANGELIST, {"action": "erase_now", "_selected_action": [plain.pk]}, follow=True
        )

    assert "staff" in page.content.decode()
    assert account(editor) == ("edith", True, True, False)
    plain.refresh_from_db()
    assert plain.status == "received"

    added = officer_client.post(
        f"{CHANGELIST}add/", {"type": "erasure", "subject": "edith-crm", "include_staff": "on"}
    )
    assert added.status_code == 302
    included = DataSubjectRequest.objects.get(include_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(CHANGELIST, {"action": "erase_now", "_selected_action": [included.pk]})

    assert account(editor)[1:] == (False, False, False)


def test_a_queued_erasure_checks_again_when_it_runs(root, editor):
    request = subject_request_create(type="erasure", identifier="edith-crm", actor=COMMAND)
    DataSubjectRequest.objects.filter(pk=request.pk).update(include_staff=True)
    get_user_model().objects.filter(pk=editor.pk).update(is_superuser=True)
    get_user_model().objects.filter(pk=root.pk).update(is_active=False)

    with pytest.raises(ErasureRefused, match="last active superuser"):
        erase_subject.delay(request_id=request.pk)

    assert account(editor) == ("edith", True, True, True)
    request.refresh_from_db()
    assert request.status == "received"
