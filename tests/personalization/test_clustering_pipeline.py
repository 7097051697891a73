"""The clustering pipeline on synthetic populations with a known structure (no database)."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from personalization.clustering.describe import clusters_describe, projection_2d
from personalization.clustering.features import NUMERIC, FeatureEncoder, FeatureFrame
from personalization.clustering.model import ClusteringError, clusters_fit, k_range_parse
from personalization.clustering.synthetic import GROUPS, synthetic_frame


@pytest.fixture(scope="module")
def population():
    return synthetic_frame(900, seed=3)


def descriptions_by_group(frame, groups, algorithm="kmeans"):
    model, matrix = clusters_fit(frame, algorithm=algorithm, k_range=(2, 6))
    labels = model.predict_matrix(matrix)
    described = clusters_describe(frame, matrix, labels, model.encoder, model.k)
    by_group = {}
    for index, group in enumerate(GROUPS):
        majority = np.bincount(labels[groups == index]).argmax()
        by_group[group.name] = described[majority]["description"]
    return by_group


@pytest.mark.parametrize("algorithm", ["kmeans", "minibatch", "gmm"])
def test_each_algorithm_finds_the_four_groups_of_a_synthetic_population(population, algorithm):
    frame, groups = population

    model, matrix = clusters_fit(frame, algorithm=algorithm, k_range=(2, 7))

    assert model.k == len(GROUPS)
    assert adjusted_rand_score(groups, model.predict_matrix(matrix)) > 0.95


def test_every_k_tried_is_scored_and_the_chosen_one_is_marked(population):
    frame, _ = population

    model, _ = clusters_fit(frame, k_range=(2, 6))

    scores = {score.k: score for score in model.scores}
    assert sorted(scores) == [2, 3, 4, 5, 6]
    assert [k for k, score in scores.items() if score.chosen] == [4]
    assert scores[4].silhouette == max(s.silhouette for s in scores.values())
    assert scores[4].davies_bouldin == min(s.davies_bouldin for s in scores.values())


def test_descriptions_say_what_sets_each_group_apart(population):
    frame, groups = population

    words = descriptions_by_group(frame, groups)

    assert "high spend" in words["big spenders"] and "fashion" in words["big spenders"]
    assert "frequent" in words["regulars"] and "running" in words["regulars"]
    assert "mostly new" in words["newcomers"]
    assert "lapsing" in words["lapsing"] and "cooking" in words["lapsing"]
    assert "high spend" not in words["newcomers"]


def test_traits_that_do_not_depend_on_the_group_are_not_in_any_description(population):
    frame, groups = population

    words = descriptions_by_group(frame, groups)

    assert not any("country" in text for text in words.values())


def test_centroids_use_readable_feature_names_and_units(population):
    frame, _ = population
    model, matrix = clusters_fit(frame, k_range=(4, 4))
    labels = model.predict_matrix(matrix)

    described = clusters_describe(frame, matrix, labels, model.encoder, model.k)

    spenders = max(described, key=lambda d: d["centroid"]["monetary_90d"])
    assert spenders["centroid"]["monetary_90d"] > 500  # euros, not standard deviations
    assert set(NUMERIC) <= set(spenders["centroid"])
    assert spenders["centroid"]["lifecycle"] == {"active": 1.0}
    assert {"fashion", "shoes"} <= set(spenders["centroid"]["affinity"])


def test_an_extreme_spender_is_clipped_instead_of_getting_a_cluster_of_their_own(population):
    frame, groups = population
    whale = FeatureFrame.from_records(
        [{"id": 99999, "recency_days": 3, "sessions_30d": 5, "event_count": 50,
          "monetary_90d": 10_000_000, "engagement": 0.6, "lifecycle": "active",
          "affinity": {"fashion": 1.0, "shoes": 0.8}, "traits": {"country": "FR"}}]
    )  # fmt: skip
    model, _ = clusters_fit(FeatureFrame.concat([frame, whale]), k_range=(2, 6))

    assert model.k == len(GROUPS)
    spender = frame.take(np.flatnonzero(groups == 1)[:1])
    assert model.predict(whale)[0] == model.predict(spender)[0]


def test_a_visitor_without_any_event_reads_as_the_longest_gap_not_the_median(population):
    frame, _ = population
    encoder = FeatureEncoder().fit(frame)
    unknown = FeatureFrame.from_records([{"recency_days": None, "lifecycle": "new"}])
    lapsed = FeatureFrame.from_records([{"recency_days": 10_000, "lifecycle": "new"}])

    column = NUMERIC.index("recency_days")

    assert encoder.transform(unknown)[0, column] == pytest.approx(
        encoder.transform(lapsed)[0, column]
    )


def test_identifier_like_traits_are_left_out_of_the_matrix(population):
    frame, _ = population
    frame = FeatureFrame(
        ids=frame.ids, numeric=frame.numeric, lifecycle=frame.lifecycle,
        traits=[{**t, "email": f"someone-{n}@example.org"} for n, t in enumerate(frame.traits)],
        affinities=frame.affinities,
    )  # fmt: skip

    encoder = FeatureEncoder().fit(frame)

    assert "traits.country=FR" in encoder.feature_names
    assert not any(name.startswith("traits.email") for name in encoder.feature_names)


def test_too_few_visitors_for_the_k_range_is_a_clear_error(population):
    frame, _ = population

    with pytest.raises(ClusteringError, match=r"5 visitors .* needs more than 8"):
        clusters_fit(frame.take(range(5)), k_range=(2, 8))


@pytest.mark.parametrize(
    ("text", "reason"),
    [("8-2", "LOW <= HIGH"), ("1-4", "LOW <= HIGH"), ("two", "LOW-HIGH"), ("2-99", "at most 50")],
)
def test_a_bad_k_range_says_how_to_write_it(text, reason):
    with pytest.raises(ClusteringError, match=reason):
        k_range_parse(text)


def test_the_projection_gives_two_coordinates_and_the_cluster_of_each_sampled_visitor(population):
    frame, _ = population
    model, matrix = clusters_fit(frame, k_range=(4, 4))
    labels = model.predict_matrix(matrix)

    points = projection_2d(matrix, labels)

    assert len(points) == 800
    assert {point[2] for point in points} == {0, 1, 2, 3}
    assert np.ptp([point[0] for point in points]) > 1
