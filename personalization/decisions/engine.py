"""The decision engine: for a slot and a visitor, which items to show and why.

`decide()` is the hot path of every personalized page and email block. Slot definitions —
rules with compiled conditions, the items they name, the defaults — are cached per process
and per content version (`content.cache`), so a decision for a slot of chosen items costs no
query beyond the visitor's features and segments. It never raises: any failure is logged and
the slot's default content is returned, so a page never breaks because personalization did.
"""

import hashlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from time import perf_counter
from typing import Any

from django.utils import timezone

from config import metrics
from consent.purposes import PERSONALIZATION
from consent.selectors import allows
from content.cache import content_version
from content.models import ContentItem, Slot, SlotRule
from personalization.decisions import registry
from personalization.decisions.attributes import visitor_attributes
from personalization.decisions.candidates import newest_tagged
from personalization.decisions.caps import capped_items
from personalization.recommendations.serving import CANDIDATE_LIMIT, recommended_iter
from personalization.rules import compile_condition, condition_segment_keys
from personalization.visitors.models import Visitor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """What a slot shows to one visitor, and why."""

    slot: str
    items: list[ContentItem]
    reason: str  # rule, segment, experiment, holdout, default, no_consent, unknown_slot, error
    rule_id: int | None = None
    rule_name: str = ""
    segments: tuple[str, ...] = ()
    capped: bool = False  # the slot has a frequency cap: showing these items counts
    experiment: str = ""  # the experiment (or holdout) key when one chose these items
    variation: str = ""  # …and the visitor's variation in it
    # Exposures to record if these items are shown, and the override they belong to
    exposures: tuple[tuple[int, int, int], ...] = ()
    source: str = ""

    @property
    def is_default(self) -> bool:
        return self.reason not in {"rule", "segment", "experiment"}

    def explain(self) -> str:
        """One sentence for people: why these items."""
        if self.reason == "segment":
            return f"rule '{self.rule_name}' matched (segments {', '.join(self.segments)})"
        if self.reason == "rule":
            return f"rule '{self.rule_name}' matched"
        if self.reason == "experiment":
            return f"experiment '{self.experiment}': variation '{self.variation}'"
        return {
            "default": "no rule matched: default content",
            "no_consent": "no personalization consent: default content",
            "unknown_slot": "no slot with this key",
            "error": "personalization failed: default content (see the log)",
            "holdout": "personalization holdout: default content",
        }.get(self.reason, self.reason)


@dataclass(frozen=True)
class RuleDefinition:
    id: int
    name: str
    strategy: str
    matches: Callable[[Mapping[str, Any]], bool]
    segments: tuple[str, ...]
    item_ids: tuple[int, ...]
    tag_slugs: tuple[str, ...]
    kind_keys: frozenset[str]
    active_from: datetime | None
    active_until: datetime | None

    def active_at(self, now: datetime) -> bool:
        return (self.active_from is None or self.active_from <= now) and (
            self.active_until is None or self.active_until > now
        )


@dataclass(frozen=True)
class SlotDefinition:
    key: str
    max_items: int
    rotation: str
    allowed_kinds: frozenset[str]
    default_ids: tuple[int, ...]
    rules: tuple[RuleDefinition, ...]
    items: dict[int, ContentItem] = field(repr=False)
    cap: int | None = None  # at most this many impressions of an item to a visitor…
    cap_days: int | None = None  # …within this many days

    def allowed(self, item: ContentItem, now: datetime) -> bool:
        return item.is_live(now) and (not self.allowed_kinds or item.kind.key in self.allowed_kinds)


_definitions: dict[str, tuple[int, SlotDefinition | None]] = {}


def _load(key: str) -> SlotDefinition | None:
    slot = (
        Slot.objects.filter(key=key)
        .prefetch_related("allowed_kinds", "default_items__kind", "rules__items__kind",
                          "rules__tags", "rules__kinds")
        .first()
    )  # fmt: skip
    if slot is None:
        return None
    items: dict[int, ContentItem] = {i.pk: i for i in slot.default_items.all()}
    rules = []
    for rule in sorted(slot.rules.all(), key=lambda r: (r.position, r.pk)):
        if not rule.is_active:
            continue
        rule_items = sorted(rule.items.all(), key=lambda i: (-i.priority, i.pk))
        items.update((i.pk, i) for i in rule_items)
        rules.append(
            RuleDefinition(
                id=rule.pk, name=str(rule), strategy=rule.strategy,
                matches=compile_condition(rule.condition or {}),
                segments=tuple(sorted(condition_segment_keys(rule.condition or {}))),
                item_ids=tuple(i.pk for i in rule_items),
                tag_slugs=tuple(t.slug for t in rule.tags.all()),
                kind_keys=frozenset(k.key for k in rule.kinds.all()),
                active_from=rule.active_from, active_until=rule.active_until,
            )
        )  # fmt: skip
    defaults = sorted(slot.default_items.all(), key=lambda i: (-i.priority, i.pk))
    return SlotDefinition(
        key=slot.key, max_items=slot.max_items, rotation=slot.rotation,
        allowed_kinds=frozenset(k.key for k in slot.allowed_kinds.all()),
        default_ids=tuple(i.pk for i in defaults), rules=tuple(rules), items=items,
        cap=slot.frequency_cap, cap_days=slot.frequency_cap_days,
    )  # fmt: skip


def slot_definition(key: str) -> SlotDefinition | None:
    """The slot's cached definition (None for an unknown key), reloaded when content changes."""
    version = content_version()
    cached = _definitions.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    definition = _load(key)
    _definitions[key] = (version, definition)
    return definition


def _rotate(items: list[ContentItem], rotation: str, visitor: Visitor | None, now: datetime):
    if rotation == Slot.Rotation.NEWEST:
        return sorted(items, key=lambda i: i.publish_at or i.created_at, reverse=True)
    if rotation == Slot.Rotation.RANDOM:
        # Stable for one visitor during one day, different across visitors and days.
        seed = f"{visitor.pk if visitor else 0}:{now.date()}"
        rng = random.Random(hashlib.sha256(seed.encode()).digest())  # noqa: S311 - not security
        shuffled = list(items)
        rng.shuffle(shuffled)
        return shuffled
    return items  # priority: already ordered by priority


def _defaults(slot: SlotDefinition, now: datetime) -> list[ContentItem]:
    items = [slot.items[i] for i in slot.default_ids if slot.allowed(slot.items[i], now)]
    return items[: slot.max_items]


def _pick(
    slot: SlotDefinition, rule: RuleDefinition, visitor, attributes, now
) -> list[ContentItem]:
    if rule.strategy == SlotRule.Strategy.ITEMS:
        items = [slot.items[i] for i in rule.item_ids]
    elif rule.strategy == SlotRule.Strategy.NEWEST_TAGGED:
        allowed = (i for i in newest_tagged(rule.tag_slugs, now) if slot.allowed(i, now))
        return list(islice(allowed, slot.max_items))
    else:
        items = recommended_iter(
            visitor=visitor, affinity=attributes.get("affinity") or {},
            kinds=rule.kind_keys or slot.allowed_kinds, tag_slugs=rule.tag_slugs, now=now,
        )  # fmt: skip
        allowed = (i for i in islice(items, CANDIDATE_LIMIT) if slot.allowed(i, now))
        return list(islice(allowed, slot.max_items))
    items = [i for i in items if slot.allowed(i, now)]
    return _rotate(items, slot.rotation, visitor, now)[: slot.max_items]


def _first_rule(
    slot: SlotDefinition,
    visitor: Visitor | None,
    attributes: Mapping[str, Any],
    now: datetime,
    only: frozenset[int] | None = None,
) -> Decision | None:
    """The decision of the first active, matching rule with items to show (of `only`, if given)."""
    for rule in slot.rules:
        if only is not None and rule.id not in only:
            continue
        if not rule.active_at(now) or not rule.matches(attributes):
            continue
        items = _pick(slot, rule, visitor, attributes, now)
        if items and slot.cap and visitor is not None:
            capped = capped_items(
                visitor, (item.pk for item in items), cap=slot.cap, days=slot.cap_days, now=now
            )
            items = [item for item in items if item.pk not in capped]
        if items:
            return Decision(
                slot=slot.key, items=items, reason="segment" if rule.segments else "rule",
                rule_id=rule.id, rule_name=rule.name, segments=rule.segments,
                capped=bool(slot.cap),
            )  # fmt: skip
    return None


def _usual(
    slot: SlotDefinition, visitor: Visitor | None, attributes: Mapping[str, Any], now: datetime
) -> Decision:
    return _first_rule(slot, visitor, attributes, now) or Decision(
        slot=slot.key, items=_defaults(slot, now), reason="default"
    )


def _overridden(
    slot: SlotDefinition,
    override: registry.Override,
    visitor: Visitor | None,
    attributes: Mapping[str, Any],
    now: datetime,
) -> Decision:
    """Apply an override: its items, else its rules, else the default; or the usual decision."""
    arm = override.arm
    tagged = {"experiment": arm.test, "variation": arm.variation, "exposures": arm.exposures,
              "source": arm.source}  # fmt: skip
    if override.shows == registry.USUAL:
        return replace(_usual(slot, visitor, attributes, now), **tagged)
    items = [i for i in override.items if slot.allowed(i, now)][: slot.max_items]
    if items:
        return Decision(slot=slot.key, items=items, reason="experiment", **tagged)
    if override.rule_ids:
        chosen = _first_rule(slot, visitor, attributes, now, only=override.rule_ids)
        if chosen is not None:
            return replace(chosen, reason="experiment", **tagged)
    return Decision(slot=slot.key, items=_defaults(slot, now), reason="experiment", **tagged)


def _guarded(what: str, slot: SlotDefinition, visitor: Visitor | None, call: Callable[[], Any]):
    """An override's answer, or None when it fails: the slot then decides as usual."""
    try:
        return call()
    except Exception:  # an override's failure must not cost the slot its content
        logger.exception("%s failed for slot %r and visitor %s", what, slot.key,
                         getattr(visitor, "pk", None))  # fmt: skip
        return None


def visitor_holdout(visitor: Visitor, now: datetime | None = None) -> registry.Arm | None:
    """For callers without a page (the API): the visitor's holdout arm, or None.

    Never raises: out of the holdout on any error, so that personalization goes on as usual.
    """
    try:
        attributes = visitor_attributes(visitor, {})
        return registry.holdout_assign(
            visitor=visitor, attributes=attributes, now=now or timezone.now()
        )
    except Exception:  # the decision edge: personalization as usual rather than an error
        logger.exception("Could not check the personalization holdout for %s", visitor.pk)
        return None


_ASSIGN = object()  # decide() assigns the holdout arm itself


def decide(
    slot_key: str,
    visitor: Visitor | None,
    context: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
    attributes: Mapping[str, Any] | None = None,
    forced: Mapping[str, int] | None = None,
    holdout: Any = _ASSIGN,
) -> Decision:
    """Choose a slot's items for a visitor: an override, else the first matching rule, else the
    default. Never raises: on any failure the slot's default content, with reason "error".

    `attributes` carry the consent state they were built with (a request's may be stricter than
    the visitor's records: Global Privacy Control, the consent cookie). `forced` are the
    variations staff force from the query string (parsed at the edge); `holdout` the visitor's
    holdout arm when the caller has assigned it already (once per request).

    Every decision is counted by slot and reason and timed (`config.metrics`); decisions for
    slots that do not exist are counted under the slot "unknown", so that callers cannot grow
    the metrics' labels.
    """
    started = perf_counter()
    decision = _decision(slot_key, visitor, context, now, attributes, forced, holdout)
    slot = decision.slot if decision.reason != "unknown_slot" else "unknown"
    metrics.decision_observed(slot, decision.reason, perf_counter() - started)
    return decision


def _decision(slot_key, visitor, context, now, attributes, forced, holdout) -> Decision:
    now = now or timezone.now()
    try:
        slot = slot_definition(slot_key)
    except Exception:  # the decision edge: log, never raise
        logger.exception("Could not load slot %r", slot_key)
        return Decision(slot=slot_key, items=[], reason="error")
    if slot is None:
        return Decision(slot=slot_key, items=[], reason="unknown_slot")
    try:
        return _decide(slot, visitor, context, now, attributes, forced or {}, holdout)
    except Exception:  # the decision edge: log, never raise
        logger.exception(
            "Decision failed for slot %r and visitor %s", slot_key, getattr(visitor, "pk", None)
        )
        return Decision(slot=slot.key, items=_defaults(slot, now), reason="error")


def _decide(slot, visitor, context, now, attributes, forced, holdout) -> Decision:
    if forced:
        chosen = _guarded(
            "Forcing a variation",
            slot,
            visitor,
            lambda: registry.forced_override(slot=slot, forced=forced, now=now),
        )
        if chosen is not None:  # staff QA: shown whoever the visitor is, recorded nowhere
            return _overridden(slot, chosen, visitor, attributes or {}, now)
    allowed = (
        attributes["consent"].get(PERSONALIZATION, False)
        if attributes is not None
        else visitor is not None and allows(visitor, PERSONALIZATION)
    )
    if visitor is None or not allowed:
        return Decision(slot=slot.key, items=_defaults(slot, now), reason="no_consent")
    if attributes is None:
        attributes = visitor_attributes(visitor, context)
    if holdout is _ASSIGN:
        holdout = _guarded("The holdout", slot, visitor, lambda: registry.holdout_assign(
            visitor=visitor, attributes=attributes, now=now))  # fmt: skip
    if holdout is not None and holdout.in_control:
        return Decision(
            slot=slot.key, items=_defaults(slot, now), reason="holdout", experiment=holdout.test,
            variation=holdout.variation, exposures=holdout.exposures, source=holdout.source,
        )  # fmt: skip
    override = _guarded("An experiment", slot, visitor, lambda: registry.slot_override(
        slot=slot, visitor=visitor, attributes=attributes, forced=forced, now=now))  # fmt: skip
    if override is not None:
        decision = _overridden(slot, override, visitor, attributes, now)
    else:
        decision = _usual(slot, visitor, attributes, now)
    if holdout is not None and holdout.exposures:  # first time in the holdout: counted
        decision = replace(
            decision, exposures=(*holdout.exposures, *decision.exposures), source=holdout.source
        )
    return decision
