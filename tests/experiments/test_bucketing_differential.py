"""experiments.bucketing against GrowthBook's Python SDK on seeded random inputs.

The published vectors are few; these tests compare every public function with
its `growthbook.core` counterpart (and `assign` with `GrowthBook.run`) over
thousands of generated inputs, including the awkward ones: non-ASCII and astral
characters, lone surrogates, empty strings, coverage outside [0, 1], weights
that are short, long, negative or sum to just outside 0.99..1.01. A fixed seed
per test keeps every run identical.
"""

import math
import random

import pytest
from growthbook import Experiment, GrowthBook
from growthbook import core as gb_core

from experiments import bucketing

# Characters drawn from several scripts, so generated strings cover ASCII,
# two-byte and three-byte UTF-8, astral characters (UTF-16 surrogate pairs)
# and lone surrogates, which JS strings can hold and Python must not choke on.
_ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@ ",
    "éèüößñçåøÆŒ",
    "ЖжКлючзначение",
    "日本語中文한국어",
    "😀🎉🚀👍🏽",
    "\ud800\udfff\ud83d",
]


def _text(rng: random.Random, max_length: int = 16) -> str:
    """A random string, mostly ASCII like real ids, sometimes from other scripts."""
    length = rng.randint(0, max_length)
    weights = [8, 2, 1, 1, 1, 1]
    return "".join(rng.choice(rng.choices(_ALPHABETS, weights)[0]) for _ in range(length))


def _weights(rng: random.Random, num_variations: int) -> list[float] | None:
    """Weights of every kind GrowthBook must cope with, valid or not."""
    kind = rng.randrange(8)
    if kind == 0:
        return None
    length = (
        num_variations if kind in (1, 2, 3, 4, 7) else max(0, num_variations + rng.choice([-1, 1]))
    )
    raw = [rng.random() for _ in range(length)]
    total = sum(raw) or 1.0
    weights = [w / total for w in raw]
    if kind == 2 and weights:
        # Push the sum right around GrowthBook's 0.99 / 1.01 acceptance edges.
        weights[-1] += rng.choice([-0.0101, -0.0099, 0.0099, 0.0101])
    elif kind == 3 and len(weights) > 1:
        # Negative weights that still sum to 1, which the Python SDK rejects.
        weights[0] -= 0.2
        weights[1] += 0.2
    elif kind == 4:
        weights = [round(w, 4) for w in weights]
    elif kind == 7 and weights:
        # Entries no valid payload has: booleans, NaN, infinities, ints too big for a float.
        junk = [True, False, math.nan, math.inf, -math.inf, 10**400, 1, 0]
        weights[rng.randrange(len(weights))] = rng.choice(junk)
    return weights


def _coverage(rng: random.Random) -> float:
    """Coverage in and out of [0, 1], with the boundary values the SDK treats specially."""
    return rng.choice([0, 1, 1.0, -0.5, 1.5, 0.5, rng.random(), rng.uniform(-1, 2)])


def test_fnv1a32_equals_growthbook_for_random_strings() -> None:
    rng = random.Random(1001)
    for _ in range(3000):
        text = _text(rng, 40)
        assert bucketing.fnv1a32(text) == gb_core.fnv1a32(text), repr(text)


def test_hash_equals_growthbook_for_random_seeds_values_and_versions() -> None:
    rng = random.Random(1002)
    for _ in range(6000):
        seed, value = _text(rng), _text(rng)
        version = rng.choice([1, 2, 2, 0, 3, -1])
        expected = gb_core.gbhash(seed, value, version)
        assert bucketing.hash(seed, value, version) == expected, (seed, value, version)


def test_hash_of_many_values_under_one_seed_equals_growthbook() -> None:
    # Version 2 caches the FNV state of the seed; reuse one seed to exercise the cache.
    rng = random.Random(1003)
    seed = _text(rng, 30)
    for _ in range(2000):
        value = _text(rng)
        assert bucketing.hash(seed, value, 2) == gb_core.gbhash(seed, value, 2), value


def test_bucket_ranges_equal_growthbook_exactly_for_random_inputs() -> None:
    rng = random.Random(1004)
    for _ in range(4000):
        num_variations = rng.randint(0, 6)
        coverage = _coverage(rng)
        weights = _weights(rng, num_variations)
        expected = gb_core.getBucketRanges(num_variations, coverage, weights)
        actual = bucketing.bucket_ranges(num_variations, coverage, weights)
        assert actual == expected, (num_variations, coverage, weights)


@pytest.mark.parametrize(
    "weights",
    [[0.5, 0.49], [0.5, 0.51], [0.3, 0.3, 0.39], [0.7, 0.31], [0.5, 0.4899], [0.5, 0.5101]],
)
def test_weights_summing_right_at_the_tolerance_edge_are_judged_like_growthbook(
    weights: list[float],
) -> None:
    # Sums of exactly 0.99 and 1.01 are accepted, a hair beyond them are not.
    expected = gb_core.getBucketRanges(len(weights), 1, weights)
    assert bucketing.bucket_ranges(len(weights), 1, weights) == expected


def test_equal_weights_equal_growthbook_exactly() -> None:
    for n in range(-2, 50):
        assert bucketing.equal_weights(n) == gb_core.getEqualWeights(n)


def test_choose_variation_equals_growthbook_for_random_hashes_and_ranges() -> None:
    rng = random.Random(1005)
    for _ in range(4000):
        num_variations = rng.randint(0, 5)
        ranges = gb_core.getBucketRanges(
            num_variations, _coverage(rng), _weights(rng, num_variations)
        )
        # Half the time land exactly on a boundary, where start/end inclusivity matters.
        edges = [edge for r in ranges for edge in r]
        n = rng.choice(edges) if edges and rng.random() < 0.5 else rng.random()
        assert bucketing.choose_variation(n, ranges) == gb_core.chooseVariation(n, ranges)


def test_in_namespace_equals_growthbook_for_random_ids_and_namespaces() -> None:
    rng = random.Random(1006)
    for _ in range(4000):
        user_id = _text(rng)
        start = rng.choice([0, 0.25, 0.5, rng.random()])
        end = rng.choice([1, 0.5, start, start + rng.random() / 2])
        namespace = (_text(rng, 10), start, end)
        expected = gb_core.inNamespace(user_id, namespace)
        assert bucketing.in_namespace(user_id, namespace) is expected, (user_id, namespace)


def test_query_string_override_equals_growthbook_for_random_urls() -> None:
    rng = random.Random(1007)
    keys = ["my-test", "exp", "hero_banner", "ü-test"]
    values = ["0", "1", "2", "5", "-1", "1.5", "01", "", "foo", "²", "99999999999", "0x1"]
    for _ in range(3000):
        key = rng.choice(keys)
        pairs = [
            f"{rng.choice([*keys, 'other'])}={rng.choice(values)}" for _ in range(rng.randint(0, 3))
        ]
        query = "&".join(pairs)
        url = rng.choice(["http://example.com", "https://a.b/path", "/relative", ""])
        url += rng.choice(["?", "??", "?&"]) + query if query or rng.random() < 0.3 else ""
        url += rng.choice(["", "#frag", f"#{key}=1"])
        num_variations = rng.randint(0, 6)
        expected = gb_core.getQueryStringOverride(key, url, num_variations)
        assert bucketing.query_string_override(key, url, num_variations) == expected, url


@pytest.fixture
def growthbook_client():
    """A GrowthBook SDK instance with no features, used only to run experiments."""
    client = GrowthBook(attributes={})
    yield client
    client.destroy()


def test_assign_picks_the_variation_growthbook_run_picks(growthbook_client: GrowthBook) -> None:
    rng = random.Random(1008)
    for _ in range(3000):
        num_variations = rng.randint(1, 5)
        key = _text(rng, 12) or "key"
        seed = rng.choice([None, "", _text(rng, 12)])
        hash_version = rng.choice([1, 2, 2, 2, 7])
        coverage = _coverage(rng)
        weights = _weights(rng, num_variations)
        namespace = rng.choice([None, (_text(rng, 8), 0, rng.random()), ("ns", 0.3, 1)])
        ranges = (
            gb_core.getBucketRanges(num_variations, rng.random()) if rng.random() < 0.2 else None
        )
        hash_value = _text(rng) if rng.random() < 0.95 else ""
        growthbook_client.set_attributes({"id": hash_value})
        result = growthbook_client.run(
            Experiment(
                key=key,
                variations=list(range(num_variations)),
                seed=seed,
                hashVersion=hash_version,
                coverage=coverage,
                weights=weights,
                namespace=namespace,
                ranges=ranges,
            )
        )

        assignment = bucketing.assign(
            key=key,
            hash_value=hash_value,
            num_variations=num_variations,
            seed=seed,
            hash_version=hash_version,
            coverage=coverage,
            weights=weights,
            namespace=namespace,
            ranges=ranges,
        )

        case = (key, hash_value, seed, hash_version, coverage, weights, namespace, ranges)
        assert assignment.in_experiment is result.inExperiment, case
        assert assignment.variation == (result.variationId if result.inExperiment else -1), case
        if result.inExperiment:
            assert assignment.hash_bucket == result.bucket, case
