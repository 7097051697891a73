"""Ranking recommendations without sorting the whole pool gives the order a full sort gives."""

import random
from dataclasses import dataclass

from personalization.recommendations.serving import Pool, _ranked


@dataclass
class Item:
    pk: int
    priority: int


def fully_sorted(pool: Pool, stored, affinity, popular) -> list[int]:
    """The reference: every candidate sorted by (list rank, affinity, popularity, priority)."""
    unranked, unpopular = len(stored) + 1, len(popular) + 1
    ranked = sorted(
        pool.items,
        key=lambda pair: (
            stored[pair[0].pk][0] if pair[0].pk in stored else unranked,
            -sum(affinity.get(tag, 0.0) for tag in sorted(pair[1])),
            popular.get(pair[0].pk, unpopular),
            -pair[0].priority,
        ),
    )
    return [item.pk for item, _ in ranked]


def test_the_lazy_ranking_matches_a_full_sort_on_random_pools():
    rng = random.Random(3)
    tags = ["a", "b", "c", "d", "e"]
    for _ in range(200):
        items = [Item(pk, rng.randint(0, 3)) for pk in rng.sample(range(1, 500), 60)]
        items.sort(key=lambda item: (-item.priority, -item.pk))  # the pool's order
        pool = Pool.of([(item, frozenset(rng.sample(tags, rng.randint(0, 2)))) for item in items])
        pks = [item.pk for item in items]
        stored = {pk: (rank, 1.0, "ease") for rank, pk in enumerate(rng.sample(pks, 5), 1)}
        stored = stored if rng.random() < 0.5 else {}
        affinity = {tag: rng.choice([0.0, 0.25, 0.5, 1.0]) for tag in rng.sample(tags, 2)}
        popular = {pk: rank for rank, pk in enumerate(rng.sample(pks, 8), 1)}
        popular = popular if not stored and rng.random() < 0.5 else {}

        lazy = [item.pk for item in _ranked(pool, stored, affinity, popular)]

        assert lazy == fully_sorted(pool, stored, affinity, popular)
