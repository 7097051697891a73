"""Password guessing on the admin and site logins is stopped after a few failures per client."""

import pytest

from tests.factories import UserFactory
from tests.factories.users import PASSWORD

LOGINS = ["/admin/login/", "/accounts/login/"]


def attempt(client, url: str, password: str, **headers: str):
    return client.post(url, {"username": "ada", "password": password}, **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("url", LOGINS)
def test_after_five_failures_even_the_right_password_is_refused_for_a_while(client, url):
    UserFactory(username="ada", superuser=True)

    failures = [attempt(client, url, f"guess-{n}").status_code for n in range(5)]
    locked = attempt(client, url, PASSWORD)

    assert failures == [200] * 4 + [429]
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_reset_the_count(client):
    UserFactory(username="ada", superuser=True)
    for n in range(5):
        attempt(client, "/admin/login/", f"guess-{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    locked = attempt(client, "/admin/login/", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert locked.status_code == 429


@pytest.mark.django_db
def test_other_clients_behind_a_trusted_proxy_can_still_log_in(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    UserFactory(username="ada", superuser=True)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(5):
        attempt(client, "/admin/login/", f"guess-{n}", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    locked = attempt(client, "/admin/login/", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    other = attempt(client, "/admin/login/", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)

    assert locked.status_code == 429
    assert other.status_code == 302


@pytest.mark.django_db
def test_a_successful_login_forgives_earlier_typos(client):
    UserFactory(username="ada", superuser=True)
    for n in range(4):
        attempt(client, "/admin/login/", f"typo-{n}")
    assert attempt(client, "/admin/login/", PASSWORD).status_code == 302
    client.logout()

    for n in range(4):
        attempt(client, "/admin/login/", f"typo-{n}")

    assert attempt(client, "/admin/login/", PASSWORD).status_code == 302
