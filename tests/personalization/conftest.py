"""Fixtures shared by the personalization tests."""

import pytest
from rest_framework.test import APIClient

from config.services import api_key_create


@pytest.fixture
def newsletter() -> APIClient:
    """The email system: its key may fetch blocks."""
    client = APIClient()
    _, secret = api_key_create(name="newsletter", scopes=["blocks:read"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
