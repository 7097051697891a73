"""Scores are trained point in time: features from before the cut-off, labels from after it."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from personalization.scores.frame import TARGETS_BY_KEY, features_at, labels_at, to_days
from personalization.scores.services import score_frame_load
from personalization.scores.synthetic import synthetic_generate
from personalization.scores.training import LIFECYCLE, LOGISTIC, MODEL, scores_train
from tests.factories.personalization import EventFactory, VisitorFactory


@pytest.mark.django_db
def test_an_event_after_the_cut_off_changes_no_feature_of_any_visitor():
    cutoff = timezone.now() - timedelta(days=30)
    buyer, browser = VisitorFactory(), VisitorFactory()
    for days, visitor, kind in (
        (40, buyer, "purchase"),
        (35, buyer, "view"),
        (50, browser, "view"),
    ):
        EventFactory(
            visitor=visitor, type=kind, value=20, occurred_at=cutoff - timedelta(days=days)
        )
    ids = [buyer.pk, browser.pk]
    before, _ = features_at(score_frame_load(ids, before=cutoff), to_days(cutoff))

    EventFactory(visitor=buyer, type="purchase", value=500, occurred_at=cutoff)
    EventFactory(visitor=browser, type="view", occurred_at=cutoff + timedelta(days=1))
    frame = score_frame_load(ids, before=timezone.now())  # the later events are in this frame
    after, _ = features_at(frame, to_days(cutoff))

    assert len(frame.day) == 5
    np.testing.assert_array_equal(before, after)


def test_labels_come_only_from_the_horizon_after_the_cut_off():
    data = synthetic_generate(visitors=300, seed=3)
    cutoff = data.now - data.horizon_days
    frame = data.frame
    churn = labels_at(frame, cutoff, data.horizon_days, TARGETS_BY_KEY["churn"])

    inside = (frame.day >= cutoff) & (frame.day < cutoff + data.horizon_days)
    active = np.zeros(frame.size, bool)
    active[frame.visitor[inside]] = True
    np.testing.assert_array_equal(churn, ~active)


def test_on_a_known_churn_process_the_model_is_within_002_of_the_truth_and_beats_the_baselines():
    data = synthetic_generate(visitors=20_000, seed=7)
    cutoff = data.now - data.horizon_days
    truth = labels_at(data.frame, cutoff, data.horizon_days, TARGETS_BY_KEY["churn"])
    best = roc_auc_score(truth[data.has_history], data.probabilities[data.has_history])

    trained = scores_train(
        data.frame, now=data.now, horizon_days=data.horizon_days, targets=["churn"], seed=0
    )

    churn = trained.metrics["churn"]
    assert churn[MODEL]["roc_auc"] >= best - 0.02
    assert churn[MODEL]["roc_auc"] > churn[LOGISTIC]["roc_auc"]
    assert churn[MODEL]["roc_auc"] > churn[LIFECYCLE]["roc_auc"]
    assert churn[MODEL]["brier"] < churn[LIFECYCLE]["brier"]
    assert churn[MODEL]["lift_top_decile"] > 1.5
    assert trained.importance["churn"][0][0] in {"recency_days", "events_90d", "active_days_90d"}
