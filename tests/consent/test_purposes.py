import pytest

from consent import purposes
from consent.models import Purpose


@pytest.mark.django_db
def test_every_purpose_code_asks_about_is_one_a_new_installation_has():
    keys = set(Purpose.objects.values_list("key", flat=True))

    assert {purposes.ANALYTICS, purposes.PERSONALIZATION, purposes.MARKETING} <= keys
