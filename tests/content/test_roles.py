import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory


def member_of(group: str):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.mark.django_db
def test_the_three_roles_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Editor", "Analyst", "Privacy officer",
    }  # fmt: skip


@pytest.mark.django_db
def test_an_editor_manages_content_tags_and_slots_but_not_users():
    editor = member_of("Editor")

    assert editor.has_perms(
        ["content.add_contentitem", "content.change_tag", "content.change_slot"]
    )
    assert not editor.has_perm("auth.change_user")


@pytest.mark.django_db
def test_an_analyst_reads_content_without_changing_it():
    analyst = member_of("Analyst")

    assert analyst.has_perm("content.view_contentitem")
    assert not analyst.has_perm("content.change_contentitem")


@pytest.mark.django_db
def test_an_analyst_sees_the_item_list_but_no_add_button(client):
    client.force_login(member_of("Analyst"))

    response = client.get("/admin/content/contentitem/")

    assert response.status_code == 200
    assert "/admin/content/contentitem/add/" not in response.content.decode()
