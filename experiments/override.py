"""Experiments as a decision override: the personalization engine asks, experiments answer.

Registered from `ExperimentsConfig.ready()` into `personalization.decisions.registry`; the engine
never imports experiments. Each answer is plain data: the visitor's arm (experiment key,
variation key, the exposure to record the first time) and what the slot shows (the variation's
items, its rules, or the usual decision). Exposures are recorded only when what they chose is
shown, by whoever shows it (the page at the end of its response, the API, the email batch).
Assignment reads the visitor's exposures once per Visitor object and never writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from experiments.assignment import (
    ExperimentDefinition,
    VariationDefinition,
    experiment_definition,
    experiments_with_variations,
    exposures_prefetch,
    running_experiments,
    variation_assign,
    visitor_exposures,
)
from experiments.models import Experiment
from experiments.services import exposures_merge, exposures_record
from personalization.decisions import registry
from personalization.decisions.engine import SlotDefinition
from personalization.visitors.models import Visitor

NAME = "experiments"
Row = tuple[int, int, int]  # (visitor id, experiment id, variation id)


def _unrecorded(
    visitor: Visitor, experiment: ExperimentDefinition, variation: VariationDefinition
) -> tuple[Row, ...]:
    """The exposure to record when this variation is shown; none if the visitor has one."""
    if experiment.id in visitor_exposures(visitor):
        return ()
    return ((visitor.pk, experiment.id, variation.id),)


def _arm(
    experiment: ExperimentDefinition,
    variation: VariationDefinition,
    exposures: tuple[Row, ...] = (),
) -> registry.Arm:
    return registry.Arm(
        source=NAME, test=experiment.key, variation=variation.key, exposures=exposures,
        in_control=experiment.is_holdout and variation.is_control,
    )  # fmt: skip


def _shown(arm: registry.Arm, variation: VariationDefinition, experiment: ExperimentDefinition):
    if variation.shows_usual_content:
        return registry.Override(arm=arm, shows=registry.USUAL)
    return registry.Override(
        arm=arm,
        shows=registry.ITEMS if variation.item_ids else registry.RULES,
        items=tuple(experiment.items[i] for i in variation.item_ids),
        rule_ids=variation.rule_ids,
    )


def _forced_variation(
    experiment: ExperimentDefinition, forced: Mapping[str, int]
) -> VariationDefinition | None:
    index = forced.get(experiment.key)
    if index is None or not 0 <= index < len(experiment.variations):
        return None
    return experiment.variations[index]


def _forceable(
    keys: Iterable[str], *, stopped_too: bool = False, **filters: Any
) -> list[ExperimentDefinition]:
    """Experiments staff may force: drafts and paused ones too, stopped ones for templates."""
    found = experiments_with_variations().filter(key__in=list(keys), **filters)
    if not stopped_too:
        found = found.exclude(status=Experiment.Status.STOPPED)
    return [experiment_definition(experiment) for experiment in found]


class ExperimentsOverride:
    """Slot experiments, template experiments and the personalization holdout."""

    name = NAME

    def holdout(
        self, *, visitor: Visitor, attributes: Mapping[str, Any], now: datetime
    ) -> registry.Arm | None:
        holdout = running_experiments().holdout
        if holdout is None or not holdout.live_at(now):
            return None
        arm = variation_assign(experiment=holdout, visitor=visitor, attributes=attributes)
        if arm is None:
            return None
        return _arm(holdout, arm, _unrecorded(visitor, holdout, arm))

    def slot(
        self,
        *,
        slot: SlotDefinition,
        visitor: Visitor,
        attributes: Mapping[str, Any],
        forced: Mapping[str, int],
        now: datetime,
    ) -> registry.Override | None:
        for experiment in running_experiments().by_slot.get(slot.key, ()):
            if not experiment.live_at(now):
                continue
            variation = variation_assign(
                experiment=experiment, visitor=visitor, attributes=attributes
            )
            if variation is not None:
                arm = _arm(experiment, variation, _unrecorded(visitor, experiment, variation))
                return _shown(arm, variation, experiment)
        return None

    def forced_slot(
        self, *, slot: SlotDefinition, forced: Mapping[str, int], now: datetime
    ) -> registry.Override | None:
        for experiment in _forceable(forced, slot__key=slot.key):
            variation = _forced_variation(experiment, forced)
            if variation is not None:
                return _shown(_arm(experiment, variation), variation, experiment)
        return None

    def variation(
        self,
        *,
        key: str,
        visitor: Visitor | None,
        attributes: Mapping[str, Any] | None,
        forced: Mapping[str, int],
        holdout: registry.Arm | None,
        now: datetime,
    ) -> registry.Arm | None:
        if key in forced:
            for experiment in _forceable([key], stopped_too=True):
                variation = _forced_variation(experiment, forced)
                if variation is not None:
                    return _arm(experiment, variation)
        running = running_experiments()
        experiment = running.by_key.get(key)
        if experiment is None or experiment.is_holdout or not experiment.live_at(now):
            return None
        if attributes is None or visitor is None:
            return None  # no personalization consent: not enrolled
        control = running.control_keys.get(key, "")
        held = holdout.exposures if holdout is not None else ()
        if holdout is not None and holdout.in_control:
            return registry.Arm(source=NAME, test=key, variation=control, exposures=held)
        variation = variation_assign(experiment=experiment, visitor=visitor, attributes=attributes)
        if variation is None:
            return registry.Arm(source=NAME, test=key, variation=control, exposures=held)
        return _arm(experiment, variation, (*held, *_unrecorded(visitor, experiment, variation)))

    def control(self, key: str) -> str | None:
        return running_experiments().control_keys.get(key)

    def prefetch(self, visitors: Iterable[Visitor]) -> None:
        exposures_prefetch(visitors)

    def record(self, rows: Iterable[Row]) -> None:
        exposures_record(rows=rows)


def exposures_follow_merge(*, source_id: int, target_id: int) -> None:
    """On a profile merge: the variations seen before login stay with the person."""
    exposures_merge(source=Visitor(pk=source_id), target=Visitor(pk=target_id))
