"""The model runs admin: metrics side by side, progress, and forcing a run to be served."""

import pytest
from django.urls import reverse

from personalization.recommendations.models import ModelRun
from tests.factories.users import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", superuser=True))
    return client


def test_a_run_page_shows_each_algorithms_metrics_and_its_progress(admin_client):
    run = ModelRun.objects.create(
        status=ModelRun.Status.SCORING, visitors_count=10, visitors_done=5, chunks_total=2,
        chunks_done=1, metrics={"ease": {"ndcg": 0.71}, "popularity": {"ndcg": 0.15}},
    )  # fmt: skip

    page = admin_client.get(reverse("admin:personalization_modelrun_change", args=[run.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "0.710" in html and "0.150" in html and "1 of 2 chunks (50%)" in html


def test_the_make_current_action_serves_a_worse_run_and_marks_it_forced(admin_client):
    current = ModelRun.objects.create(status="finished", score=0.9, is_current=True)
    worse = ModelRun.objects.create(status="finished", score=0.1)

    admin_client.post(
        reverse("admin:personalization_modelrun_changelist"),
        {"action": "make_current", "_selected_action": [worse.pk]},
    )

    worse.refresh_from_db()
    current.refresh_from_db()
    assert worse.is_current and worse.forced and not current.is_current


def test_the_visitor_page_lists_the_current_runs_recommendations(admin_client):
    from tests.factories.content import ContentItemFactory
    from tests.factories.personalization import VisitorFactory

    visitor = VisitorFactory()
    run = ModelRun.objects.create(status="finished", is_current=True)
    item = ContentItemFactory(title="Trail shoes")
    visitor.recommendations.create(run=run, item=item, rank=1, score=0.8, algorithm="hybrid")

    page = admin_client.get(reverse("admin:personalization_visitor_change", args=[visitor.pk]))

    html = page.content.decode()
    assert "recommendations of the current model run" in html.lower() and "Trail shoes" in html


def test_the_runs_list_compares_runs_by_each_algorithms_ndcg(admin_client):
    ModelRun.objects.create(status="finished", metrics={"ease": {"ndcg": 0.88}})
    ModelRun.objects.create(
        kind="evaluation", status="finished", metrics={"hybrid": {"ndcg": 0.91}}
    )

    page = admin_client.get(reverse("admin:personalization_modelrun_changelist"))

    html = page.content.decode()
    assert "EASE 0.880" in html and "Hybrid 0.910" in html
