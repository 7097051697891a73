from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from experiments.models import Experiment, Exposure
from personalization.visitors.models import Visitor
from tests.factories import visitor_cookie

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"


@pytest.fixture
def demo():
    call_command("seed_demo", "--visitors", "8", stdout=StringIO())


@pytest.mark.django_db
def test_seed_demo_runs_an_experiment_with_exposures_of_consenting_demo_visitors(demo):
    experiment = Experiment.objects.get(key="home-rail-title")

    exposed = set(
        Exposure.objects.filter(experiment=experiment).values_list(
            "visitor__external_id", flat=True
        )
    )
    assert experiment.status == Experiment.Status.RUNNING
    assert exposed == {f"demo-{n}" for n in range(1, 9)} - {"demo-6"}


@pytest.mark.django_db
def test_the_home_rail_title_follows_the_visitors_variation(client, demo):
    # Which variation a demo visitor gets hangs on their random cookie id: each visitor's page
    # is checked against their own, whichever variations this seed happened to give.
    title = {"recommended": "Recommended for you", "picked": "Picked for you"}
    shown = {}
    exposures = Exposure.objects.filter(experiment__key="home-rail-title")
    for exposure in exposures.select_related("visitor", "variation"):
        client.cookies[settings.TAILOR_VISITOR_COOKIE] = visitor_cookie(exposure.visitor)
        html = client.get("/", HTTP_USER_AGENT=BROWSER).content.decode()
        rail = html.split('class="rail rail--recommended"')[1][:200]
        shown[exposure.visitor.external_id] = title[exposure.variation.key] in rail

    assert len(shown) == 7
    assert all(shown.values()), shown


@pytest.mark.django_db
def test_seed_demo_run_again_leaves_the_experiment_as_it_is(demo):
    Experiment.objects.filter(key="home-rail-title").update(name="Renamed by an editor")

    call_command("seed_demo", "--visitors", "8", stdout=StringIO())

    assert Experiment.objects.get(key="home-rail-title").name == "Renamed by an editor"
    assert Visitor.objects.filter(external_id__startswith="demo-").count() == 8
