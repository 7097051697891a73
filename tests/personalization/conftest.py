"""Fixtures shared by the personalization tests."""

import pytest
from rest_framework.test import APIClient

from tests.factories import api_client_with_key


@pytest.fixture
def newsletter() -> APIClient:
    """The email system: its key may fetch blocks."""
    return api_client_with_key("blocks:read", name="newsletter")
