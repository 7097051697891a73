"""Rate limits count the real client: X-Forwarded-For only from trusted proxies.

An anonymous client sending a new X-Forwarded-For on every request used to get a fresh
allowance each time (`API_KEY_RATE=5/minute` never bit).
"""

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from config.auth import ApiKeyRateThrottle

CONSENT = "/api/v1/consent"


@pytest.fixture
def five_a_minute(settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "5/minute"},
    }
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)
    cache.clear()
    yield
    cache.clear()


def statuses(client: APIClient, forwarded: list[str], peer: str) -> list[int]:
    return [
        client.get(CONSENT, HTTP_X_FORWARDED_FOR=value, REMOTE_ADDR=peer).status_code
        for value in forwarded
    ]


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_rate_without_a_trusted_proxy(five_a_minute):
    forged = [f"203.0.113.{n}" for n in range(6)]

    assert statuses(APIClient(), forged, peer="198.51.100.9") == [200] * 5 + [429]


@pytest.mark.django_db
def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(five_a_minute, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    forged = [f"203.0.113.{n}" for n in range(6)]

    assert statuses(APIClient(), forged, peer="198.51.100.9") == [200] * 5 + [429]


@pytest.mark.django_db
def test_through_a_trusted_proxy_each_client_has_its_own_rate(five_a_minute, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = APIClient()

    # Whatever the client puts left of the proxy's entry, its own address is what counts.
    first = statuses(client, [f"1.2.3.{n}, 198.51.100.7" for n in range(6)], peer="10.0.0.5")
    other = statuses(client, ["198.51.100.8"], peer="10.0.0.6")

    assert first == [200] * 5 + [429]
    assert other == [200]


@pytest.mark.django_db
def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client(five_a_minute, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    chain = ["198.51.100.7, 192.0.2.1, 10.1.1.1"] * 6

    assert statuses(APIClient(), chain, peer="10.0.0.5") == [200] * 5 + [429]
    assert statuses(APIClient(), ["198.51.100.8, 192.0.2.1"], peer="10.0.0.5") == [200]
