import io
import time

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from rest_framework.test import APIClient

from consent.gdpr import erase
from consent.gdpr.audit import COMMAND
from consent.gdpr.requests import subject_request_create
from consent.models import ConsentRecord, DataSubjectRequest, PrivacyAuditEntry
from consent.selectors import state_cache_key
from consent.services import proof_hash
from consent.tasks import erase_subject
from content.models import ContentItem
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Event, Visitor, VisitorMerge
from tests.consent.test_export import Seeded, client_with_key, seed_subject
from tests.factories import ContentItemFactory

ERASE_URL = "/api/v1/privacy/erase"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.UUIDField)


@pytest.fixture
def privacy_client() -> APIClient:
    return client_with_key("privacy:admin")


def tables_holding(needles: list[str]) -> list[str]:
    """Every model column (text, JSON, UUID; cast to text) that contains one of `needles`."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for column in model._meta.concrete_fields:
            if not isinstance(column, TEXT_FIELDS):
                continue
            rows = model._base_manager.annotate(
                _text=Cast(column.name, output_field=models.TextField())
            )
            anywhere = Q()
            for needle in needles:
                anywhere |= Q(_text__contains=needle)
            if rows.filter(anywhere).exists():
                held = [n for n in needles if rows.filter(_text__contains=n).exists()]
                found.append(f"{model._meta.label}.{column.name}: {held}")
    return found


def snapshot(seeded: Seeded) -> dict:
    """What a user would notice about a visitor: their rows, values and consent."""
    visitor = Visitor.objects.get(pk=seeded.visitor.pk)
    return {
        "visitor": (visitor.external_id, str(visitor.uid), visitor.traits, visitor.user_id),
        "tombstone": Visitor.objects.filter(merged_into=visitor).count(),
        "events": sorted(Event.objects.filter(visitor=visitor).values_list("event_id", "type")),
        "consent": ConsentRecord.objects.filter(visitor=visitor).count(),
        "features": VisitorFeatures.objects.get(visitor=visitor).tag_affinities,
        "merges": VisitorMerge.objects.filter(target=visitor).count(),
        "user": get_user_model()
        .objects.filter(pk=visitor.user_id)
        .values_list("username", "email", "is_active")[0],
        "requests": DataSubjectRequest.objects.filter(subject=visitor.external_id).count(),
        "log": LogEntry.objects.filter(object_repr__startswith=seeded.visitor.external_id).count(),
    }


@pytest.mark.django_db
def test_after_erase_subject_no_table_holds_the_subjects_identifiers_and_others_are_untouched():
    subject, other = seed_subject("alice"), seed_subject("bob")
    assert tables_holding(subject.identifiers)  # the check finds them while they are stored
    before = snapshot(other)

    call_command("erase_subject", "alice-crm", "--yes")

    assert tables_holding(subject.identifiers) == []
    assert snapshot(other) == before
    assert tables_holding(other.identifiers) != []


@pytest.mark.django_db
def test_erasure_keeps_consent_proof_pseudonymized_and_the_user_account_anonymous():
    subject = seed_subject("carol")
    records = ConsentRecord.objects.filter(visitor__in=[subject.visitor, subject.tombstone]).count()
    cache.set(state_cache_key(subject.visitor.pk), {"analytics": True})
    authored = ContentItemFactory(author=subject.user)

    call_command("erase_subject", "carol-crm", "--yes")

    proof = ConsentRecord.objects.filter(subject_hash=proof_hash("carol-crm"))
    assert proof.count() == records
    assert not proof.filter(visitor__isnull=False).exists()
    user = get_user_model().objects.get(pk=subject.user.pk)
    assert (user.username, user.email, user.is_active) == (f"erased-{user.pk}", "", False)
    assert not user.has_usable_password()
    assert ContentItem.objects.get(pk=authored.pk).author_id == user.pk  # an editor's record
    assert not Visitor.objects.filter(pk__in=[subject.visitor.pk, subject.tombstone.pk]).exists()
    assert cache.get(state_cache_key(subject.visitor.pk)) is None
    request = DataSubjectRequest.objects.get(type="erasure")
    assert (request.status, request.subject) == ("done", "")
    assert request.progress["counts"]["personalization.Event"] == 3
    assert request.audit_entries.filter(action="erased", channel="command").exists()


@pytest.mark.django_db
def test_erasing_twice_is_fine_and_changes_nothing_more(capsys):
    subject, other = seed_subject("dave"), seed_subject("erin")
    before = snapshot(other)
    request = subject_request_create(
        type=DataSubjectRequest.Type.ERASURE, identifier="dave-crm", actor=COMMAND
    )

    first = erase_subject.delay(request_id=request.pk).get()
    second = erase_subject.delay(request_id=request.pk).get()
    call_command("erase_subject", "dave-crm", "--yes")

    assert first == second
    assert first["personalization.Event"] == 3
    assert "nothing to erase" in capsys.readouterr().out
    assert PrivacyAuditEntry.objects.filter(action="erased").count() == 1
    assert tables_holding(subject.identifiers) == []
    assert snapshot(other) == before


@pytest.mark.django_db
def test_an_erasure_that_crashes_half_way_is_finished_by_the_next_run(monkeypatch):
    subject = seed_subject("gina", events=9)
    request = subject_request_create(
        type=DataSubjectRequest.Type.ERASURE, identifier=str(subject.tombstone.uid), actor=COMMAND
    )
    real_batch = erase.erase_batch
    event_batches = []

    def dies_after_the_first_batch_of_events(declaration, subject, *, after, upto, **options):
        if declaration.label == "personalization.Event":
            if event_batches:
                raise ConnectionResetError("the worker lost its database connection")
            event_batches.append(upto)
        return real_batch(declaration, subject, after=after, upto=upto, **options)

    monkeypatch.setattr(erase, "erase_batch", dies_after_the_first_batch_of_events)
    with pytest.raises(ConnectionResetError):
        erase_subject.delay(request_id=request.pk, batch_size=4).get()

    request.refresh_from_db()
    assert request.status == "in_progress"
    assert request.progress["counts"]["personalization.Event"] == 4
    assert Event.objects.filter(event_id__startswith="gina-").count() == 5
    assert Visitor.objects.filter(external_id="gina-crm").exists()

    monkeypatch.setattr(erase, "erase_batch", real_batch)
    counts = erase_subject.delay(request_id=request.pk, batch_size=4).get()

    assert counts["personalization.Event"] == 9
    assert counts["personalization.Visitor"] == 2
    assert tables_holding(subject.identifiers) == []
    request.refresh_from_db()
    assert request.status == "done"


@pytest.mark.django_db
def test_erase_subject_asks_and_aborts_on_anything_but_yes(monkeypatch, capsys):
    seed_subject("hank")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))

    with pytest.raises(CommandError, match="aborted"):
        call_command("erase_subject", "hank-crm")

    assert "cannot be undone" in capsys.readouterr().out
    assert Visitor.objects.filter(external_id="hank-crm").exists()
    assert not DataSubjectRequest.objects.filter(type="erasure").exists()

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    call_command("erase_subject", "hank-crm")

    assert not Visitor.objects.filter(external_id="hank-crm").exists()


@pytest.mark.django_db
def test_the_erase_api_answers_202_with_a_request_to_follow(
    privacy_client, django_capture_on_commit_callbacks
):
    seed_subject("ivy")

    with django_capture_on_commit_callbacks(execute=True):
        response = privacy_client.post(ERASE_URL, {"visitor_id": "ivy-crm"}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["type"] == "erasure"
    followed = privacy_client.get(f"/api/v1/privacy/requests/{body['request_id']}").json()
    assert followed["status"] == "done"
    assert followed["counts"]["personalization.Event"] == 3
    assert not Visitor.objects.filter(external_id="ivy-crm").exists()
    again = privacy_client.post(ERASE_URL, {"visitor_id": "ivy-crm"}, format="json")
    assert again.status_code == 404


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_erase_api_queues_a_task_that_a_real_worker_runs(tasks_on_worker, privacy_client):
    subject, other = seed_subject("jack"), seed_subject("kate")
    before = snapshot(other)

    response = privacy_client.post(ERASE_URL, {"visitor_id": "jack-crm"}, format="json")

    assert response.status_code == 202
    request = DataSubjectRequest.objects.get(pk=response.json()["request_id"])
    deadline = time.monotonic() + 60
    while request.status != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
        request.refresh_from_db()
    assert request.status == "done"
    assert tables_holding(subject.identifiers) == []
    assert snapshot(other) == before
