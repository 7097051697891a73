"""GrowthBook-compatible experiment bucketing: hashing, bucket ranges and variation choice.

Any GrowthBook SDK given the same key, seed, hash version, coverage, weights and
namespace puts a visitor in the same variation as this module does, so an
experiment can run partly in Tailor and partly in a site that uses GrowthBook.
Pure Python on purpose: it runs on every personalized request and in workers, and
must import without Django.

Where GrowthBook's JS and Python SDKs disagree on invalid input (negative weights,
``?key=1.5``), this module follows the Python SDK, which rejects it; for every
payload the GrowthBook server produces they agree.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal
from urllib.parse import parse_qs, urlparse

__all__ = [
    "Assignment",
    "Reason",
    "assign",
    "bucket_ranges",
    "choose_variation",
    "equal_weights",
    "fnv1a32",
    "hash",
    "in_namespace",
    "query_string_override",
]

Range = tuple[float, float]
Namespace = tuple[str, float, float]
Reason = Literal[
    "assigned",
    "too_few_variations",
    "no_hash_value",
    "namespace",
    "invalid_hash_version",
    "coverage",
]

_FNV_OFFSET: Final = 0x811C9DC5
# GrowthBook rejects weights whose sum is outside this band and uses equal weights.
_WEIGHT_SUM_MIN: Final = 0.99
_WEIGHT_SUM_MAX: Final = 1.01
_BIG_ENDIAN: Final = sys.byteorder == "big"


def _fnv1a32_update(hval: int, text: str) -> int:
    """Continue an FNV-1a 32-bit hash over the UTF-16 code units of ``text``."""
    if text.isascii():
        # An ASCII character is one UTF-16 code unit with the same value as its byte.
        units: bytes | array[int] = text.encode("ascii")
    else:
        # The JS SDK hashes `charCodeAt` values, i.e. UTF-16 code units: astral
        # characters count as two surrogates, and lone surrogates must survive.
        units = array("H", text.encode("utf-16-le", "surrogatepass"))
        if _BIG_ENDIAN:
            units.byteswap()
    for unit in units:
        # Literals rather than module constants: this loop is the hot path.
        hval = ((hval ^ unit) * 0x01000193) & 0xFFFFFFFF
    return hval


def fnv1a32(text: str) -> int:
    """FNV-1a 32-bit hash of a string, over UTF-16 code units like GrowthBook's SDKs."""
    return _fnv1a32_update(_FNV_OFFSET, text)


@lru_cache(maxsize=4096)
def _seed_state(seed: str) -> int:
    """FNV state after the seed, which version 2 hashes first; a site has few seeds."""
    return _fnv1a32_update(_FNV_OFFSET, seed)


# Shadowing the builtin is deliberate: `experiments.bucketing.hash` is the name
# DESIGN.md promises (GrowthBook calls it `hash` too). Nothing here needs the
# builtin; ruff's A rules, which would flag this (A001), are not enabled.
def hash(seed: str, value: str, version: int) -> float | None:
    """GrowthBook's bucket hash in [0, 1): version 1 or 2, None for any other version."""
    if version == 2:
        inner = _fnv1a32_update(_seed_state(seed), value)
        return _fnv1a32_update(_FNV_OFFSET, str(inner)) % 10000 / 10000
    if version == 1:
        return _fnv1a32_update(_FNV_OFFSET, value + seed) % 1000 / 1000
    return None


def equal_weights(n: int) -> list[float]:
    """``n`` equal weights summing to 1, or an empty list when ``n`` is below 1."""
    if n < 1:
        return []
    return [1 / n] * n


def _weights_valid(weights: Sequence[float], num_variations: int) -> bool:
    """Whether weights can be used as given: one finite, non-negative number each, summing to ~1."""
    if len(weights) != num_variations:
        return False
    total = 0.0
    try:
        for weight in weights:
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                return False
            if not math.isfinite(weight) or weight < 0:
                return False
            # Plain left-to-right addition, as the JS SDK's reduce does (Python 3.12's
            # sum() compensates rounding and could disagree right at the 0.99/1.01 edge).
            total += weight
    except OverflowError:  # an int too large for a float, such as 10**400
        return False
    return _WEIGHT_SUM_MIN <= total <= _WEIGHT_SUM_MAX


def bucket_ranges(
    num_variations: int, coverage: float = 1, weights: Sequence[float] | None = None
) -> list[Range]:
    """GrowthBook's getBucketRanges: one [start, end) slice of [0, 1) per variation.

    Coverage is clamped to [0, 1]. Weights that are missing, of the wrong length,
    not all finite non-negative numbers, or not summing to 1 within 0.01 are
    replaced with equal weights. Unlike the SDKs, a tuple counts as a list.
    """
    # Out-of-range coverage is clamped, never an error: a bad payload must not break a page.
    if coverage < 0:
        coverage = 0
    elif coverage > 1:
        coverage = 1
    if (
        weights is None
        or not isinstance(weights, list | tuple)
        or not _weights_valid(weights, num_variations)
    ):
        weights = equal_weights(num_variations)
    # No rounding: the SDKs return these exact floats, and rounding would move
    # the boundary for hashes that sit right on it.
    ranges: list[Range] = []
    cumulative: float = 0
    for weight in weights:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose_variation(n: float, ranges: Sequence[Sequence[float]]) -> int:
    """Index of the first range holding ``n`` (start inclusive, end exclusive), or -1."""
    for index, bounds in enumerate(ranges):
        if bounds[0] <= n < bounds[1]:
            return index
    return -1


def in_namespace(user_id: str, namespace: Namespace) -> bool:
    """Whether the user falls in the namespace's [start, end) slice (version 1 hash)."""
    n = hash("__" + namespace[0], user_id, 1)
    return n is not None and namespace[1] <= n < namespace[2]


def query_string_override(experiment_key: str, url: str, num_variations: int) -> int | None:
    """Variation forced by ``?<experiment_key>=<index>`` in the URL, when it names a valid one."""
    try:
        query = urlparse(url).query
    except ValueError:  # a malformed host such as "http://[::1/"
        return None
    if not query:
        return None
    values = parse_qs(query).get(experiment_key)
    if not values:
        return None
    raw = values[0]
    # Only ASCII digits: str.isdigit() also accepts superscripts and Arabic-Indic digits.
    if not (raw.isascii() and raw.isdigit()):
        return None
    try:
        variation = int(raw)
    except ValueError:  # longer than Python's int-from-string digit limit
        return None
    return variation if variation < num_variations else None


@dataclass(frozen=True, slots=True)
class Assignment:
    """Outcome of bucketing one visitor into one experiment."""

    variation: int  # -1 when the visitor is not in the experiment
    in_experiment: bool
    hash_bucket: float | None  # the hash in [0, 1), when one was computed
    reason: Reason


_TOO_FEW_VARIATIONS: Final = Assignment(-1, False, None, "too_few_variations")
_NO_HASH_VALUE: Final = Assignment(-1, False, None, "no_hash_value")
_OUTSIDE_NAMESPACE: Final = Assignment(-1, False, None, "namespace")
_INVALID_HASH_VERSION: Final = Assignment(-1, False, None, "invalid_hash_version")


def assign(
    *,
    key: str,
    hash_value: str,
    num_variations: int,
    seed: str | None = None,
    hash_version: int = 2,
    coverage: float = 1.0,
    weights: Sequence[float] | None = None,
    namespace: Namespace | None = None,
    ranges: Sequence[Range] | None = None,
) -> Assignment:
    """Choose a variation the way GrowthBook's runExperiment buckets a visitor."""
    # Same order of checks as runExperiment, so the reason matches what GrowthBook skips on.
    if num_variations < 2:
        return _TOO_FEW_VARIATIONS
    if not hash_value:
        return _NO_HASH_VALUE
    if namespace and not in_namespace(hash_value, namespace):
        return _OUTSIDE_NAMESPACE
    # `or`, not `is None`: GrowthBook also falls back to the key for an empty seed.
    n = hash(seed or key, hash_value, hash_version)
    if n is None:
        return _INVALID_HASH_VERSION
    # Explicit ranges win over coverage and weights, as in GrowthBook; an empty list does not.
    variation = choose_variation(n, ranges or bucket_ranges(num_variations, coverage, weights))
    if variation < 0:
        return Assignment(-1, False, n, "coverage")
    return Assignment(variation, True, n, "assigned")
