"""Fixed-seed synthetic implicit feedback, for tests and benchmarks that need no database.

Items have a topic and a latent taste vector near their topic's; popularity is log-normal.
Each visitor likes one to three topics, has a log-normal number of interactions (at least
`min_items`), and picks items without replacement with probability proportional to
exp(taste fit / temperature + popularity) (Gumbel top-k), so the data mixes taste, which
collaborative models learn, with popularity and noise, as real catalogues do. Interactions
get event weights of 1 to 3 and increasing moments, so temporal splits work too.

Cost: visitors x items logits in blocks of `BLOCK` visitors (BLOCK x items floats at a time).
"""

import numpy as np

from personalization.recommendations.algorithms.interactions import Interactions, from_triples

BLOCK = 2_000


def synthetic_interactions(
    *,
    visitors: int,
    items: int,
    topics: int = 20,
    dimensions: int = 16,
    mean_items: float = 12.0,
    min_items: int = 3,
    temperature: float = 0.2,
    seed: int = 0,
) -> Interactions:
    """A visitors x items `Interactions` drawn as the module docstring says."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (topics, dimensions))
    item_topic = rng.integers(0, topics, items)
    item_taste = centres[item_topic] + rng.normal(0, 0.6, (items, dimensions))
    item_taste /= np.linalg.norm(item_taste, axis=1, keepdims=True)
    popularity = rng.normal(0, 0.7, items)
    counts = np.clip(
        rng.lognormal(np.log(mean_items) - 0.5, 1.0, visitors).astype(int), min_items, items // 2
    )
    rows, columns = [], []
    for start in range(0, visitors, BLOCK):
        size = min(BLOCK, visitors - start)
        liked = rng.integers(0, topics, (size, 3))
        weights = rng.dirichlet(np.ones(3) * 0.5, size)
        taste = np.einsum("vt,vtd->vd", weights, centres[liked])
        taste += rng.normal(0, 0.3, taste.shape)
        taste /= np.linalg.norm(taste, axis=1, keepdims=True)
        logits = taste @ item_taste.T / temperature + popularity
        logits += rng.gumbel(size=logits.shape)
        order = np.argsort(-logits, axis=1)
        for offset in range(size):
            take = order[offset, : counts[start + offset]]
            rows.append(np.full(len(take), start + offset))
            columns.append(take)
    visitor_rows = np.concatenate(rows)
    item_columns = np.concatenate(columns)
    count = len(visitor_rows)
    return from_triples(
        visitor_rows, item_columns, rng.integers(1, 4, count).astype(float),
        np.arange(count, dtype=float), now=float(count), half_life_days=1e9,
        item_ids=np.arange(items),
    )  # fmt: skip
