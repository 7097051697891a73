"""Behaviour of experiments.bucketing.assign, the one call the experiment service makes."""

import dataclasses

import pytest

from experiments.bucketing import Assignment, assign, bucket_ranges, hash, in_namespace

USER_IDS = [f"visitor-{i}" for i in range(10_000)]


def test_visitor_with_an_id_is_assigned_a_variation() -> None:
    result = assign(key="hero-banner", hash_value="visitor-1", num_variations=3)

    assert result.reason == "assigned"
    assert result.in_experiment is True
    assert result.variation in {0, 1, 2}
    assert result.hash_bucket == hash("hero-banner", "visitor-1", 2)


def test_assigned_variation_is_the_range_holding_the_hash() -> None:
    bucket = hash("hero-banner", "visitor-1", 2)
    ranges = bucket_ranges(3, 1, [0.2, 0.3, 0.5])
    expected = next(i for i, (start, end) in enumerate(ranges) if start <= bucket < end)

    result = assign(
        key="hero-banner", hash_value="visitor-1", num_variations=3, weights=[0.2, 0.3, 0.5]
    )

    assert result.variation == expected


def test_same_visitor_and_experiment_always_get_the_same_variation() -> None:
    first = [assign(key="checkout", hash_value=uid, num_variations=3) for uid in USER_IDS[:500]]
    again = [assign(key="checkout", hash_value=uid, num_variations=3) for uid in USER_IDS[:500]]

    assert first == again


def test_visitor_without_a_hash_value_is_not_in_the_experiment() -> None:
    result = assign(key="checkout", hash_value="", num_variations=2)

    assert result == Assignment(-1, False, None, "no_hash_value")


def test_experiment_with_fewer_than_two_variations_includes_nobody() -> None:
    result = assign(key="checkout", hash_value="visitor-1", num_variations=1)

    assert result == Assignment(-1, False, None, "too_few_variations")


def test_unknown_hash_version_includes_nobody() -> None:
    result = assign(key="checkout", hash_value="visitor-1", num_variations=2, hash_version=3)

    assert result == Assignment(-1, False, None, "invalid_hash_version")


def test_visitor_outside_the_namespace_is_not_in_the_experiment() -> None:
    namespace = ("pricing", 0.0, 0.5)
    outsider = next(uid for uid in USER_IDS if not in_namespace(uid, namespace))

    result = assign(key="checkout", hash_value=outsider, num_variations=2, namespace=namespace)

    assert result == Assignment(-1, False, None, "namespace")


def test_namespace_is_checked_before_the_hash_version_like_growthbook() -> None:
    namespace = ("pricing", 0.0, 0.5)
    outsider = next(uid for uid in USER_IDS if not in_namespace(uid, namespace))

    result = assign(
        key="checkout", hash_value=outsider, num_variations=2, namespace=namespace, hash_version=9
    )

    assert result.reason == "namespace"


def test_visitor_inside_the_namespace_is_assigned() -> None:
    namespace = ("pricing", 0.0, 0.5)
    insider = next(uid for uid in USER_IDS if in_namespace(uid, namespace))

    result = assign(key="checkout", hash_value=insider, num_variations=2, namespace=namespace)

    assert result.reason == "assigned"


def test_visitor_outside_the_coverage_is_not_in_the_experiment_but_keeps_the_bucket() -> None:
    outsider = next(
        uid
        for uid in USER_IDS
        if assign(key="checkout", hash_value=uid, num_variations=2, coverage=0.1).variation < 0
    )

    result = assign(key="checkout", hash_value=outsider, num_variations=2, coverage=0.1)

    assert result == Assignment(-1, False, hash("checkout", outsider, 2), "coverage")


def test_zero_coverage_includes_nobody() -> None:
    results = [
        assign(key="checkout", hash_value=uid, num_variations=2, coverage=0)
        for uid in USER_IDS[:1000]
    ]

    assert {r.reason for r in results} == {"coverage"}


def test_seed_defaults_to_the_experiment_key() -> None:
    implicit = [assign(key="checkout", hash_value=u, num_variations=4) for u in USER_IDS[:500]]
    explicit = [
        assign(key="other", hash_value=u, num_variations=4, seed="checkout") for u in USER_IDS[:500]
    ]

    assert [a.variation for a in implicit] == [a.variation for a in explicit]


def test_a_different_seed_reshuffles_visitors() -> None:
    one = [assign(key="checkout", hash_value=u, num_variations=2) for u in USER_IDS[:500]]
    two = [
        assign(key="checkout", hash_value=u, num_variations=2, seed="s2") for u in USER_IDS[:500]
    ]

    assert [a.variation for a in one] != [a.variation for a in two]


def test_explicit_ranges_override_weights_and_coverage() -> None:
    # Everyone lands in the second variation's range, whatever weights and coverage say.
    result = [
        assign(
            key="checkout",
            hash_value=uid,
            num_variations=2,
            coverage=0.01,
            weights=[0.99, 0.01],
            ranges=[(0.0, 0.0), (0.0, 1.0)],
        ).variation
        for uid in USER_IDS[:500]
    ]

    assert set(result) == {1}


@pytest.mark.parametrize("hash_version", [1, 2])
def test_equal_weights_split_ten_thousand_visitors_about_evenly(hash_version: int) -> None:
    results = [
        assign(
            key="hero-banner",
            hash_value=uid,
            num_variations=2,
            weights=[0.5, 0.5],
            hash_version=hash_version,
        )
        for uid in USER_IDS
    ]

    share = sum(r.variation == 1 for r in results) / len(results)
    assert all(r.in_experiment for r in results)
    assert 0.47 <= share <= 0.53


def test_uneven_weights_split_visitors_in_proportion() -> None:
    results = [
        assign(key="hero-banner", hash_value=uid, num_variations=3, weights=[0.2, 0.3, 0.5])
        for uid in USER_IDS
    ]

    shares = [sum(r.variation == v for r in results) / len(results) for v in range(3)]
    assert shares == pytest.approx([0.2, 0.3, 0.5], abs=0.03)


def test_experiments_in_disjoint_namespace_ranges_never_share_a_visitor() -> None:
    left = [
        assign(key="exp-a", hash_value=uid, num_variations=2, namespace=("homepage", 0, 0.5))
        for uid in USER_IDS
    ]
    right = [
        assign(key="exp-b", hash_value=uid, num_variations=2, namespace=("homepage", 0.5, 1))
        for uid in USER_IDS
    ]

    both = [
        uid
        for uid, a, b in zip(USER_IDS, left, right, strict=True)
        if a.in_experiment and b.in_experiment
    ]
    assert both == []
    # And the namespace really splits traffic: each side gets a fair share of it.
    assert 4500 < sum(a.in_experiment for a in left) < 5500
    assert 4500 < sum(b.in_experiment for b in right) < 5500


def test_assignment_is_immutable() -> None:
    result = assign(key="checkout", hash_value="visitor-1", num_variations=2)

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.variation = 0  # type: ignore[misc]


def test_assign_takes_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        assign("checkout", "visitor-1", 2)  # type: ignore[misc]
