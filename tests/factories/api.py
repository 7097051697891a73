"""API clients: with a new API key, as a partner system; signed in, as a person in the admin."""

from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from config.services import api_key_create
from tests.factories.users import UserFactory


def api_client_with_key(*scopes: str, name: str = "crm") -> APIClient:
    """A client sending a new key with these scopes as its bearer token."""
    client = APIClient()
    _, secret = api_key_create(name=name, scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def api_client_signed_in(*groups: str) -> APIClient:
    """A client signed in as a new staff member of these roles (groups), with no API key."""
    user = UserFactory(username="staff-" + "-".join(groups).lower().replace(" ", "-"), staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    client = APIClient()
    client.force_login(user)
    return client
