from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from config.models import ApiKey, hash_secret


@pytest.mark.django_db
def test_create_api_key_prints_the_key_last_and_stores_only_its_hash():
    out = StringIO()

    call_command("create_api_key", "newsletter", "--scopes", "blocks:read,events:write", stdout=out)

    printed = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get(name="newsletter")
    assert printed.startswith(f"tl_{key.prefix}_")
    assert key.hashed_secret == hash_secret(printed.split("_", 2)[2])
    assert printed.split("_", 2)[2] not in str(ApiKey.objects.values_list())
    assert key.scopes == ["blocks:read", "events:write"]


@pytest.mark.django_db
def test_create_api_key_refuses_an_unknown_scope():
    with pytest.raises(CommandError, match="unknown scope"):
        call_command("create_api_key", "crm", "--scopes", "everything", stdout=StringIO())

    assert not ApiKey.objects.exists()
