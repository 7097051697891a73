"""Writes of experiments: exposures, status changes, shipping a winner, bandit allocations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.buffers import WriteBuffer
from config.errors import ApplicationError
from content.models import SlotRule
from experiments.models import AllocationSnapshot, Experiment, Exposure, Variation
from personalization.visitors.models import Visitor
from personalization.visitors.services import visitors_lock_existing

WEIGHT_TOLERANCE = 0.001


class ExperimentError(ApplicationError):
    """An experiment cannot do what was asked; the message says why."""


@transaction.atomic
def exposures_write(rows: list[tuple[int, int, int, datetime]]) -> int:
    """Store (visitor, experiment, variation, exposed at) rows in one insert; repeats are no-ops.

    Rows of visitors erased since they were recorded are dropped, the others kept. Rows go in
    ordered by visitor and experiment: two processes inserting the same pairs then wait for each
    other in the same order, never in a cycle.
    """
    existing = visitors_lock_existing(row[0] for row in rows)
    objects = [
        Exposure(visitor_id=visitor_id, experiment_id=experiment_id, variation_id=variation_id,
                 exposed_at=exposed_at)
        for visitor_id, experiment_id, variation_id, exposed_at in sorted(rows)
        if visitor_id in existing
    ]  # fmt: skip
    Exposure.objects.bulk_create(objects, ignore_conflicts=True)
    return len(objects)


EXPOSURES: WriteBuffer[tuple[int, int, int, datetime]] = WriteBuffer("exposure", exposures_write)


def exposures_record(*, rows: Iterable[tuple[int, int, int]], now: datetime | None = None) -> None:
    """Record (visitor, experiment, variation) id triples, written in bulk (config/buffers.py)."""
    now = now or timezone.now()
    EXPOSURES.add(
        *((visitor, experiment, variation, now) for visitor, experiment, variation in rows)
    )


def exposures_merge(*, source: Visitor, target: Visitor) -> int:
    """Move the source's exposures to the target, unless the target saw that experiment already.

    The target's own exposures win: the known profile keeps the variation it has seen.
    """
    seen = Exposure.objects.filter(visitor=target).values("experiment_id")
    moved = (
        Exposure.objects.filter(visitor=source)
        .exclude(experiment_id__in=seen)
        .update(visitor=target)
    )
    Exposure.objects.filter(visitor=source).delete()
    return moved


def variations_check(
    *, experiment: Experiment, variations: Sequence[Variation]
) -> dict[str, list[str]]:
    """Problems of a set of variations, by field: count, weights, control, bandit share, order."""
    errors: dict[str, list[str]] = {}
    if len(variations) < 2:
        errors.setdefault("variations", []).append("An experiment needs at least two variations.")
        return errors
    total = sum(v.weight for v in variations)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        errors.setdefault("weight", []).append(
            f"The weights add up to {total:g}; they must add up to 1."
        )
    controls = [v for v in variations if v.is_control]
    if len(controls) != 1:
        errors.setdefault("is_control", []).append(
            f"Exactly one variation must be the control ({len(controls)} are)."
        )
    if experiment.is_bandit and experiment.bandit_min_share * len(variations) > 1:
        errors.setdefault("bandit_min_share", []).append(
            f"A minimum share of {experiment.bandit_min_share:g} per variation is impossible "
            f"with {len(variations)} variations."
        )
    positions = sorted(v.position for v in variations)
    if positions != list(range(len(variations))):
        errors.setdefault("position", []).append(
            f"Positions must be 0 to {len(variations) - 1}, each once (got {positions})."
        )
    return errors


def namespace_overlaps(*, experiment: Experiment) -> list[Experiment]:
    """Running experiments of the same namespace whose range overlaps this one's."""
    if not experiment.namespace:
        return []
    return list(
        Experiment.objects.filter(
            namespace=experiment.namespace, status=Experiment.Status.RUNNING,
            namespace_start__lt=experiment.namespace_end,
            namespace_end__gt=experiment.namespace_start,
        ).exclude(pk=experiment.pk)
    )  # fmt: skip


def _check_startable(experiment: Experiment) -> None:
    variations = list(experiment.variations.all())
    errors = variations_check(experiment=experiment, variations=variations)
    if errors:
        raise ExperimentError(
            "The experiment cannot start: "
            + " ".join(f"{field}: {'; '.join(msgs)}" for field, msgs in errors.items()),
            extra=errors,
        )
    if not experiment.metrics.filter(is_primary=True).exists():
        raise ExperimentError("The experiment cannot start: it needs a primary metric.")
    overlaps = namespace_overlaps(experiment=experiment)
    if overlaps:
        names = ", ".join(e.key for e in overlaps)
        raise ExperimentError(
            f"namespace: the range overlaps running experiment(s) {names} of namespace "
            f"'{experiment.namespace}'.",
            extra={"namespace_start": [f"overlaps {names}"]},
        )
    if experiment.is_holdout and Experiment.objects.filter(
        is_holdout=True, status=Experiment.Status.RUNNING
    ).exclude(pk=experiment.pk):
        raise ExperimentError("Another personalization holdout is running: stop it first.")


@transaction.atomic
def experiment_start(*, experiment: Experiment, now=None) -> Experiment:
    """Start (or resume) an experiment after checking variations, metric and namespace."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status == Experiment.Status.STOPPED:
        raise ExperimentError("A stopped experiment cannot start again; copy it instead.")
    _check_startable(experiment)
    now = now or timezone.now()
    experiment.status = Experiment.Status.RUNNING
    if experiment.start_at is None:
        experiment.start_at = now
    experiment.save(update_fields=["status", "start_at", "updated_at"])
    return experiment


def experiment_pause(*, experiment: Experiment) -> Experiment:
    """Pause a running experiment: everyone gets the usual content, exposures stay."""
    if experiment.status != Experiment.Status.RUNNING:
        raise ExperimentError("Only a running experiment can be paused.")
    experiment.status = Experiment.Status.PAUSED
    experiment.save(update_fields=["status", "updated_at"])
    return experiment


def experiment_stop(*, experiment: Experiment, now=None) -> Experiment:
    """Stop an experiment for good; its results stay."""
    experiment.status = Experiment.Status.STOPPED
    now = now or timezone.now()
    if experiment.end_at is None or experiment.end_at > now:
        experiment.end_at = now
    experiment.save(update_fields=["status", "end_at", "updated_at"])
    return experiment


@transaction.atomic
def experiment_ship(*, experiment: Experiment, variation: Variation, now=None) -> Experiment:
    """Stop the experiment and make `variation` the slot's content for everyone.

    Chosen items become the slot's default items. A rule set is shipped by keeping only those
    rules active, in their order (the others are deactivated, not deleted, so that nothing an
    editor wrote is lost). A variation that showed the usual content changes nothing.
    """
    if variation.experiment_id != experiment.pk:
        raise ExperimentError(f"Variation '{variation.key}' is not part of '{experiment.key}'.")
    if experiment.slot_id is None:
        raise ExperimentError(
            "Only an experiment on a slot can be shipped; change the template by hand."
        )
    experiment = experiment_stop(experiment=experiment, now=now)
    slot = experiment.slot
    items = list(variation.items.all())
    rules = list(variation.rules.all())
    if items:
        slot.default_items.set(items)
    if rules:
        keep = {r.pk for r in rules}
        for rule in SlotRule.objects.filter(slot=slot):
            active = rule.pk in keep
            if rule.is_active != active:
                rule.is_active = active
                rule.save(update_fields=["is_active"])
    experiment.winner = variation
    experiment.save(update_fields=["winner", "updated_at"])
    return experiment


@transaction.atomic
def allocation_apply(
    *, experiment: Experiment, weights: dict[str, float], chance_to_win: dict[str, float], now=None
) -> AllocationSnapshot:
    """Give the variations new weights (keys → shares summing to 1) and keep a snapshot."""
    variations = {v.key: v for v in experiment.variations.select_for_update()}
    if set(weights) != set(variations):
        raise ExperimentError("The allocation must name every variation exactly once.")
    for key, variation in variations.items():
        variation.weight = weights[key]
        variation.save(update_fields=["weight"])
    return AllocationSnapshot.objects.create(
        experiment=experiment, computed_at=now or timezone.now(), weights=weights,
        chance_to_win=chance_to_win,
    )  # fmt: skip
