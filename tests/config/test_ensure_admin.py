from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_ensure_admin_creates_a_superuser_and_prints_how_to_log_in(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("ensure_admin", stdout=out)

    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password("admin")
    assert "username 'admin' and password 'admin'" in out.getvalue()


@pytest.mark.django_db
def test_ensure_admin_leaves_an_existing_account_alone(settings):
    settings.DEBUG = True
    call_command("ensure_admin", stdout=StringIO())
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed-by-the-owner")
    user.save()

    call_command("ensure_admin", stdout=StringIO())

    assert get_user_model().objects.get(username="admin").check_password("changed-by-the-owner")


@pytest.mark.django_db
def test_ensure_admin_needs_a_password_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--password is required"):
        call_command("ensure_admin", stdout=StringIO())
