"""compute_clusters on stored visitors: runs, clusters, memberships, consent, the attribute."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.clustering.models import Cluster, ClusterMembership, ClusterRun
from personalization.clustering.selectors import clusters_cache_clear
from personalization.clustering.services import cluster_rename, clusters_compute_all
from personalization.decisions.attributes import visitor_attributes
from personalization.rules import evaluate_condition
from tests.factories.clusters import population_create
from tests.factories.personalization import grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    clusters_cache_clear()
    yield
    clusters_cache_clear()


@pytest.fixture
def population():
    return population_create(240, seed=5)


def cluster_of(visitor_id: int) -> Cluster:
    return (
        ClusterMembership.objects.select_related("cluster")
        .get(visitor_id=visitor_id, run__is_current=True)
        .cluster
    )


def test_compute_clusters_stores_the_run_its_metrics_and_one_cluster_per_group(population):
    out = StringIO()

    call_command("compute_clusters", "--k-range", "2-6", "--chunk-size", "50", stdout=out)

    run = ClusterRun.objects.get()
    assert (run.status, run.is_current, run.k, run.visitors) == ("done", True, 4, 240)
    assert [m["k"] for m in run.metrics] == [2, 3, 4, 5, 6]
    assert run.chunks_done == run.chunks_total == 5
    assert run.duration_seconds is not None and run.finished_at is not None
    assert sum(run.clusters.values_list("size", flat=True)) == 240
    assert "run 1: 4 clusters (kmeans) for 240 visitors" in out.getvalue().replace(
        f"run {run.pk}", "run 1"
    )


def test_visitors_of_the_same_synthetic_group_share_a_cluster(population):
    clusters_compute_all(k_range=(2, 6), chunk_size=100)

    for group in ("regulars", "big spenders", "newcomers", "lapsing"):
        ids = population.of(group)
        clusters = set(
            ClusterMembership.objects.filter(visitor_id__in=ids).values_list("cluster", flat=True)
        )
        assert len(clusters) == 1, group


def test_descriptions_of_stored_clusters_read_in_plain_words(population):
    clusters_compute_all(k_range=(2, 6))

    spenders = cluster_of(population.of("big spenders")[0])
    assert "high spend" in spenders.description
    assert spenders.centroid["monetary_90d"] > 500


def test_visitors_without_personalization_consent_are_left_out_and_get_no_cluster(population):
    refusing = population_create(30, seed=6, consent=False, prefix="refusing")
    grant(refusing.visitors[0], "personalization", granted=False)

    summary = clusters_compute_all(k_range=(2, 6))

    assert summary["left_out"] == 30
    assert not ClusterMembership.objects.filter(
        visitor_id__in=[v.pk for v in refusing.visitors]
    ).exists()
    assert visitor_attributes(refusing.visitors[1])["clusters"] == []


def test_the_clusters_attribute_lists_the_cluster_and_the_slug_of_its_name(population):
    clusters_compute_all(k_range=(2, 6))
    runner = next(v for v in population.visitors if population.groups[v.pk] == "regulars")
    cluster = cluster_of(runner.pk)

    cluster_rename(cluster=cluster, name="Weekend runners")

    attributes = visitor_attributes(runner)
    assert attributes["clusters"] == [f"cluster-{cluster.number}", "weekend-runners"]
    condition = {"clusters": {"$in": ["weekend-runners"]}}
    assert evaluate_condition(condition, attributes)
    other = next(v for v in population.visitors if population.groups[v.pk] == "newcomers")
    assert not evaluate_condition(condition, visitor_attributes(other))


def test_withdrawing_personalization_consent_removes_the_cluster_from_decisions(population):
    clusters_compute_all(k_range=(2, 6))
    visitor = population.visitors[0]

    grant(visitor, "personalization", granted=False)

    assert visitor_attributes(visitor)["clusters"] == []


def test_only_the_current_runs_memberships_are_kept(population):
    first = clusters_compute_all(k_range=(4, 4))
    second = clusters_compute_all(k_range=(4, 4), seed=1)

    assert ClusterRun.objects.get(is_current=True).pk == second["run"]
    assert not ClusterMembership.objects.filter(run_id=first["run"]).exists()
    assert ClusterMembership.objects.filter(run_id=second["run"]).count() == 240
    assert Cluster.objects.filter(run_id=first["run"]).count() == 4  # history stays


def test_a_bad_k_range_on_the_command_line_changes_nothing(population):
    with pytest.raises(CommandError, match="LOW <= HIGH"):
        call_command("compute_clusters", "--k-range", "6-2")

    assert not ClusterRun.objects.exists()


def test_too_few_visitors_fails_the_run_with_the_reason():
    population_create(5, seed=7)

    with pytest.raises(CommandError, match="5 visitors with personalization consent"):
        call_command("compute_clusters", "--k-range", "2-8")

    run = ClusterRun.objects.get()
    assert run.status == "failed" and "needs more than 8" in run.error
    assert not run.is_current


def test_async_without_a_worker_runs_the_task_in_process_and_prints_the_summary(population):
    out = StringIO()

    call_command("compute_clusters", "--async", "--algorithm", "gmm", "--k", "4", stdout=out)

    run = ClusterRun.objects.get()
    assert (run.algorithm, run.k, run.is_current) == ("gmm", 4, True)
    assert [m["k"] for m in run.metrics] == [4] and run.metrics[0]["bic"] is not None
    assert "4 clusters (gmm) for 240 visitors" in out.getvalue()


def test_show_visitor_names_the_visitors_cluster(population):
    clusters_compute_all(k_range=(4, 4))
    visitor = population.visitors[0]
    cluster = cluster_rename(cluster=cluster_of(visitor.pk), name="Night owls")
    out = StringIO()

    call_command("show_visitor", visitor.external_id, stdout=out)

    assert f"clusters  cluster-{cluster.number}, night-owls" in out.getvalue()


def test_the_profile_api_lists_the_visitors_cluster_keys(population):
    clusters_compute_all(k_range=(4, 4))
    visitor = population.visitors[0]
    cluster = cluster_rename(cluster=cluster_of(visitor.pk), name="Night owls")
    _, secret = api_key_create(name="crm", scopes=["profiles:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    body = client.get(f"/api/v1/profiles/{visitor.external_id}").json()

    assert body["clusters"] == [f"cluster-{cluster.number}", "night-owls"]
