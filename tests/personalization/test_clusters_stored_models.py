"""A clustering run stored before personalization became packages still loads and predicts."""

from pathlib import Path

import numpy as np
import pytest

from personalization.clustering.model import clusters_fit
from personalization.clustering.models import ClusterRun
from personalization.clustering.runs import cluster_model
from personalization.clustering.synthetic import synthetic_frame

# Pickled with the code of 2026-12-06, before the move: FittedClusters fitted on
# synthetic_frame(400, seed=3) with k_range=(3, 5), seed=0.
STORED = Path(__file__).resolve().parents[1] / "data" / "fitted-clusters-2026-12.pickle"


@pytest.mark.django_db
def test_a_run_stored_before_the_move_predicts_as_a_fresh_fit_does():
    run = ClusterRun.objects.create(algorithm="kmeans", model=STORED.read_bytes())
    frame, _ = synthetic_frame(400, seed=3)
    fresh, _ = clusters_fit(frame, k_range=(3, 5), seed=0)

    stored = cluster_model(run.pk)

    assert stored.k == fresh.k == 4
    assert np.array_equal(stored.predict(frame), fresh.predict(frame))
