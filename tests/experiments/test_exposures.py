import pytest
from django.template import Context, Template
from django.test import RequestFactory

from experiments.models import Exposure
from personalization.decisions.request import RequestState
from tests.experiments.conftest import visitor_in
from tests.factories import UserFactory
from tests.factories.experiments import ExperimentFactory
from tests.personalization.test_page_views import BROWSER, with_visitor_cookie


def page(client, visitor, query: str = ""):
    return with_visitor_cookie(client, visitor).get(f"/{query}", HTTP_USER_AGENT=BROWSER)


@pytest.mark.django_db
def test_rendering_the_slot_records_one_exposure_of_the_variation_shown(client, hero_test):
    visitor = visitor_in(hero_test, "treatment")

    response = page(client, visitor)

    assert "Spring sale" in response.content.decode()
    assert list(Exposure.objects.values_list("visitor_id", "variation__key")) == [
        (visitor.pk, "treatment")
    ]


@pytest.mark.django_db
def test_a_returning_visitor_is_exposed_once_and_keeps_the_first_exposure_time(client, hero_test):
    visitor = visitor_in(hero_test, "control")
    page(client, visitor)
    first = Exposure.objects.get().exposed_at

    page(client, visitor)
    page(client, visitor)

    assert Exposure.objects.get().exposed_at == first


@pytest.mark.django_db
def test_a_visitor_without_personalization_consent_leaves_no_exposure(client, hero_test):
    visitor = visitor_in(hero_test, "treatment", "analytics")

    response = page(client, visitor)

    assert "Everyday" in response.content.decode()
    assert not Exposure.objects.exists()


@pytest.mark.django_db
def test_staff_see_the_variation_named_in_the_query_string_without_being_counted(client, hero_test):
    visitor = visitor_in(hero_test, "control")
    client.force_login(UserFactory(staff=True))

    response = page(client, visitor, "?hero-test=1")

    assert "Spring sale" in response.content.decode()
    assert not Exposure.objects.exists()


@pytest.mark.django_db
def test_the_query_string_does_not_force_a_variation_for_visitors(client, hero_test):
    visitor = visitor_in(hero_test, "control")

    response = page(client, visitor, "?hero-test=1")

    assert "Spring sale" not in response.content.decode()
    assert Exposure.objects.get().variation.key == "control"


@pytest.mark.django_db
def test_staff_can_check_a_draft_experiments_variation_before_it_starts(client, hero_test):
    hero_test.status = "draft"
    hero_test.save()
    client.force_login(UserFactory(staff=True))

    response = client.get("/?hero-test=1", HTTP_USER_AGENT=BROWSER)

    assert "Spring sale" in response.content.decode()


def render_tag(request, key: str = "cta-test") -> str:
    template = Template(
        '{% load tailor %}{% experiment "' + key + '" as variation %}[{{ variation }}]'
    )
    return template.render(Context({"request": request}))


def tag_request(visitor):
    request = RequestFactory().get("/")
    request.visitor = visitor
    request.tailor = RequestState(request, context={})
    return request


@pytest.mark.django_db
def test_the_experiment_tag_gives_the_visitors_variation_and_records_it_when_rendered():
    experiment = ExperimentFactory(key="cta-test", status="running")
    visitor = visitor_in(experiment, "treatment")
    request = tag_request(visitor)

    html = render_tag(request)

    assert html == "[treatment]"
    assert request.tailor.exposures == {
        (visitor.pk, experiment.pk, experiment.variations.get(key="treatment").pk)
    }


@pytest.mark.django_db
def test_the_experiment_tag_gives_the_control_to_a_visitor_without_consent():
    experiment = ExperimentFactory(key="cta-test", status="running")
    visitor = visitor_in(experiment, "treatment", "analytics")

    assert render_tag(tag_request(visitor)) == "[control]"


@pytest.mark.django_db
def test_the_experiment_tag_gives_nothing_for_an_unknown_experiment_and_the_page_renders():
    assert render_tag(tag_request(None), key="no-such-test") == "[None]"


@pytest.mark.django_db
def test_the_experiment_tag_falls_back_to_the_control_when_assignment_fails(monkeypatch):
    experiment = ExperimentFactory(key="cta-test", status="running")
    visitor = visitor_in(experiment, "treatment")

    def broken(**kwargs):
        raise RuntimeError("cache down")

    monkeypatch.setattr("experiments.override.variation_assign", broken)

    assert render_tag(tag_request(visitor)) == "[control]"


@pytest.mark.django_db
def test_staff_force_a_template_experiments_variation_with_the_query_string():
    ExperimentFactory(key="cta-test", status="running")
    request = RequestFactory().get("/", {"cta-test": "1"})
    request.visitor = None
    request.tailor = RequestState(request, context={})
    request.user = UserFactory(staff=True)

    assert render_tag(request) == "[treatment]"
    assert not request.tailor.exposures


@pytest.mark.django_db
def test_a_variation_number_out_of_range_forces_nothing(client, hero_test):
    client.force_login(UserFactory(staff=True))

    response = client.get("/?hero-test=7", HTTP_USER_AGENT=BROWSER)

    assert "Spring sale" not in response.content.decode()
