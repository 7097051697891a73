"""Where experiments meet the decision engine, the page and the template tag.

`experiment_decision` is called by `personalization.decisions.decide()` once the visitor's
consent and attributes are known; it returns the decision of the visitor's variation, or None
to let the slot decide as usual. `experiment_force` lets staff QA a variation with
`?<experiment key>=<variation number>`. Exposures are only noted here, in the request, and
recorded when the response is done (`experiments.middleware`), then written in bulk.
Nothing here raises into a page: failures are logged and the usual content shows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from experiments import bucketing
from experiments.assignment import (
    ExperimentDefinition,
    VariationDefinition,
    experiment_definition,
    experiments_with_variations,
    running_experiments,
    variation_assign,
    visitor_exposures,
)
from experiments.models import Experiment
from personalization.decisions import engine  # a module import: decisions imports us too
from personalization.visitors.models import Visitor

logger = logging.getLogger(__name__)

# Set while a variation that shows the usual content asks decide() for it: no experiment then.
_usual_decision: ContextVar[bool] = ContextVar("tailor_usual_decision", default=False)
PENDING = "tailor_exposures"
Row = tuple[int, int, int]  # (visitor id, experiment id, variation id): an exposure to record


def _variation_decision(
    slot: engine.SlotDefinition,
    experiment: ExperimentDefinition,
    variation: VariationDefinition,
    visitor: Visitor | None,
    attributes: Mapping[str, Any],
    now: datetime,
    exposures: tuple[Row, ...],
) -> engine.Decision:
    tagged = {"experiment": experiment.key, "variation": variation.key, "exposures": exposures}
    if variation.shows_usual_content:
        token = _usual_decision.set(True)
        try:
            usual = engine.decide(slot.key, visitor, attributes=attributes, now=now)
        finally:
            _usual_decision.reset(token)
        return replace(usual, **tagged)
    if variation.item_ids:
        items = [experiment.items[i] for i in variation.item_ids]
        items = [i for i in items if slot.allowed(i, now)][: slot.max_items]
        if items:
            return engine.Decision(slot=slot.key, items=items, reason="experiment", **tagged)
    for rule in slot.rules:
        if rule.id not in variation.rule_ids:
            continue
        if not rule.active_at(now) or not rule.matches(attributes):
            continue
        items = engine._pick(slot, rule, visitor, attributes, now)
        if items and slot.cap and visitor is not None:
            capped = engine._capped(slot, visitor, items, now)
            items = [item for item in items if item.pk not in capped]
        if items:
            return engine.Decision(
                slot=slot.key, items=items, reason="experiment", rule_id=rule.id,
                rule_name=rule.name, segments=rule.segments, capped=bool(slot.cap), **tagged,
            )  # fmt: skip
    return engine.Decision(
        slot=slot.key, items=engine._defaults(slot, now), reason="experiment", **tagged
    )


def experiment_decision(
    slot: engine.SlotDefinition,
    visitor: Visitor,
    attributes: Mapping[str, Any],
    now: datetime,
) -> engine.Decision | None:
    """The decision of the visitor's variation (or holdout), or None: decide as usual."""
    if _usual_decision.get():
        return None
    try:
        running = running_experiments()
        exposures: tuple[Row, ...] = ()
        holdout = running.holdout
        if holdout is not None and holdout.live_at(now):
            arm = variation_assign(experiment=holdout, visitor=visitor, attributes=attributes)
            if arm is not None:
                exposures = _unrecorded(visitor, holdout, arm)
                if arm.is_control:
                    return engine.Decision(
                        slot=slot.key, items=engine._defaults(slot, now), reason="holdout",
                        experiment=holdout.key, variation=arm.key, exposures=exposures,
                    )  # fmt: skip
        for experiment in running.by_slot.get(slot.key, ()):
            if not experiment.live_at(now):
                continue
            variation = variation_assign(
                experiment=experiment, visitor=visitor, attributes=attributes
            )
            if variation is not None:
                return _variation_decision(
                    slot, experiment, variation, visitor, attributes, now,
                    (*exposures, *_unrecorded(visitor, experiment, variation)),
                )  # fmt: skip
        if exposures:  # first time in the holdout's personalized arm: the usual decision, counted
            token = _usual_decision.set(True)
            try:
                usual = engine.decide(slot.key, visitor, attributes=attributes, now=now)
            finally:
                _usual_decision.reset(token)
            return replace(usual, exposures=exposures)
        return None
    except Exception:  # the decision edge: the usual content rather than a broken page
        logger.exception(
            "Experiment assignment failed for slot %r and visitor %s", slot.key, visitor.pk
        )
        return None


def _request_attributes(request: HttpRequest) -> dict[str, Any] | None:
    # Imported here: personalization.request imports the decision engine, which imports us.
    from personalization.decisions.request import request_attributes

    return request_attributes(request)


def _staff_forced(request: HttpRequest | None) -> bool:
    # Query string first: reading request.user may cost a session lookup.
    if request is None or not request.GET:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def experiment_force(request: HttpRequest | None, decision: engine.Decision) -> engine.Decision:
    """Staff QA: `?<experiment key>=<variation number>` shows that variation, recording nothing.

    Works for draft and paused experiments too, so that a variation can be checked before it
    starts. Anyone else, or a parameter naming no variation, gets `decision` unchanged.
    """
    if not _staff_forced(request):
        return decision
    try:
        slot = engine.slot_definition(decision.slot)
        if slot is None:
            return decision
        candidates = experiments_with_variations().filter(
            slot__key=slot.key, key__in=list(request.GET.keys())
        )
        for experiment in candidates.exclude(status=Experiment.Status.STOPPED):
            definition = experiment_definition(experiment)
            index = bucketing.query_string_override(
                definition.key, request.get_full_path(), len(definition.variations)
            )
            if index is None:
                continue
            visitor = getattr(request, "visitor", None)
            attributes = _request_attributes(request) or {}
            variation = definition.variations[index]
            return _variation_decision(
                slot, definition, variation, visitor, attributes, timezone.now(), ()
            )
    except Exception:  # the page edge
        logger.exception("Could not force a variation of slot %r", decision.slot)
    return decision


def _unrecorded(
    visitor: Visitor, experiment: ExperimentDefinition, variation: VariationDefinition
) -> tuple[Row, ...]:
    """The exposure to record when this variation renders; none if the visitor has one."""
    if experiment.id in visitor_exposures(visitor):
        return ()
    return ((visitor.pk, experiment.id, variation.id),)


def exposures_note(request: HttpRequest | None, rows: Iterable[Row]) -> None:
    """Remember exposures of this response, to be recorded at its end."""
    if request is not None and rows:
        request.__dict__.setdefault(PENDING, set()).update(rows)


def request_in_holdout(request: HttpRequest | None) -> bool:
    """Whether the request's visitor is in the personalization holdout's control group.

    For personalized parts of a page that are not slots (recommendation rails, segment blocks):
    holdout visitors get none of them. Notes the holdout exposure either way; never raises.
    """
    try:
        holdout = running_experiments().holdout
        visitor = getattr(request, "visitor", None)
        if holdout is None or visitor is None or not holdout.live_at(timezone.now()):
            return False
        attributes = _request_attributes(request)
        if attributes is None:
            return False
        arm = variation_assign(experiment=holdout, visitor=visitor, attributes=attributes)
        if arm is None:
            return False
        exposures_note(request, _unrecorded(visitor, holdout, arm))
        return arm.is_control
    except Exception:  # the page edge: personalization as usual rather than a broken page
        logger.exception("Could not check the personalization holdout")
        return False


def visitor_holdout(visitor: Visitor) -> tuple[bool, tuple[Row, ...]]:
    """For callers without a page (the API): whether the visitor is in the holdout's control,
    and the exposure to record for it. Never raises: out of the holdout on any error."""
    try:
        holdout = running_experiments().holdout
        if holdout is None or not holdout.live_at(timezone.now()):
            return False, ()
        # Imported here: attributes import the decision engine, which imports this module.
        from personalization.decisions.attributes import visitor_attributes

        attributes = visitor_attributes(visitor, {})
        arm = variation_assign(experiment=holdout, visitor=visitor, attributes=attributes)
        if arm is None:
            return False, ()
        return arm.is_control, _unrecorded(visitor, holdout, arm)
    except Exception:  # the decision edge: personalization as usual rather than an error
        logger.exception("Could not check the personalization holdout for %s", visitor.pk)
        return False, ()


def template_variation(request: HttpRequest | None, key: str) -> str | None:
    """The variation key a template shows for experiment `key` (the control when not enrolled).

    None for an experiment that does not exist. The exposure is noted: the tag renders it.
    """
    running = running_experiments()
    experiment = running.by_key.get(key)
    control = running.control_keys.get(key)
    if request is None:
        return control
    if _staff_forced(request) and key in request.GET:
        forced = experiments_with_variations().filter(key=key).first()
        if forced is not None:
            definition = experiment_definition(forced)
            index = bucketing.query_string_override(
                key, request.get_full_path(), len(definition.variations)
            )
            if index is not None:
                return definition.variations[index].key
    if experiment is None or experiment.is_holdout or not experiment.live_at(timezone.now()):
        return control
    attributes = _request_attributes(request)
    visitor = getattr(request, "visitor", None)
    if attributes is None or visitor is None:
        return control  # no personalization consent: not enrolled
    now = timezone.now()
    holdout = running.holdout
    if holdout is not None and holdout.live_at(now):
        arm = variation_assign(experiment=holdout, visitor=visitor, attributes=attributes)
        if arm is not None:
            exposures_note(request, _unrecorded(visitor, holdout, arm))
            if arm.is_control:
                return control
    variation = variation_assign(experiment=experiment, visitor=visitor, attributes=attributes)
    if variation is None:
        return control
    exposures_note(request, _unrecorded(visitor, experiment, variation))
    return variation.key


__all__ = [
    "experiment_decision",
    "experiment_force",
    "exposures_note",
    "request_in_holdout",
    "template_variation",
    "visitor_exposures",
]
