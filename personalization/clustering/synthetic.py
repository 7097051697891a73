"""Synthetic populations with a known structure, without the database: for tests and benchmarks.

`synthetic_frame(n, groups=...)` draws n visitors' features from the given groups (default
`GROUPS`: regular runners, big spenders on fashion, new visitors, lapsing cooks), with noise
and traits that do not depend on the group, and returns the frame and each row's group.
Memory: one frame of n rows (about 1 KB a visitor for the Python dicts of traits and tags).
"""

from dataclasses import dataclass

import numpy as np

from personalization.clustering.features import NUMERIC, FeatureFrame


@dataclass(frozen=True)
class Group:
    name: str
    share: float
    recency_days: float
    sessions_30d: float
    event_count: float
    monetary_90d: float
    engagement: float
    lifecycle: str
    tags: tuple[str, ...]


GROUPS: tuple[Group, ...] = (
    Group("regulars", 0.3, 2, 9, 80, 40, 0.75, "active", ("running", "trail")),
    Group("big spenders", 0.2, 4, 5, 50, 900, 0.6, "active", ("fashion", "shoes")),
    Group("newcomers", 0.3, 1, 1, 3, 0, 0.1, "new", ()),
    Group("lapsing", 0.2, 70, 0, 25, 15, 0.2, "at_risk", ("cooking", "garden")),
)
OTHER_TAGS = ("news", "travel", "music", "tech", "kids", "cars")
COUNTRIES = ("FR", "DE", "ES", "IT")


def synthetic_frame(
    n: int, *, groups: tuple[Group, ...] = GROUPS, seed: int = 0, start_id: int = 1
) -> tuple[FeatureFrame, np.ndarray]:
    """n visitors drawn from `groups` (by share); returns the frame and each row's group index."""
    rng = np.random.default_rng(seed)
    shares = np.array([g.share for g in groups])
    membership = rng.choice(len(groups), size=n, p=shares / shares.sum())
    numeric = np.zeros((n, len(NUMERIC)))
    lifecycle: list[str] = []
    traits: list[dict[str, str]] = []
    affinities: list[dict[str, float]] = []
    noise = rng.lognormal(mean=0.0, sigma=0.25, size=(n, len(NUMERIC)))
    countries = rng.choice(COUNTRIES, size=n)
    extra_tags = rng.choice(OTHER_TAGS, size=(n, 2))
    strengths = rng.uniform(0.6, 1.0, size=(n, 3))
    for row, index in enumerate(membership.tolist()):
        group = groups[index]
        numeric[row] = [
            group.recency_days, group.sessions_30d, group.event_count, group.monetary_90d,
            group.engagement,
        ]  # fmt: skip
        lifecycle.append(group.lifecycle)
        traits.append({"country": str(countries[row])})
        affinity = {str(tag): 0.2 * float(strengths[row, 2]) for tag in extra_tags[row]}
        for position, tag in enumerate(group.tags):
            affinity[tag] = float(strengths[row, position])
        affinities.append(affinity)
    numeric = numeric * noise
    numeric[:, NUMERIC.index("engagement")] = np.clip(numeric[:, NUMERIC.index("engagement")], 0, 1)
    return (
        FeatureFrame(
            ids=np.arange(start_id, start_id + n, dtype=np.int64),
            numeric=numeric,
            lifecycle=lifecycle,
            traits=traits,
            affinities=affinities,
        ),
        membership,
    )
