"""The builder's value lists: segments, tags, kinds and countries with search, for staff only."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import ContentKindFactory, TagFactory, UserFactory
from tests.factories.personalization import SegmentFactory

URL = "/admin/tailor/values.json"


def member_of(client, role: str):
    user = UserFactory(username=role.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


@pytest.fixture
def editor(client, db):
    return member_of(client, "Editor")


def test_segments_are_found_by_key_or_name(editor):
    SegmentFactory(key="vip", name="Very important")
    SegmentFactory(key="runners", name="Runners")

    assert editor.get(URL, {"source": "segment", "q": "import"}).json()["values"] == [
        {"value": "vip", "label": "Very important"}
    ]


def test_tags_and_kinds_are_listed_by_slug_and_key(editor):
    TagFactory(name="Running", slug="running")
    ContentKindFactory(key="podcast", name="Podcast")

    tags = editor.get(URL, {"source": "tag", "q": "run"}).json()["values"]
    kinds = editor.get(URL, {"source": "kind", "q": "pod"}).json()["values"]

    assert tags == [{"value": "running", "label": "Running"}]
    assert kinds == [{"value": "podcast", "label": "Podcast"}]


def test_countries_are_found_by_code_or_name(editor):
    values = editor.get(URL, {"source": "country", "q": "switz"}).json()["values"]

    assert values == [{"value": "CH", "label": "Switzerland"}]


def test_an_unknown_list_is_refused_naming_the_lists(editor):
    response = editor.get(URL, {"source": "visitor"})

    assert response.status_code == 400
    assert response.json() == {"error": "source must be one of: country, kind, segment, tag."}


@pytest.mark.django_db
def test_staff_who_may_see_no_condition_get_no_values(client):
    client.force_login(UserFactory(username="stan", staff=True))

    response = client.get(URL, {"source": "segment"})

    assert response.status_code == 403
    assert "values" not in response.json()


@pytest.mark.django_db
def test_visitors_of_the_site_get_no_values(client):
    assert client.get(URL, {"source": "segment"}).status_code == 403


@pytest.mark.django_db
def test_editors_may_view_segments_but_not_change_them(client):
    editor = member_of(client, "Editor")
    segment = SegmentFactory(key="vip", name="VIP")

    viewed = editor.get(f"/admin/personalization/segment/{segment.pk}/change/")
    changed = editor.post(
        f"/admin/personalization/segment/{segment.pk}/change/", {"key": "x", "name": "x"}
    )

    assert viewed.status_code == 200
    assert changed.status_code == 403
