import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from consent.gdpr.audit import COMMAND
from consent.gdpr.requests import (
    RequestStateError,
    subject_request_create,
    subject_request_reject,
)
from consent.models import DataSubjectRequest, PrivacyAuditEntry
from personalization.visitors.models import Visitor
from tests.consent.test_export import client_with_key, seed_subject
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/consent/datasubjectrequest/"
EXPORT = "/api/v1/privacy/export"
Type = DataSubjectRequest.Type


@pytest.fixture
def officer():
    """A staff member in the Privacy officer group, and nothing more."""
    user = UserFactory(username="olivia", staff=True)
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


@pytest.fixture
def officer_client(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def request_for(identifier: str, type: str = Type.ACCESS, **changes) -> DataSubjectRequest:
    request = subject_request_create(type=type, identifier=identifier, actor=COMMAND)
    if changes:
        DataSubjectRequest.objects.filter(pk=request.pk).update(**changes)
        request.refresh_from_db()
    return request


def test_a_request_is_due_thirty_days_after_it_is_received_and_is_logged():
    seed_subject("alice")

    request = request_for("alice-crm")

    assert request.due_at - request.received_at == pytest.approx(
        timedelta(days=30), abs=timedelta(seconds=1)
    )
    assert request.status == "received"
    entry = request.audit_entries.get()
    assert (entry.action, entry.channel, entry.subject_hash) == (
        "requested",
        "command",
        request.subject_hash,
    )


def test_the_privacy_officer_group_may_handle_requests_and_read_consent_visitors_and_events():
    group = Group.objects.get(name="Privacy officer")

    codenames = set(group.permissions.values_list("codename", flat=True))

    assert {
        "add_datasubjectrequest", "change_datasubjectrequest", "view_datasubjectrequest",
        "view_privacyauditentry", "view_consentrecord", "view_visitor", "view_event",
    } <= codenames  # fmt: skip
    assert "change_privacyauditentry" not in codenames


def test_the_overdue_filter_lists_open_requests_past_their_due_date(officer_client):
    seed_subject("bob")
    past = timezone.now() - timedelta(days=1)
    late = request_for("bob-crm", due_at=past)
    answered_late = request_for("bob-crm", due_at=past, status="done")
    on_time = request_for("bob-crm")

    page = officer_client.get(CHANGELIST, {"overdue": "yes"})

    assert page.status_code == 200
    shown = {r.pk for r in page.context["cl"].result_list}
    assert shown == {late.pk}
    assert answered_late.pk not in shown and on_time.pk not in shown
    not_overdue = officer_client.get(CHANGELIST, {"overdue": "no"}).context["cl"].result_list
    assert {answered_late.pk, on_time.pk} <= {r.pk for r in not_overdue}
    assert late.pk not in {r.pk for r in not_overdue}


def test_an_officer_adds_a_request_in_the_admin_and_an_unknown_subject_is_refused(
    officer_client, officer
):
    seed_subject("carol")

    refused = officer_client.post(f"{CHANGELIST}add/", {"type": "access", "subject": "nobody"})
    added = officer_client.post(f"{CHANGELIST}add/", {"type": "access", "subject": "carol-crm"})

    assert "No visitor has this external id" in refused.content.decode()
    assert added.status_code == 302, added.context["adminform"].form.errors
    request = DataSubjectRequest.objects.filter(handled_by=None).latest("pk")
    assert (request.subject, request.status) == ("carol-crm", "received")
    entry = request.audit_entries.get()
    assert (entry.channel, entry.actor) == ("admin", officer)


def test_export_now_attaches_the_json_which_the_officer_downloads(officer_client, officer):
    seed_subject("dave")
    request = request_for("dave-crm")

    officer_client.post(CHANGELIST, {"action": "export_now", "_selected_action": [request.pk]})

    request.refresh_from_db()
    assert (request.status, request.handled_by) == ("done", officer)
    page = officer_client.get(f"{CHANGELIST}{request.pk}/change/").content.decode()
    assert "Download JSON" in page
    download = officer_client.get(f"{CHANGELIST}{request.pk}/download/")
    assert download["Content-Disposition"] == (
        f'attachment; filename="subject-export-{request.pk}.json"'
    )
    document = json.loads(download.content)
    assert document["data"]["personalization.Visitor"][0]["external_id"] == "dave-crm"
    actions = list(request.audit_entries.order_by("pk").values_list("action", "channel"))
    assert actions == [("requested", "command"), ("exported", "admin"), ("exported", "admin")]


def test_erase_now_runs_the_erasure_and_the_request_keeps_only_a_hash(
    officer_client, officer, django_capture_on_commit_callbacks
):
    seed_subject("erin")
    request = request_for("erin-crm", type=Type.ERASURE)

    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(CHANGELIST, {"action": "erase_now", "_selected_action": [request.pk]})

    request.refresh_from_db()
    assert (request.status, request.subject, request.handled_by) == ("done", "", officer)
    assert not Visitor.objects.filter(external_id="erin-crm").exists()
    actions = list(request.audit_entries.order_by("pk").values_list("action", "channel"))
    assert actions == [("requested", "command"), ("erasure_queued", "admin"), ("erased", "task")]
    page = officer_client.get(f"{CHANGELIST}{request.pk}/change/").content.decode()
    assert "erin-crm" not in page
    assert "personalization.Event" in page  # the progress: rows erased per model


def test_the_visitor_page_offers_export_and_an_erasure_request(officer_client):
    subject = seed_subject("frank")
    visitors = "/admin/personalization/visitor/"

    exported = officer_client.post(
        visitors, {"action": "visitors_export", "_selected_action": [subject.visitor.pk]}
    )
    requested = officer_client.post(
        visitors, {"action": "visitors_erasure_request", "_selected_action": [subject.visitor.pk]}
    )

    access = DataSubjectRequest.objects.filter(type="access", status="done").latest("pk")
    erasure = DataSubjectRequest.objects.get(type="erasure")
    assert exported.url == f"{CHANGELIST}{access.pk}/change/"
    assert json.loads(access.result)["data"]["personalization.Visitor"][0]["uid"]
    assert requested.url == f"{CHANGELIST}{erasure.pk}/change/"
    assert erasure.status == "received"  # "Erase now" on the request erases
    assert Visitor.objects.filter(pk=subject.visitor.pk).exists()


def test_staff_without_the_privacy_role_cannot_export_from_the_visitor_page():
    subject = seed_subject("gina")
    analyst = UserFactory(username="ann", staff=True)
    analyst.user_permissions.add(Permission.objects.get(codename="view_visitor"))
    client = Client()
    client.force_login(analyst)

    response = client.post(
        "/admin/personalization/visitor/",
        {"action": "visitors_export", "_selected_action": [subject.visitor.pk]},
        follow=True,
    )

    assert "You may not handle data-subject requests." in response.content.decode()
    assert not DataSubjectRequest.objects.filter(handled_by=analyst).exists()
    assert not PrivacyAuditEntry.objects.filter(channel="admin").exists()


def test_every_export_and_erasure_is_logged_whichever_path(django_capture_on_commit_callbacks):
    seed_subject("hank")
    seed_subject("ivy")
    api = client_with_key("privacy:admin")
    seeded = PrivacyAuditEntry.objects.latest("pk").pk

    call_command("export_subject", "hank-crm", "--output", "/dev/null")
    b"".join(api.post(EXPORT, {"visitor_id": "hank-crm"}, format="json").streaming_content)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/privacy/erase", {"visitor_id": "hank-crm"}, format="json")
    call_command("erase_subject", "ivy-crm", "--yes")

    logged = list(
        PrivacyAuditEntry.objects.filter(pk__gt=seeded)
        .exclude(action="requested")
        .order_by("pk")
        .values_list("action", "channel", "api_key__name")
    )
    assert logged == [
        ("exported", "command", None),
        ("exported", "api", "crm"),
        ("erasure_queued", "api", "crm"),
        ("erased", "task", None),
        ("erased", "command", None),
    ]


def test_a_rejected_request_is_closed_and_cannot_be_handled_after():
    seed_subject("jack")
    request = request_for("jack-crm")

    subject_request_reject(request=request, actor=COMMAND, reason="identity not verified")

    request.refresh_from_db()
    assert request.status == "rejected" and request.completed_at
    assert request.audit_entries.filter(action="rejected").exists()
    with pytest.raises(RequestStateError):
        subject_request_reject(request=request, actor=COMMAND, reason="again")
