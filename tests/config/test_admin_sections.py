"""The admin's index and navigation are grouped by what people do, and hide nothing."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory

from tests.factories import UserFactory


def sections_for(user) -> dict[str, list[str]]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {s["name"]: [m["name"] for m in s["models"]] for s in admin.site.get_app_list(request)}


@pytest.mark.django_db
def test_the_superuser_sees_the_six_sections_in_order():
    sections = sections_for(UserFactory(username="root", superuser=True))

    assert list(sections)[:6] == [
        "Content", "Targeting", "Experiments", "Insights", "Privacy", "System",
    ]  # fmt: skip
    assert sections["Targeting"][:3] == ["Slots", "Slot rules", "Segments"]
    assert "Attributes" in sections["Targeting"]


@pytest.mark.django_db
def test_celery_schedules_and_runs_live_under_system_not_beside_content():
    sections = sections_for(UserFactory(username="root", superuser=True))

    assert {"Periodic tasks", "Crontabs", "Intervals", "Model runs", "API keys"} <= set(
        sections["System"]
    )
    assert "Periodic tasks" not in sections["Content"]


@pytest.mark.django_db
def test_every_registered_model_appears_in_some_section():
    sections = sections_for(UserFactory(username="root", superuser=True))
    shown = {name for names in sections.values() for name in names}

    registered = {m._meta.verbose_name_plural.capitalize() for m in admin.site._registry}
    assert {name.lower() for name in registered} <= {name.lower() for name in shown}


@pytest.mark.django_db
def test_an_editor_sees_only_the_sections_of_their_work_and_its_results(client):
    editor = UserFactory(username="edith", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    client.force_login(editor)

    assert set(sections_for(editor)) == {"Content", "Targeting", "Experiments", "Insights"}
    assert client.get("/admin/section/targeting/").status_code == 200
    assert client.get("/admin/section/system/").status_code == 403
    assert client.get("/admin/section/nowhere/").status_code == 404


@pytest.mark.django_db
def test_an_apps_own_page_keeps_djangos_grouping(client):
    client.force_login(UserFactory(username="root", superuser=True))

    page = client.get("/admin/personalization/").content.decode()

    assert "Model runs" in page and "Segments" in page
