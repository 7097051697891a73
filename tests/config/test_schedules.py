import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.schedules import DEFAULT_SCHEDULES


@pytest.mark.django_db
def test_setup_schedules_creates_every_default_periodic_task():
    call_command("setup_schedules")

    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {s.name for s in DEFAULT_SCHEDULES} <= names


@pytest.mark.django_db
def test_setup_schedules_twice_creates_nothing_more():
    call_command("setup_schedules")
    count = PeriodicTask.objects.count()

    call_command("setup_schedules")

    assert PeriodicTask.objects.count() == count


@pytest.mark.django_db
def test_setup_schedules_keeps_what_an_operator_changed():
    call_command("setup_schedules")
    task = PeriodicTask.objects.get(name=DEFAULT_SCHEDULES[0].name)
    task.enabled = False
    task.save()

    call_command("setup_schedules")

    assert PeriodicTask.objects.get(pk=task.pk).enabled is False


def test_every_default_schedule_names_a_registered_task():
    from config.celery import app

    app.loader.import_default_modules()
    assert {s.task for s in DEFAULT_SCHEDULES} <= set(app.tasks)
