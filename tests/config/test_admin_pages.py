"""Every admin page opens for the superuser and for each role on the demo data: no 500s."""

from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from config.admin_site import SECTIONS
from personalization.decisions.admin_views import VALUE_SOURCES
from tests.factories import UserFactory

ROLES = ("Editor", "Analyst", "Privacy officer")
OBJECTS_PER_MODEL = 2


@pytest.fixture
def demo(db):
    """The demo site, small: every model the admin shows has rows."""
    call_command("seed_demo", visitors=12, stdout=StringIO())


def admin_pages() -> list[str]:
    pages = [
        "/admin/",
        "/admin/tailor/attributes.json",
        "/admin/tailor/preview/",
        "/admin/personalization/segment/attributes/",
    ]
    pages += [reverse("admin:section", args=[section.key]) for section in SECTIONS]
    pages += [f"/admin/tailor/values.json?source={source}&q=a" for source in VALUE_SOURCES]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        pages.append(reverse("admin:{}_{}_add".format(*info)))
        for pk in model._default_manager.values_list("pk", flat=True)[:OBJECTS_PER_MODEL]:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
    return pages


def user_for(who: str):
    if who == "superuser":
        return UserFactory(username="root", superuser=True)
    user = UserFactory(username=who.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=who))
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["superuser", *ROLES])
def test_every_admin_page_opens_or_is_refused_never_fails(demo, client, who):
    client.force_login(user_for(who))

    answers = {page: client.get(page).status_code for page in admin_pages()}

    failed = {page: status for page, status in answers.items() if status not in (200, 302, 403)}
    assert failed == {}
    assert sum(1 for p in answers if p.endswith("/change/")) > 20  # the demo filled the admin
    if who == "superuser":
        assert {page for page, status in answers.items() if status == 200} >= {
            p for p in answers if p.endswith("/change/")
        }
