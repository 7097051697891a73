"""A batch of buffered exposures keeps every visitor's rows when one visitor was erased."""

import pytest
from django.utils import timezone

from experiments.models import Exposure
from experiments.services import EXPOSURES
from tests.factories import VisitorFactory
from tests.factories.experiments import ExperimentFactory


@pytest.mark.django_db(transaction=True)
def test_exposures_of_an_erased_visitor_are_dropped_and_the_rest_of_the_batch_is_stored(settings):
    settings.TAILOR_WRITE_BUFFER_SIZE = 100
    settings.TAILOR_WRITE_BUFFER_SECONDS = 60
    experiment = ExperimentFactory(status="running")
    control = experiment.variations.get(is_control=True)
    first, erased, last = VisitorFactory(), VisitorFactory(), VisitorFactory()
    for visitor in (first, erased, last):
        EXPOSURES.add((visitor.pk, experiment.pk, control.pk, timezone.now()))
    erased.delete()

    EXPOSURES.flush()

    assert set(Exposure.objects.values_list("visitor_id", flat=True)) == {first.pk, last.pk}
