import pytest
from django.test import RequestFactory
from django.utils import timezone

from experiments.models import Experiment, Exposure
from personalization.decisions.engine import decide
from personalization.decisions.request import RequestState
from personalization.visitors.services import visitor_merge
from tests.experiments.conftest import visitor_in
from tests.factories import ContentItemFactory, SlotRuleFactory, VisitorFactory, grant
from tests.factories.experiments import ExperimentFactory


def titles(decision) -> list[str]:
    return [item.title for item in decision.items]


@pytest.mark.django_db
def test_a_visitor_in_the_treatment_sees_its_items_with_the_experiment_as_the_reason(hero_test):
    visitor = visitor_in(hero_test, "treatment")

    decision = decide("homepage-hero", visitor)

    assert titles(decision) == ["Spring sale"]
    assert (decision.reason, decision.experiment, decision.variation) == (
        "experiment", "hero-test", "treatment",
    )  # fmt: skip


@pytest.mark.django_db
def test_a_visitor_in_the_control_sees_the_usual_content_and_is_counted(hero_test):
    visitor = visitor_in(hero_test, "control")

    decision = decide("homepage-hero", visitor)

    assert titles(decision) == ["Everyday"]
    assert (decision.experiment, decision.variation) == ("hero-test", "control")
    control = hero_test.variations.get(key="control")
    assert decision.exposures == ((visitor.pk, hero_test.pk, control.pk),)


@pytest.mark.django_db
def test_the_same_visitor_gets_the_same_variation_every_time(hero_test):
    visitor = visitor_in(hero_test, "treatment")

    variations = {decide("homepage-hero", visitor).variation for _ in range(5)}

    assert variations == {"treatment"}


@pytest.mark.django_db
def test_deciding_writes_no_exposure(hero_test):
    visitor = visitor_in(hero_test, "treatment")

    decide("homepage-hero", visitor)

    assert not Exposure.objects.exists()


@pytest.mark.django_db
def test_a_visitor_without_personalization_consent_is_not_enrolled(hero_test):
    visitor = visitor_in(hero_test, "treatment", "analytics")

    decision = decide("homepage-hero", visitor)

    assert titles(decision) == ["Everyday"]
    assert (decision.reason, decision.experiment) == ("no_consent", "")


@pytest.mark.django_db
def test_a_paused_experiment_shows_everyone_the_usual_content(hero_test):
    visitor = visitor_in(hero_test, "treatment")
    hero_test.status = Experiment.Status.PAUSED
    hero_test.save()

    decision = decide("homepage-hero", visitor)

    assert titles(decision) == ["Everyday"]
    assert decision.experiment == ""


@pytest.mark.django_db
def test_an_experiment_past_its_end_stops_assigning(hero_test):
    visitor = visitor_in(hero_test, "treatment")
    hero_test.end_at = timezone.now() - timezone.timedelta(minutes=1)
    hero_test.save()

    assert decide("homepage-hero", visitor).experiment == ""


@pytest.mark.django_db
def test_the_targeting_condition_leaves_other_visitors_out(hero_test):
    visitor = visitor_in(hero_test, "treatment")
    hero_test.condition = {"device": "mobile"}
    hero_test.save()

    on_desktop = decide("homepage-hero", visitor, {"device": "desktop"})
    on_mobile = decide("homepage-hero", visitor, {"device": "mobile"})

    assert (on_desktop.experiment, titles(on_desktop)) == ("", ["Everyday"])
    assert on_mobile.variation == "treatment"


@pytest.mark.django_db
def test_a_rule_set_variation_tries_only_its_rules(hero_test):
    slot = hero_test.slot
    vip_rule = SlotRuleFactory(
        slot=slot, position=1, condition={}, items=[ContentItemFactory(title="VIP offer")]
    )
    SlotRuleFactory(slot=slot, position=0, condition={}, items=[ContentItemFactory(title="News")])
    treatment = hero_test.variations.get(key="treatment")
    treatment.items.clear()
    treatment.rules.set([vip_rule])
    treated, control = visitor_in(hero_test, "treatment"), visitor_in(hero_test, "control")

    assert titles(decide("homepage-hero", treated)) == ["VIP offer"]
    assert titles(decide("homepage-hero", control)) == ["News"]


@pytest.mark.django_db
def test_the_variation_seen_before_login_sticks_after_the_profile_merge(hero_test):
    anonymous = visitor_in(hero_test, "treatment")
    known = visitor_in(hero_test, "control")
    treatment = hero_test.variations.get(key="treatment")
    Exposure.objects.create(visitor=anonymous, experiment=hero_test, variation=treatment)

    visitor_merge(source=anonymous, target=known)

    assert decide("homepage-hero", known).variation == "treatment"
    assert Exposure.objects.get(visitor=known).variation == treatment


@pytest.mark.django_db
def test_the_known_profiles_own_variation_wins_a_merge(hero_test):
    anonymous = visitor_in(hero_test, "treatment")
    known = visitor_in(hero_test, "control")
    for visitor in (anonymous, known):
        Exposure.objects.create(
            visitor=visitor, experiment=hero_test,
            variation=hero_test.variations.get(key=decide("homepage-hero", visitor).variation),
        )  # fmt: skip

    visitor_merge(source=anonymous, target=known)

    assert list(Exposure.objects.values_list("visitor_id", "variation__key")) == [
        (known.pk, "control")
    ]


@pytest.mark.django_db
def test_a_holdout_visitor_gets_the_slots_default_even_where_a_rule_matches(hero_test):
    SlotRuleFactory(slot=hero_test.slot, condition={}, items=[ContentItemFactory(title="For you")])
    holdout = ExperimentFactory(key="holdout", is_holdout=True, status="running")
    holdout.variations.filter(key="control").update(weight=0.9)
    holdout.variations.filter(key="treatment").update(weight=0.1)
    held_out = visitor_in(holdout, "control")

    decision = decide("homepage-hero", held_out)

    assert (titles(decision), decision.reason) == (["Everyday"], "holdout")


@pytest.mark.django_db
def test_coverage_leaves_the_rest_of_the_traffic_out_of_the_experiment(hero_test):
    hero_test.coverage = 0.2
    hero_test.save()
    visitors = VisitorFactory.create_batch(200)
    for visitor in visitors:
        grant(visitor, "personalization")

    enrolled = sum(bool(decide("homepage-hero", v).experiment) for v in visitors)

    assert 20 <= enrolled <= 60


@pytest.mark.django_db
def test_a_visitor_in_the_holdouts_personalized_arm_gets_the_rule_and_is_counted(hero_test):
    hero_test.status = Experiment.Status.PAUSED
    hero_test.save()
    SlotRuleFactory(slot=hero_test.slot, condition={}, items=[ContentItemFactory(title="For you")])
    holdout = ExperimentFactory(key="holdout", is_holdout=True, status="running")
    personalized = visitor_in(holdout, "treatment")

    decision = decide("homepage-hero", personalized)

    assert (titles(decision), decision.reason) == (["For you"], "rule")
    treatment = holdout.variations.get(key="treatment")
    assert decision.exposures == ((personalized.pk, holdout.pk, treatment.pk),)


@pytest.mark.django_db
def test_experiments_in_separate_slices_of_a_namespace_never_share_a_visitor():
    first = ExperimentFactory(key="cta-color", namespace="cta", namespace_end=0.5,
                              status="running")  # fmt: skip
    second = ExperimentFactory(key="cta-text", namespace="cta", namespace_start=0.5,
                               status="running")  # fmt: skip
    enrolled = {first.key: 0, second.key: 0}
    for visitor in VisitorFactory.create_batch(120):
        grant(visitor, "personalization")
        request = RequestFactory().get("/")
        request.visitor = visitor
        request.tailor = RequestState(request, context={})
        request.tailor.variation(first.key)
        request.tailor.variation(second.key)
        experiments = {e for _, e, _ in request.tailor.exposures}
        assert len(experiments) <= 1
        for experiment in (first, second):
            enrolled[experiment.key] += experiment.pk in experiments

    assert enrolled[first.key] > 30 and enrolled[second.key] > 30
