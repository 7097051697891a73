"""Statements over thousands of visitors ask consent in SQL; it answers as `consent_states` does."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from consent.models import ConsentRecord, PolicyVersion, Purpose
from consent.selectors import allows_sql, consent_states
from tests.factories.personalization import VisitorFactory

PURPOSES = ["necessary", "analytics", "personalization", "marketing", "telemetry"]


def record(visitor, purpose: str, granted: bool, *, policy: int | None, ago: int) -> None:
    ConsentRecord.objects.create(
        visitor=visitor, purpose=Purpose.objects.get(key=purpose), granted=granted,
        policy=PolicyVersion.objects.filter(version=policy).first(), source="admin",
        created_at=timezone.now() - timedelta(minutes=ago),
    )  # fmt: skip


def histories() -> list[int]:
    """Visitors without records, granting, withdrawing, granting again, under old policies."""
    PolicyVersion.objects.get_or_create(version=1, defaults={"text": "Terms."})
    visitors = [VisitorFactory() for _ in range(7)]
    _, granted, withdrew, again, unversioned, old, refused = visitors
    record(granted, "personalization", True, policy=1, ago=5)
    record(withdrew, "personalization", True, policy=1, ago=9)
    record(withdrew, "personalization", False, policy=1, ago=3)
    record(again, "personalization", False, policy=1, ago=9)
    record(again, "personalization", True, policy=1, ago=3)
    record(unversioned, "personalization", True, policy=None, ago=3)
    record(old, "marketing", True, policy=1, ago=3)
    record(refused, "necessary", False, policy=1, ago=3)
    return [v.pk for v in visitors]


def allowed_in_sql(purpose: str, ids: list[int]) -> dict[int, bool]:
    condition, params = allows_sql(purpose, "v.id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v.id, {condition} FROM unnest(%(ids)s::bigint[]) AS v(id)",
            {**params, "ids": ids},
        )
        return dict(cursor.fetchall())


def allowed_in_python(purpose: str, ids: list[int]) -> dict[int, bool]:
    return {pk: state.get(purpose, False) for pk, state in consent_states(ids).items()}


@pytest.mark.django_db
@pytest.mark.parametrize("purpose", PURPOSES)
def test_sql_allows_a_purpose_for_the_visitors_consent_states_allow(purpose):
    ids = histories()

    assert allowed_in_sql(purpose, ids) == allowed_in_python(purpose, ids)


@pytest.mark.django_db
@pytest.mark.parametrize("purpose", PURPOSES)
def test_sql_allows_what_consent_states_allow_in_opt_out_mode(purpose, settings):
    settings.TAILOR_CONSENT_MODE = "opt-out"
    ids = histories()

    assert allowed_in_sql(purpose, ids) == allowed_in_python(purpose, ids)


@pytest.mark.django_db
@pytest.mark.parametrize("purpose", PURPOSES)
def test_sql_ignores_grants_under_a_policy_older_than_one_asking_fresh_consent(purpose):
    ids = histories()
    PolicyVersion.objects.create(version=2, text="New terms.", requires_fresh_consent=True)

    assert allowed_in_sql(purpose, ids) == allowed_in_python(purpose, ids)
    assert not any(allowed_in_sql("personalization", ids).values())
