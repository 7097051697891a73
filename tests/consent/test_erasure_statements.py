"""Erasure runs one statement per model, under a time limit, and still leaves no trace."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.gdpr import erase
from consent.gdpr.audit import COMMAND
from consent.gdpr.requests import subject_request_create
from consent.models import DataSubjectRequest
from personalization.visitors.models import Event, Visitor
from tests.consent.test_erasure import tables_holding
from tests.consent.test_export import seed_subject


def erasure_request(identifier: str) -> DataSubjectRequest:
    return subject_request_create(
        type=DataSubjectRequest.Type.ERASURE, identifier=identifier, actor=COMMAND
    )


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_erasing_a_subject_takes_as_many_statements_whatever_their_number_of_events():
    few, many = seed_subject("lena", events=3), seed_subject("mia", events=40)
    statements = []
    for seeded in (few, many):
        request = erasure_request(seeded.visitor.external_id)
        with CaptureQueriesContext(connection) as queries:
            counts = erase.subject_erase(request_id=request.pk)
        statements.append(len(queries))
        assert counts["personalization.Event"] == len(seeded.event_ids)

    assert statements[0] == statements[1]
    assert tables_holding(few.identifiers + many.identifiers) == []


@pytest.mark.django_db
def test_a_model_whose_statement_runs_past_the_time_limit_is_erased_in_batches(monkeypatch):
    subject = seed_subject("nora", events=9)
    real_batch = erase.erase_batch
    event_ranges = []

    def slow_when_unbounded(declaration, subject, *, after, upto, **options):
        if declaration.label == "personalization.Event":
            event_ranges.append((after, upto))
            if after is None and upto is None:
                with connection.cursor() as cursor:  # as a delete of millions of rows would
                    cursor.execute("SELECT pg_sleep(0.5)")
        return real_batch(declaration, subject, after=after, upto=upto, **options)

    monkeypatch.setattr(erase, "erase_batch", slow_when_unbounded)
    monkeypatch.setattr(erase, "ERASE_STATEMENT_TIMEOUT_MS", 100)
    monkeypatch.setattr(erase, "ERASE_BATCH_SIZE", 4)

    counts = erase.subject_erase(request_id=erasure_request("nora-crm").pk)

    assert counts["personalization.Event"] == 9
    assert counts["personalization.Visitor"] == 2
    # Tried together, then alone, both cancelled; then two full batches and the rest.
    assert event_ranges[:2] == [(None, None), (None, None)]
    assert len(event_ranges[2:]) == 3 and event_ranges[-1][1] is None
    assert not Event.objects.filter(event_id__startswith="nora-").exists()
    assert tables_holding(subject.identifiers) == []


@pytest.mark.django_db
def test_an_event_stored_while_the_subject_is_erased_goes_with_the_visitor(monkeypatch):
    subject = seed_subject("olga")
    real_batch = erase.erase_batch

    def events_arrive_after_the_events_were_erased(declaration, subject_, **options):
        if (
            declaration.label == "consent.DataSubjectRequest"
        ):  # erased after events, before visitors
            Event.objects.create(
                event_id="olga-late", visitor=subject.visitor, type="view",
                occurred_at=timezone.now(), properties={"path": "/olga/late"},
            )  # fmt: skip
        return real_batch(declaration, subject_, **options)

    monkeypatch.setattr(erase, "erase_batch", events_arrive_after_the_events_were_erased)

    counts = erase.subject_erase(request_id=erasure_request("olga-crm").pk)

    assert counts["personalization.Visitor"] == 2
    assert not Visitor.objects.filter(pk=subject.visitor.pk).exists()
    assert not Event.objects.filter(event_id__startswith="olga-").exists()
    assert tables_holding(subject.identifiers) == []


@pytest.mark.django_db
def test_erasure_leaves_the_connections_statement_timeout_as_it_was():
    seed_subject("pia")
    before = statement_timeout()

    erase.subject_erase(request_id=erasure_request("pia-crm").pk)

    assert statement_timeout() == before
