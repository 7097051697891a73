"""API keys in the admin: who may see and create them, the secret shown once, revoking."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from config.models import ApiKey, hash_secret
from tests.factories import UserFactory

ADD = "/admin/tailor/apikey/add/"
LIST = "/admin/tailor/apikey/"
ROLES = ("Editor", "Analyst", "Privacy officer")


def created_secret(html: str) -> str:
    return re.search(r'id="new-api-key">([^<]+)<', html).group(1)


@pytest.fixture
def root(client):
    client.force_login(UserFactory(username="root", superuser=True))
    return client


@pytest.mark.django_db
def test_the_superuser_creates_a_key_and_sees_its_secret_once(root):
    answer = root.post(ADD, {"name": "newsletter", "scopes": ["blocks:read", "events:write"]})

    secret = created_secret(answer.content.decode())
    key = ApiKey.objects.get(name="newsletter")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    assert secret.startswith(f"tl_{key.prefix}_")
    assert key.hashed_secret == hash_secret(secret.split("_", 2)[2])
    assert sorted(key.scopes) == ["blocks:read", "events:write"]
    assert secret not in root.get(f"{LIST}{key.pk}/change/").content.decode()
    assert secret not in root.get(LIST).content.decode()


@pytest.mark.django_db
def test_the_new_key_works_on_the_api_at_once(root):
    secret = created_secret(
        root.post(ADD, {"name": "crm", "scopes": ["profiles:read"]}).content.decode()
    )

    answer = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/profiles/nobody")

    assert answer.status_code == 404  # authenticated and allowed; the visitor does not exist


@pytest.mark.django_db
def test_the_scope_picker_describes_every_scope(root):
    page = root.get(ADD).content.decode()

    assert "fetch personalized email blocks" in page
    assert "personalization.view_visitor" in page  # what a signed-in person would need


@pytest.mark.django_db
def test_a_key_without_a_scope_or_with_an_unknown_one_is_refused(root):
    none = root.post(ADD, {"name": "crm"})
    unknown = root.post(ADD, {"name": "crm", "scopes": ["everything"]})

    assert none.status_code == unknown.status_code == 200
    assert "This field is required." in none.content.decode()
    assert "Select a valid choice. everything" in unknown.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_role_sees_lists_or_creates_api_keys(client, role):
    person = UserFactory(username=role.lower().replace(" ", "-"), staff=True)
    person.groups.add(Group.objects.get(name=role))
    client.force_login(person)

    answers = [
        client.get(LIST).status_code,
        client.get(ADD).status_code,
        client.post(ADD, {"name": "mine", "scopes": ["privacy:admin"]}).status_code,
    ]

    assert answers == [403, 403, 403]
    assert not ApiKey.objects.exists()
    assert "API keys" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_someone_who_may_only_view_keys_can_neither_create_nor_revoke_them(client):
    viewer = UserFactory(username="auditor", staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    key = ApiKey.objects.create(name="shop", prefix="abcd1234", hashed_secret="x", scopes=[])
    client.force_login(viewer)

    listed = client.get(LIST)
    added = client.post(ADD, {"name": "mine", "scopes": ["privacy:admin"]})
    client.post(LIST, {"action": "revoke", "_selected_action": [key.pk]})

    assert listed.status_code == 200 and "shop" in listed.content.decode()
    assert added.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
def test_a_revoked_key_is_refused_by_the_api_at_once(root):
    secret = created_secret(
        root.post(ADD, {"name": "crm", "scopes": ["profiles:read"]}).content.decode()
    )
    key = ApiKey.objects.get(name="crm")

    root.post(LIST, {"action": "revoke", "_selected_action": [key.pk]})
    answer = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/profiles/nobody")

    assert answer.status_code == 401
    assert "revoked" in root.get(LIST).content.decode()


@pytest.mark.django_db
def test_keys_are_revoked_never_deleted_so_their_use_stays_on_record(root):
    key = ApiKey.objects.create(name="shop", prefix="abcd1234", hashed_secret="x", scopes=[])

    answer = root.post(f"{LIST}{key.pk}/delete/", {"post": "yes"})

    assert answer.status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()


@pytest.mark.django_db
def test_the_list_says_when_a_key_was_last_used(root):
    from django.utils import timezone

    ApiKey.objects.create(name="never", prefix="aaaa1111", hashed_secret="x", scopes=[])
    ApiKey.objects.create(
        name="used", prefix="bbbb2222", hashed_secret="y", scopes=[], last_used_at=timezone.now()
    )

    page = root.get(LIST).content.decode()

    assert "never" in page
    assert "0\xa0minutes ago" in page
