"""API clients that authenticate with a new API key, as a partner system would."""

from rest_framework.test import APIClient

from config.services import api_key_create


def api_client_with_key(*scopes: str, name: str = "crm") -> APIClient:
    """A client sending a new key with these scopes as its bearer token."""
    client = APIClient()
    _, secret = api_key_create(name=name, scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
