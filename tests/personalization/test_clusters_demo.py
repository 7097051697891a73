"""seed_demo clusters its demo visitors, and the clusters read sensibly."""

from io import StringIO

import pytest
from django.core.management import call_command

from personalization.clustering.models import ClusterMembership, ClusterRun

pytestmark = pytest.mark.django_db


def test_seed_demo_clusters_its_visitors_into_groups_described_in_plain_words():
    call_command("seed_demo", "--visitors", "60", stdout=StringIO())

    run = ClusterRun.objects.get(is_current=True)
    descriptions = list(run.clusters.values_list("description", flat=True))
    assert any("high spend" in text for text in descriptions), descriptions
    assert any("lapsing" in text or "at risk" in text for text in descriptions), descriptions
    # demo-6, demo-16, … allow analytics only: left out of training, in no cluster.
    assert run.left_out == 6
    assert not ClusterMembership.objects.filter(visitor__external_id="demo-16").exists()
    assert ClusterMembership.objects.filter(visitor__external_id="demo-15").exists()


def test_seed_demo_with_a_handful_of_visitors_makes_no_clusters():
    call_command("seed_demo", "--visitors", "12", stdout=StringIO())

    assert not ClusterRun.objects.exists()
