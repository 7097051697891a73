from io import StringIO

import pytest
from django.core.management import call_command

from content.models import ContentItem, ContentRevision, Slot


@pytest.mark.django_db
def test_seed_demo_creates_the_slots_the_site_and_emails_use():
    call_command("seed_demo", stdout=StringIO())

    assert set(Slot.objects.values_list("key", flat=True)) >= {
        "homepage-hero", "homepage-recommended", "newsletter-top",
    }  # fmt: skip
    assert ContentItem.objects.filter(kind__key="product", status="published").count() >= 40
    assert Slot.objects.get(key="homepage-hero").rules.count() >= 2


@pytest.mark.django_db
def test_seed_demo_run_twice_adds_nothing_the_second_time():
    call_command("seed_demo", stdout=StringIO())
    counts = (ContentItem.objects.count(), ContentRevision.objects.count(), Slot.objects.count())

    call_command("seed_demo", stdout=StringIO())

    assert (
        ContentItem.objects.count(),
        ContentRevision.objects.count(),
        Slot.objects.count(),
    ) == counts
