"""compute_recommendations stores lists per visitor, respects consent and the current run."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from content.models import ContentItem
from personalization.recommendations.models import ModelRun, Recommendation, SimilarItem
from personalization.recommendations.services import (
    model_run_make_current,
    recommendation_run_finish,
)
from tests.factories.content import ContentItemFactory, TagFactory
from tests.factories.personalization import EventFactory, VisitorFactory, grant

pytestmark = pytest.mark.django_db


def shop(visitors: int = 12, *, consent: bool = True):
    """Two subjects of five items each; each visitor browsed four items of one subject.

    Odd visitors like running, even ones audio; visitor n skips item (n // 2) % 5 of theirs.
    """
    now = timezone.now()
    items = {}
    for subject in ("running", "audio"):
        tag = TagFactory(slug=subject, name=subject)
        items[subject] = [
            ContentItemFactory(title=f"{subject} item {n}", tags=[tag]) for n in range(5)
        ]
    people = []
    for n in range(visitors):
        visitor = VisitorFactory()
        grant(visitor, "analytics", *(("personalization",) if consent else ()))
        subject = "running" if n % 2 else "audio"
        skipped = (n // 2) % 5
        browsed = [item for m, item in enumerate(items[subject]) if m != skipped]
        for m, item in enumerate(browsed):
            EventFactory(visitor=visitor, item=item, occurred_at=now - timedelta(hours=m + 1))
        people.append(visitor)
    return items, people


def test_every_visitor_with_history_gets_a_list_of_items_they_never_touched():
    _, people = shop()

    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())

    run = ModelRun.objects.get(kind=ModelRun.Kind.COMPUTE)
    assert run.is_current and run.status == ModelRun.Status.FINISHED
    for visitor in people:
        listed = set(
            Recommendation.objects.filter(visitor=visitor).values_list("item_id", flat=True)
        )
        touched = set(visitor.events.values_list("item_id", flat=True))
        assert listed and not listed & touched
    assert SimilarItem.objects.filter(run=run).exists()


def test_the_visitors_own_subject_comes_first():
    items, people = shop()
    runner = people[1]  # browsed running items 1-4

    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())

    first = Recommendation.objects.filter(visitor=runner).order_by("rank").first()
    assert first.item == items["running"][0]


def test_visitors_without_personalization_consent_get_no_recommendations():
    shop(consent=False)

    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())

    assert not Recommendation.objects.exists()
    assert ModelRun.objects.get().visitors_count == 0


def test_unpublished_items_are_never_stored():
    items, _ = shop()
    hidden = items["running"][0]
    ContentItem.objects.filter(pk=hidden.pk).update(status=ContentItem.Status.DRAFT)

    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())

    assert not Recommendation.objects.filter(item=hidden).exists()


def finished_run(score: float | None, *, current: bool = False) -> ModelRun:
    return ModelRun.objects.create(
        status=ModelRun.Status.FINISHED, score=score, is_current=current,
        finished_at=timezone.now(),
    )  # fmt: skip


def test_a_run_that_scores_worse_does_not_replace_the_current_one():
    current = finished_run(0.9, current=True)
    worse = finished_run(0.5)

    recommendation_run_finish(run_id=worse.pk)

    current.refresh_from_db()
    worse.refresh_from_db()
    assert current.is_current and not worse.is_current


def test_a_forced_run_replaces_the_current_one_even_when_worse():
    current = finished_run(0.9, current=True)
    worse = finished_run(0.5)

    recommendation_run_finish(run_id=worse.pk, force=True)

    current.refresh_from_db()
    worse.refresh_from_db()
    assert worse.is_current and worse.forced and not current.is_current


def test_evaluate_recommendations_prints_every_algorithm_and_stores_the_figures():
    shop(visitors=30)
    out = StringIO()

    call_command("evaluate_recommendations", "--k", "3", "--force", stdout=out)

    text = out.getvalue()
    for name in ("popularity", "trending", "content", "item_knn", "ease", "als", "hybrid"):
        assert f"\n{name} " in text
    run = ModelRun.objects.get(kind=ModelRun.Kind.EVALUATION)
    assert set(run.metrics["ease"]) >= {"precision", "recall", "ndcg", "map", "hit_rate"}
    assert not run.is_current


def test_an_evaluation_run_starts_before_it_finishes():
    shop(visitors=30)

    call_command("evaluate_recommendations", "--k", "3", "--force", stdout=StringIO())

    run = ModelRun.objects.get(kind=ModelRun.Kind.EVALUATION)
    assert run.started_at < run.finished_at


def test_evaluate_recommendations_refuses_too_little_data_without_force():
    shop(visitors=6)

    with pytest.raises(Exception, match="visitors have items to hold out"):
        call_command("evaluate_recommendations", stdout=StringIO())


def test_the_recommendations_api_serves_the_current_runs_list_as_hybrid():
    from personalization.recommendations.related import recommendations_for

    _, people = shop()
    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())
    runner = people[1]
    stored = list(
        Recommendation.objects.filter(visitor=runner)
        .order_by("rank")
        .values_list("item_id", flat=True)
    )

    scored, note = recommendations_for(visitor=runner, k=2)

    assert [s.item.pk for s in scored] == stored[:2]
    assert {s.algorithm for s in scored} == {"hybrid"} and note == ""


def test_a_run_whose_chunk_failed_is_marked_failed_and_never_served():
    from personalization.recommendations.tasks import fail_recommendations

    run = ModelRun.objects.create(status=ModelRun.Status.SCORING)

    fail_recommendations.delay(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == ModelRun.Status.FAILED and "chunk" in run.error
    with pytest.raises(ValueError, match="no finished lists"):
        model_run_make_current(run=run)
