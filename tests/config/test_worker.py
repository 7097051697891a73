from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.tasks import clear_expired_sessions, ping


@pytest.mark.worker
def test_a_task_runs_on_a_real_worker_and_returns_its_result(tasks_on_worker):
    result = ping.delay()

    assert result.get(timeout=30) == "pong"
    assert result.state == "SUCCESS"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_to_the_same_database_as_the_test(tasks_on_worker):
    now = timezone.now()
    Session.objects.create(
        session_key="expired", session_data="", expire_date=now - timedelta(days=1)
    )
    Session.objects.create(
        session_key="current", session_data="", expire_date=now + timedelta(days=1)
    )

    deleted = clear_expired_sessions.delay().get(timeout=30)

    assert deleted == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]
