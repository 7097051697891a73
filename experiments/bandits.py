"""Multi-armed bandits: Thompson sampling moves traffic to the variations that convert best.

Each update draws from every variation's Beta posterior of the primary metric's conversion
rate and gives each variation its chance of being the best, floored at a minimum share so that
no arm starves and the estimates keep improving. Visitors already exposed keep their variation
(see `experiments.assignment`); new visitors follow the new weights.
Cost per update: one results query over the experiment's exposures, and 20,000 draws per arm.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from experiments import stats
from experiments.models import AllocationSnapshot, Experiment
from experiments.selectors import bandit_counts
from experiments.services import ExperimentError, allocation_apply


def thompson_weights(
    conversions: Sequence[int], visitors: Sequence[int], *, min_share: float, seed: int = 7
) -> tuple[list[float], list[float]]:
    """(weights, chance to be best): P(best) per arm, each raised to at least `min_share`."""
    arms = len(conversions)
    if arms < 2:
        raise ValueError("a bandit needs at least two variations")
    if min_share * arms > 1:
        raise ValueError(f"a minimum share of {min_share:g} is impossible with {arms} variations")
    best = stats.chance_to_be_best(conversions, visitors, seed=seed)
    # Floor first, then share what is left by the chance to be best: sums to 1 exactly.
    weights = [min_share + (1 - min_share * arms) * p for p in best]
    total = sum(weights)
    return [w / total for w in weights], best


def bandit_update(*, experiment: Experiment, now=None) -> AllocationSnapshot | None:
    """Give a running bandit's variations new weights from its primary metric; None if not one."""
    if not experiment.is_bandit or experiment.status != Experiment.Status.RUNNING:
        return None
    metric = experiment.metrics.filter(is_primary=True).first()
    if metric is None:
        raise ExperimentError(f"Bandit '{experiment.key}' has no primary metric to learn from.")
    counts = bandit_counts(experiment, metric)
    now = now or timezone.now()
    try:
        weights, best = thompson_weights(
            [c for _, _, c in counts], [n for _, n, _ in counts],
            min_share=experiment.bandit_min_share,
            # A new seed each hour: the allocation is reproducible, not frozen.
            seed=int(now.timestamp()) // 3600,
        )  # fmt: skip
    except ValueError as error:
        raise ExperimentError(f"Bandit '{experiment.key}': {error}.") from error
    keys = [variation.key for variation, _, _ in counts]
    return allocation_apply(
        experiment=experiment, weights=dict(zip(keys, weights, strict=True)),
        chance_to_win=dict(zip(keys, best, strict=True)), now=now,
    )  # fmt: skip


def bandits_update_all(*, now=None) -> dict[str, int]:
    """Update every running bandit; an experiment that cannot be updated is reported, not fatal."""
    updated, failed = 0, 0
    running = Experiment.objects.filter(is_bandit=True, status=Experiment.Status.RUNNING)
    for experiment in running:
        try:
            bandit_update(experiment=experiment, now=now)
            updated += 1
        except ExperimentError:
            failed += 1
    return {"updated": updated, "failed": failed}
