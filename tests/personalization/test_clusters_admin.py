"""The clustering admin: runs with metrics, clusters and a projection; naming and segments."""

import re

import pytest

from personalization.clustering.admin import PALETTE, projection_svg
from personalization.clustering.models import Cluster, ClusterRun
from personalization.clustering.selectors import clusters_cache_clear
from personalization.clustering.services import clusters_compute_all
from personalization.segments.models import Segment
from personalization.segments.selectors import segments_cache_clear
from tests.factories import UserFactory
from tests.factories.clusters import population_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_caches():
    clusters_cache_clear()
    segments_cache_clear()
    yield
    clusters_cache_clear()
    segments_cache_clear()


@pytest.fixture
def editor(client):
    client.force_login(UserFactory(superuser=True))
    return client


@pytest.fixture
def run():
    population_create(160, seed=31)
    summary = clusters_compute_all(k_range=(3, 5))
    return ClusterRun.objects.get(pk=summary["run"])


def test_the_run_page_shows_metrics_per_k_clusters_and_a_projection_coloured_by_cluster(
    editor, run
):
    page = editor.get(f"/admin/personalization/clusterrun/{run.pk}/change/").content.decode()

    assert page.count('<tr class="tailor-k') == 3  # k = 3, 4, 5
    assert '<tr class="tailor-k tailor-chosen"><td>4</td>' in page
    assert "high spend" in page
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="tailor-cluster-') :]
    svg = svg[: svg.index("</svg>")]
    colours = set(re.findall(r'<circle [^>]*fill="(#[0-9A-F]{6})"', svg))
    assert colours == set(PALETTE[:4])
    assert "100%" in editor.get("/admin/personalization/clusterrun/").content.decode()


def test_naming_a_cluster_in_the_admin_changes_its_key_in_the_clusters_attribute(editor, run):
    cluster = run.clusters.order_by("-size").first()

    response = editor.post(
        f"/admin/personalization/cluster/{cluster.pk}/change/", {"name": "Weekend runners"}
    )

    assert response.status_code == 302
    cluster.refresh_from_db()
    assert (cluster.name, cluster.name_key) == ("Weekend runners", "weekend-runners")


def test_turn_into_segment_creates_a_cluster_segment_with_the_clusters_visitors(editor, run):
    cluster = run.clusters.order_by("-size").first()
    Cluster.objects.filter(pk=cluster.pk).update(name="Loyal fans")

    editor.post(
        "/admin/personalization/cluster/",
        {"action": "turn_into_segment", "_selected_action": [cluster.pk]},
    )

    segment = Segment.objects.get(key="loyal-fans")
    assert segment.kind == "cluster"
    assert segment.memberships.count() == cluster.size


def test_turn_into_segment_names_the_taken_key_instead_of_failing(editor, run):
    Segment.objects.create(key="loyal-fans", name="Loyal fans", condition={"f_score": 5})
    cluster = run.clusters.first()
    Cluster.objects.filter(pk=cluster.pk).update(name="Loyal fans")

    response = editor.post(
        "/admin/personalization/cluster/",
        {"action": "turn_into_segment", "_selected_action": [cluster.pk]},
        follow=True,
    )

    assert "already has the key &#x27;loyal-fans&#x27;" in response.content.decode()
    assert Segment.objects.get(key="loyal-fans").kind == "rule"


def test_the_current_run_cannot_be_deleted_from_the_admin(editor, run):
    response = editor.get(f"/admin/personalization/clusterrun/{run.pk}/delete/")

    assert response.status_code == 403


def test_a_run_without_projection_says_so():
    assert projection_svg([], []) == "No projection: the run has not been fitted."


def test_a_run_being_assigned_shows_its_progress_in_the_list_and_on_its_page(editor):
    running = ClusterRun.objects.create(
        algorithm="minibatch", status="assigning", chunks_total=8, chunks_done=2
    )

    listing = editor.get("/admin/personalization/clusterrun/").content.decode()
    page = editor.get(f"/admin/personalization/clusterrun/{running.pk}/change/").content.decode()

    assert "25%" in listing and "Assigning visitors" in listing
    assert 'max="8" value="2"' in page and "2 of 8 chunks (25%) of visitors assigned" in page


def test_the_visitor_page_names_the_visitors_cluster(editor, run):
    membership = run.memberships.select_related("cluster", "visitor").first()
    Cluster.objects.filter(pk=membership.cluster_id).update(name="Night owls")
    clusters_cache_clear()

    page = editor.get(
        f"/admin/personalization/visitor/{membership.visitor_id}/change/"
    ).content.decode()

    assert f"cluster-{membership.cluster.number}, night-owls" in page
