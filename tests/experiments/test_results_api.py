from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from experiments.models import Exposure
from tests.experiments.conftest import visitor_in
from tests.factories import EventFactory, VisitorFactory, grant
from tests.factories.experiments import ExperimentFactory
from tests.personalization.test_api_schema import assert_matches, client_with, document  # noqa: F401

RESULTS = "/api/v1/experiments/{key}/results"


@pytest.fixture
def experiment():
    experiment = ExperimentFactory(
        key="hero-test", status="running", start_at=timezone.now() - timedelta(days=2)
    )
    for variation, converting in zip(experiment.variations.order_by("position"), (2, 6),
                                     strict=True):  # fmt: skip
        for n in range(20):
            exposure = Exposure.objects.create(
                visitor=VisitorFactory(), experiment=experiment, variation=variation,
                exposed_at=timezone.now() - timedelta(days=1),
            )  # fmt: skip
            if n < converting:
                EventFactory(visitor=exposure.visitor, type="purchase",
                             occurred_at=exposure.exposed_at + timedelta(hours=1))  # fmt: skip
    return experiment


@pytest.mark.django_db
def test_the_results_api_answers_per_variation_figures_as_documented(document, experiment):  # noqa: F811
    response = client_with("profiles:read").get("/api/v1/experiments/hero-test/results")

    body = response.json()
    assert response.status_code == 200
    primary = body["metrics"][0]
    assert primary["primary"] and primary["kind"] == "conversion"
    assert [(v["key"], v["visitors"], v["conversions"]) for v in primary["variations"]] == [
        ("control", 20, 2), ("treatment", 20, 6),
    ]  # fmt: skip
    assert_matches(document, RESULTS, "get", response)


@pytest.mark.django_db
def test_an_unknown_experiment_is_a_json_404_as_documented(document):  # noqa: F811
    response = client_with("profiles:read").get("/api/v1/experiments/nope/results")

    assert response.status_code == 404
    assert "nope" in response.json()["message"]
    assert_matches(document, RESULTS, "get", response)


@pytest.mark.django_db
def test_a_key_without_the_scope_is_refused(document, experiment):  # noqa: F811
    response = client_with("events:write").get("/api/v1/experiments/hero-test/results")

    assert response.status_code == 403
    assert_matches(document, RESULTS, "get", response)
    assert APIClient().get("/api/v1/experiments/hero-test/results").status_code == 401


@pytest.mark.django_db
def test_the_decide_api_records_the_exposure_of_the_variation_it_answers(hero_test):
    visitor = visitor_in(hero_test, "treatment")
    visitor.external_id = "crm-7"
    visitor.save()

    response = client_with("decide:read").get(
        "/api/v1/slots/homepage-hero/decide", {"visitor": "crm-7"}
    )

    assert response.json()["reason"] == "experiment"
    assert Exposure.objects.get().variation.key == "treatment"


@pytest.mark.django_db
def test_email_blocks_record_each_recipients_exposure_once(hero_test):
    treated, control = visitor_in(hero_test, "treatment"), visitor_in(hero_test, "control")
    for visitor in (treated, control):
        grant(visitor, "marketing")
    body = {"slots": ["homepage-hero"], "recipients": [treated.external_id, control.external_id]}

    for _ in range(2):
        response = client_with("blocks:read").post("/api/v1/blocks/batch", body, format="json")
        assert response.status_code == 200

    assert set(Exposure.objects.values_list("visitor_id", "variation__key")) == {
        (treated.pk, "treatment"), (control.pk, "control"),
    }  # fmt: skip
