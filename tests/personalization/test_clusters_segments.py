"""Clusters turned into segments: filled from the current run, carried over by later runs."""

import pytest

from personalization.clustering.models import Cluster, ClusterMembership
from personalization.clustering.selectors import clusters_cache_clear
from personalization.clustering.services import (
    ClusterError,
    cluster_rename,
    cluster_segment_create,
    clusters_compute_all,
)
from personalization.segments.models import Segment, SegmentMembership
from personalization.segments.selectors import segments_cache_clear, visitor_segments
from personalization.segments.services import segments_compute_all
from tests.factories.clusters import population_create
from tests.factories.personalization import SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_caches():
    clusters_cache_clear()
    segments_cache_clear()
    yield
    clusters_cache_clear()
    segments_cache_clear()


@pytest.fixture
def population():
    return population_create(200, seed=11)


def spenders_cluster(population) -> Cluster:
    visitor_id = population.of("big spenders")[0]
    return ClusterMembership.objects.get(visitor_id=visitor_id, run__is_current=True).cluster


def members(segment: Segment) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list("visitor_id", flat=True)
    )


def test_turning_a_named_cluster_into_a_segment_fills_it_with_the_clusters_visitors(population):
    clusters_compute_all(k_range=(4, 4))
    cluster = cluster_rename(cluster=spenders_cluster(population), name="Big spenders")

    segment = cluster_segment_create(cluster=cluster)

    assert (segment.key, segment.kind, segment.name) == ("big-spenders", "cluster", "Big spenders")
    assert members(segment) == set(population.of("big spenders"))
    assert segment.estimated_size == len(population.of("big spenders"))
    spender = next(v for v in population.visitors if v.pk in members(segment))
    assert "big-spenders" in visitor_segments(spender)


def test_an_unnamed_cluster_becomes_a_segment_keyed_by_run_and_number(population):
    summary = clusters_compute_all(k_range=(4, 4))
    cluster = spenders_cluster(population)

    segment = cluster_segment_create(cluster=cluster)

    assert segment.key == f"cluster-{summary['run']}-{cluster.number}"


def test_a_segment_key_taken_by_a_rule_segment_is_refused_with_the_reason(population):
    clusters_compute_all(k_range=(4, 4))
    SegmentFactory(key="big-spenders", condition={"m_score": 5})
    cluster = cluster_rename(cluster=spenders_cluster(population), name="Big spenders")

    with pytest.raises(ClusterError, match="rule segment already has the key 'big-spenders'"):
        cluster_segment_create(cluster=cluster)

    assert Segment.objects.get(key="big-spenders").kind == "rule"


def test_cluster_segments_keep_their_members_when_rule_segments_are_computed(population):
    clusters_compute_all(k_range=(4, 4))
    segment = cluster_segment_create(cluster=spenders_cluster(population))
    SegmentFactory(key="everyone", condition={"event_count": {"$gte": 0}})

    segments_compute_all()

    assert members(segment) == set(population.of("big spenders"))


def test_a_rule_segment_can_target_a_cluster_by_name(population):
    clusters_compute_all(k_range=(4, 4))
    cluster_rename(cluster=spenders_cluster(population), name="Big spenders")
    rule = SegmentFactory(key="spenders-rule", condition={"clusters": {"$in": ["big-spenders"]}})

    segments_compute_all()

    assert members(rule) == set(population.of("big spenders"))


def test_a_new_run_hands_the_name_and_segment_to_the_cluster_with_most_of_its_visitors(
    population,
):
    clusters_compute_all(k_range=(4, 4))
    old = cluster_rename(cluster=spenders_cluster(population), name="Big spenders")
    segment = cluster_segment_create(cluster=old)
    newcomers = population_create(40, seed=12, prefix="later")

    clusters_compute_all(k_range=(4, 4), seed=3)

    new = spenders_cluster(population)
    assert new.run_id != old.run_id
    assert (new.name, new.segment_id, new.inherited_from_id) == ("Big spenders", segment.pk, old.pk)
    later_spenders = set(newcomers.of("big spenders"))
    assert (
        later_spenders and members(segment) == set(population.of("big spenders")) | later_spenders
    )


def test_a_segment_whose_cluster_has_no_successor_is_emptied_and_says_why(population):
    clusters_compute_all(k_range=(4, 4))
    segment = cluster_segment_create(cluster=spenders_cluster(population))

    clusters_compute_all(k_range=(2, 2))  # spenders are swallowed by a much bigger cluster

    segment.refresh_from_db()
    assert not Cluster.objects.filter(segment=segment, run__is_current=True).exists()
    assert members(segment) == set()
    assert "no successor" in segment.description


def test_a_cluster_of_an_old_run_cannot_become_a_segment(population):
    clusters_compute_all(k_range=(4, 4))
    old = spenders_cluster(population)
    clusters_compute_all(k_range=(4, 4), seed=2)

    with pytest.raises(ClusterError, match="not current"):
        cluster_segment_create(cluster=old)

    assert not Segment.objects.exists()
