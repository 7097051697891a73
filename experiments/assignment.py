"""Which variation a visitor gets: GrowthBook's bucketing over running experiments, cached.

Running experiments are loaded once per process and per version (experiments and content,
see `experiments.cache`), so an assignment costs no query beyond the visitor's exposures.

Which id is hashed: the visitor's cookie id (`Visitor.uid`), which every request carries, so
the variation is the same in every session without storing anything. A profile merge on login
keeps the known profile, whose uid hashes differently; stickiness across the merge comes from
the exposures instead: the merge moves the anonymous profile's exposures to the known profile
(`exposures_merge`), and an exposure, once recorded, decides the variation from then on. An
exposure also keeps a visitor's variation when a bandit later changes the weights. Reading
the exposures is one indexed query per request and only for a visitor of a slot that runs an
experiment; assignment itself never writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from content.cache import content_version
from content.models import ContentItem
from experiments import bucketing
from experiments.cache import experiments_version
from experiments.models import Experiment, Exposure, Variation
from personalization.rules import compile_condition
from personalization.visitors.models import Visitor

logger = logging.getLogger(__name__)

# Where a visitor's exposures are memoized: on the Visitor instance of the request (or batch).
EXPOSURES_MEMO = "_tailor_exposures"


@dataclass(frozen=True)
class VariationDefinition:
    id: int
    key: str
    position: int
    is_control: bool
    item_ids: tuple[int, ...]
    rule_ids: frozenset[int]

    @property
    def shows_usual_content(self) -> bool:
        """Neither items nor rules: the slot decides as it would without the experiment."""
        return not self.item_ids and not self.rule_ids


@dataclass(frozen=True)
class ExperimentDefinition:
    id: int
    key: str
    slot_key: str | None
    is_holdout: bool
    seed: str
    hash_version: int
    coverage: float
    weights: tuple[float, ...]
    namespace: tuple[str, float, float] | None
    matches: Callable[[Mapping[str, Any]], bool]
    start_at: datetime | None
    end_at: datetime | None
    variations: tuple[VariationDefinition, ...]
    items: dict[int, ContentItem] = field(repr=False)

    def live_at(self, now: datetime) -> bool:
        return (self.start_at is None or self.start_at <= now) and (
            self.end_at is None or self.end_at > now
        )

    @property
    def control(self) -> VariationDefinition:
        return next((v for v in self.variations if v.is_control), self.variations[0])

    def variation_by_id(self, variation_id: int) -> VariationDefinition | None:
        return next((v for v in self.variations if v.id == variation_id), None)


@dataclass(frozen=True)
class RunningExperiments:
    by_slot: dict[str, tuple[ExperimentDefinition, ...]]
    by_key: dict[str, ExperimentDefinition]
    holdout: ExperimentDefinition | None
    control_keys: dict[str, str]  # every experiment's control, running or not (template tag)


def experiment_definition(experiment: Experiment) -> ExperimentDefinition:
    """The cacheable definition of an experiment loaded with its variations and their items."""
    variations = sorted(experiment.variations.all(), key=lambda v: v.position)
    items: dict[int, ContentItem] = {}
    definitions = []
    for variation in variations:
        chosen = sorted(variation.items.all(), key=lambda i: (-i.priority, i.pk))
        items.update((i.pk, i) for i in chosen)
        definitions.append(
            VariationDefinition(
                id=variation.pk, key=variation.key, position=variation.position,
                is_control=variation.is_control, item_ids=tuple(i.pk for i in chosen),
                rule_ids=frozenset(r.pk for r in variation.rules.all()),
            )
        )  # fmt: skip
    namespace = (
        (experiment.namespace, experiment.namespace_start, experiment.namespace_end)
        if experiment.namespace
        else None
    )
    return ExperimentDefinition(
        id=experiment.pk, key=experiment.key,
        slot_key=experiment.slot.key if experiment.slot_id else None,
        is_holdout=experiment.is_holdout, seed=experiment.seed or experiment.key,
        hash_version=experiment.hash_version, coverage=experiment.coverage,
        weights=tuple(v.weight for v in variations), namespace=namespace,
        matches=compile_condition(experiment.condition or {}),
        start_at=experiment.start_at, end_at=experiment.end_at,
        variations=tuple(definitions), items=items,
    )  # fmt: skip


def experiments_with_variations():
    """Experiments with everything a definition needs, in three queries."""
    return Experiment.objects.select_related("slot").prefetch_related(
        Prefetch(
            "variations",
            queryset=Variation.objects.prefetch_related("items__kind", "rules").order_by(
                "position"
            ),
        )
    )


def _load() -> RunningExperiments:
    by_slot: dict[str, list[ExperimentDefinition]] = {}
    by_key: dict[str, ExperimentDefinition] = {}
    holdout = None
    running = experiments_with_variations().filter(status=Experiment.Status.RUNNING)
    for experiment in running.order_by("created_at", "pk"):
        definition = experiment_definition(experiment)
        if len(definition.variations) < 2:
            continue  # nothing to compare: GrowthBook skips it too
        by_key[definition.key] = definition
        if definition.is_holdout:
            holdout = holdout or definition
        elif definition.slot_key:
            by_slot.setdefault(definition.slot_key, []).append(definition)
    controls: dict[str, str] = {}
    # Reversed so that the control (else the first position) is written last and wins.
    for key, variation in Variation.objects.order_by(
        "experiment_id", "is_control", "-position"
    ).values_list("experiment__key", "key"):
        controls[key] = variation
    return RunningExperiments(
        by_slot={k: tuple(v) for k, v in by_slot.items()}, by_key=by_key, holdout=holdout,
        control_keys=controls,
    )  # fmt: skip


_cache: dict[str, tuple[tuple[int, int], RunningExperiments]] = {}


def running_experiments() -> RunningExperiments:
    """The running experiments, reloaded when experiments or content change."""
    version = (experiments_version(), content_version())
    cached = _cache.get("running")
    if cached is not None and cached[0] == version:
        return cached[1]
    loaded = _load()
    _cache["running"] = (version, loaded)
    return loaded


def visitor_exposures(visitor: Visitor) -> dict[int, int]:
    """Experiment id → variation id the visitor was exposed to; read once per Visitor object."""
    memo = visitor.__dict__.get(EXPOSURES_MEMO)
    if memo is None:
        memo = dict(
            Exposure.objects.filter(visitor_id=visitor.pk).values_list(
                "experiment_id", "variation_id"
            )
        )
        visitor.__dict__[EXPOSURES_MEMO] = memo
    return memo


def hash_assign(experiment: ExperimentDefinition, hash_value: str) -> VariationDefinition | None:
    """The variation GrowthBook's bucketing gives this id, or None (coverage, namespace)."""
    result = bucketing.assign(
        key=experiment.key, hash_value=hash_value, num_variations=len(experiment.variations),
        seed=experiment.seed, hash_version=experiment.hash_version,
        coverage=experiment.coverage, weights=list(experiment.weights),
        namespace=experiment.namespace,
    )  # fmt: skip
    return experiment.variations[result.variation] if result.in_experiment else None


def variation_assign(
    *, experiment: ExperimentDefinition, visitor: Visitor, attributes: Mapping[str, Any]
) -> VariationDefinition | None:
    """The visitor's variation: None when targeting excludes them; an earlier exposure sticks."""
    if not experiment.matches(attributes):
        return None
    seen = visitor_exposures(visitor).get(experiment.id)
    if seen is not None:
        sticky = experiment.variation_by_id(seen)
        if sticky is not None:
            return sticky
    return hash_assign(experiment, str(visitor.uid))


def exposures_prefetch(visitors: Iterable[Visitor]) -> None:
    """Fill the exposures memo of many visitors in one query (batch decisions stay flat)."""
    visitors = [v for v in visitors if EXPOSURES_MEMO not in v.__dict__]
    running = running_experiments()
    if not visitors:
        return
    memos: dict[int, dict[int, int]] = {v.pk: {} for v in visitors}
    if running.by_key:
        rows = Exposure.objects.filter(
            visitor_id__in=list(memos), experiment_id__in=[e.id for e in running.by_key.values()]
        ).values_list("visitor_id", "experiment_id", "variation_id")
        for visitor_id, experiment_id, variation_id in rows:
            memos[visitor_id][experiment_id] = variation_id
    for visitor in visitors:
        visitor.__dict__[EXPOSURES_MEMO] = memos[visitor.pk]
