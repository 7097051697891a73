import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from content.models import SlotRule
from experiments.models import Experiment, Exposure
from experiments.services import ExperimentError, experiment_ship, experiment_start
from personalization.decisions.engine import decide
from tests.experiments.conftest import visitor_in
from tests.factories import (
    ContentItemFactory,
    EventFactory,
    SlotFactory,
    UserFactory,
    VisitorFactory,
)
from tests.factories.experiments import ExperimentFactory
from tests.factories.personalization import SegmentFactory


def member_of(group: str):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def form_data(slot, **overrides) -> dict:
    data = {
        "key": "hero-test", "name": "Hero test", "hypothesis": "A sale banner sells more.",
        "slot": slot.pk, "coverage": "1", "condition": "{}", "namespace": "",
        "namespace_start": "0", "namespace_end": "1", "seed": "", "hash_version": "2",
        "bandit_min_share": "0.1", "baseline_rate": "", "minimum_effect": "",
        "start_at_0": "", "start_at_1": "", "end_at_0": "", "end_at_1": "",
        "variations-TOTAL_FORMS": "2", "variations-INITIAL_FORMS": "0",
        "variations-MIN_NUM_FORMS": "2", "variations-MAX_NUM_FORMS": "1000",
        "variations-0-position": "0", "variations-0-key": "control",
        "variations-0-is_control": "on", "variations-0-weight": "0.5",
        "variations-1-position": "1", "variations-1-key": "sale", "variations-1-weight": "0.5",
        "metrics-TOTAL_FORMS": "1", "metrics-INITIAL_FORMS": "0",
        "metrics-MIN_NUM_FORMS": "1", "metrics-MAX_NUM_FORMS": "1000",
        "metrics-0-is_primary": "on", "metrics-0-kind": "conversion",
        "metrics-0-event_type": "purchase", "metrics-0-window_hours": "72",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture
def editor_client(client):
    client.force_login(member_of("Editor"))
    return client


@pytest.fixture
def slot():
    return SlotFactory(key="homepage-hero")


ADD_URL = "/admin/experiments/experiment/add/"


@pytest.mark.django_db
def test_an_editor_creates_an_experiment_with_variations_and_a_primary_metric(editor_client, slot):
    response = editor_client.post(ADD_URL, form_data(slot))

    assert response.status_code == 302, response.content.decode()[:2000]
    experiment = Experiment.objects.get(key="hero-test")
    assert [v.key for v in experiment.variations.order_by("position")] == ["control", "sale"]
    assert experiment.metrics.get().is_primary


@pytest.mark.django_db
def test_weights_that_do_not_add_up_to_one_are_refused_naming_the_weight(editor_client, slot):
    response = editor_client.post(ADD_URL, form_data(slot, **{"variations-1-weight": "0.3"}))

    assert response.status_code == 200
    assert "weight: The weights add up to 0.8; they must add up to 1." in response.content.decode()
    assert not Experiment.objects.exists()


@pytest.mark.django_db
def test_a_coverage_above_one_is_refused_on_the_coverage_field(editor_client, slot):
    response = editor_client.post(ADD_URL, form_data(slot, coverage="1.5"))

    assert "coverage" in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_an_empty_namespace_range_is_refused_on_its_end(editor_client, slot):
    response = editor_client.post(
        ADD_URL, form_data(slot, namespace="hero", namespace_start="0.5", namespace_end="0.2")
    )

    errors = response.context["adminform"].form.errors
    assert errors["namespace_end"] == ["The namespace range must end after it starts."]


@pytest.mark.django_db
def test_a_broken_targeting_condition_is_refused_naming_the_path(editor_client, slot):
    response = editor_client.post(ADD_URL, form_data(slot, condition='{"device": {"$regex": "("}}'))

    errors = response.context["adminform"].form.errors["condition"]
    assert any("device" in error for error in errors), errors


@pytest.mark.django_db
def test_two_controls_are_refused(editor_client, slot):
    response = editor_client.post(ADD_URL, form_data(slot, **{"variations-1-is_control": "on"}))

    assert "Exactly one variation must be the control (2 are)." in response.content.decode()


@pytest.mark.django_db
def test_a_draft_shows_the_visitors_it_needs_before_it_starts(editor_client):
    experiment = ExperimentFactory(baseline_rate=0.1, minimum_effect=0.1)

    response = editor_client.get(f"/admin/experiments/experiment/{experiment.pk}/change/")

    assert "visitors per variation" in response.content.decode()
    assert "14,7" in response.content.decode()  # 14,7xx for 10 % → 11 %


@pytest.mark.django_db
def test_an_experiment_without_a_primary_metric_cannot_start():
    experiment = ExperimentFactory(metric=False)

    with pytest.raises(ExperimentError, match="primary metric"):
        experiment_start(experiment=experiment)


@pytest.mark.django_db
def test_an_experiment_cannot_start_over_a_running_one_in_the_same_namespace_slice():
    ExperimentFactory(namespace="hero", namespace_end=0.6, status="running")
    second = ExperimentFactory(namespace="hero", namespace_start=0.5)

    with pytest.raises(ExperimentError, match="overlaps"):
        experiment_start(experiment=second)
    second.namespace_start = 0.6
    second.save()
    assert experiment_start(experiment=second).status == "running"


@pytest.mark.django_db
def test_the_start_action_starts_a_draft(editor_client):
    experiment = ExperimentFactory()

    editor_client.post(
        "/admin/experiments/experiment/",
        {"action": "start", "_selected_action": [experiment.pk]},
    )

    experiment.refresh_from_db()
    assert experiment.status == "running" and experiment.start_at is not None


@pytest.fixture
def running_with_results(slot):
    experiment = ExperimentFactory(
        key="hero-test", slot=slot, status="running",
        start_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip
    sale = ContentItemFactory(title="Spring sale")
    experiment.variations.get(key="treatment").items.set([sale])
    for variation in experiment.variations.all():
        for _ in range(5):
            Exposure.objects.create(
                visitor=VisitorFactory(), experiment=experiment, variation=variation,
                exposed_at=timezone.now() - timedelta(days=1),
            )  # fmt: skip
    return experiment


@pytest.mark.django_db
def test_an_analyst_reads_the_results_table_and_chart(client, running_with_results):
    client.force_login(member_of("Analyst"))

    response = client.get(f"/admin/experiments/experiment/{running_with_results.pk}/results/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="primary-results"' in html
    assert '<img src="data:image/svg+xml;base64,' in html  # an image: no inline styles (CSP)
    assert "Stop and ship" not in html


@pytest.mark.django_db
def test_a_revenue_experiments_results_page_draws_revenue_over_time(client, slot):
    experiment = ExperimentFactory(
        key="price-test", slot=slot, status="running", start_at=timezone.now() - timedelta(days=2),
        metric__kind="revenue", metric__event_type="purchase",
    )  # fmt: skip
    exposure = Exposure.objects.create(
        visitor=VisitorFactory(), experiment=experiment,
        variation=experiment.variations.get(key="control"),
        exposed_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    EventFactory(
        visitor=exposure.visitor, type="purchase", value=Decimal("12.50"),
        occurred_at=exposure.exposed_at + timedelta(hours=1),
    )  # fmt: skip
    client.force_login(member_of("Analyst"))

    html = client.get(f"/admin/experiments/experiment/{experiment.pk}/results/").content.decode()

    chart = html.split('id="results-chart">', 1)[1].split("</div>", 1)[0]
    svg = base64.b64decode(chart.split("base64,", 1)[1].split('"', 1)[0]).decode()
    assert "cumulative revenue per visitor" in svg


@pytest.mark.django_db
def test_an_analyst_cannot_ship_a_variation(client, running_with_results):
    client.force_login(member_of("Analyst"))
    treatment = running_with_results.variations.get(key="treatment")

    response = client.post(
        f"/admin/experiments/experiment/{running_with_results.pk}/ship/",
        {"variation": treatment.pk},
    )

    assert response.status_code == 403
    assert Experiment.objects.get().status == "running"


@pytest.mark.django_db
def test_shipping_the_winner_stops_the_test_and_makes_its_items_the_slots_content(
    editor_client, running_with_results
):
    treatment = running_with_results.variations.get(key="treatment")

    editor_client.post(
        f"/admin/experiments/experiment/{running_with_results.pk}/ship/",
        {"variation": treatment.pk},
    )

    experiment = Experiment.objects.get()
    assert (experiment.status, experiment.winner) == ("stopped", treatment)
    assert [i.title for i in experiment.slot.default_items.all()] == ["Spring sale"]


@pytest.mark.django_db
def test_shipping_a_rule_set_leaves_only_its_rules_active(running_with_results, slot):
    keep = SlotRule.objects.create(slot=slot, name="VIPs", condition={})
    drop = SlotRule.objects.create(slot=slot, name="Everyone else", condition={})
    treatment = running_with_results.variations.get(key="treatment")
    treatment.items.clear()
    treatment.rules.set([keep])

    experiment_ship(experiment=running_with_results, variation=treatment)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert keep.is_active and not drop.is_active


@pytest.mark.django_db
def test_after_shipping_every_visitor_sees_the_winning_items(running_with_results):
    control_visitor = visitor_in(running_with_results, "control")
    treatment = running_with_results.variations.get(key="treatment")

    experiment_ship(experiment=running_with_results, variation=treatment)

    decision = decide("homepage-hero", control_visitor)
    assert ([i.title for i in decision.items], decision.experiment) == (["Spring sale"], "")


@pytest.mark.django_db
def test_the_add_page_offers_two_variations_and_a_metric(editor_client):
    response = editor_client.get(ADD_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="variations-1-weight"' in html and 'name="metrics-0-is_primary"' in html


@pytest.mark.django_db
def test_a_targeting_condition_naming_an_unknown_segment_is_refused(editor_client, slot):
    SegmentFactory(key="runners")
    condition = '{"$not": {"$inSegment": "runnerz"}}'

    response = editor_client.post(ADD_URL, form_data(slot, condition=condition))

    assert response.context["adminform"].form.errors["condition"] == [
        '$not: $inSegment "runnerz": no segment has this key; did you mean "runners"?'
    ]
    assert not Experiment.objects.exists()
