"""Decision overrides: how a higher layer changes what slots show without the engine importing it.

Experiments (and the personalization holdout) are such an override. The app that owns one
registers it from its `AppConfig.ready()`::

    from personalization.decisions import registry
    registry.override_register(ExperimentsOverride())

The engine hands an override plain data — the slot's definition, the visitor, the attribute
dict, the variations staff force from the query string — and applies the plain data it returns
(`Override`: items, rules, the usual decision or the default, with the arm and the exposures to
record) in its one rule loop. Exposures ride on the decision; the page, the API or the email
batch that shows it hands them back here to be written (`exposures_record`), once.

Overrides answer in the order they were registered; the first that answers wins. With none
registered, every function here answers "no override" and slots decide as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # the engine imports this module: no import of it at run time
    from personalization.decisions.engine import SlotDefinition

__all__ = [
    "DEFAULT",
    "ITEMS",
    "RULES",
    "USUAL",
    "Arm",
    "DecisionOverride",
    "Override",
    "control_key",
    "exposures_record",
    "holdout_assign",
    "override_register",
    "overrides",
    "overrides_clear",
    "overrides_prefetch",
    "slot_override",
    "template_variation",
]

Row = tuple[int, int, int]  # an exposure to record, in the override's own terms

# What an override tells the engine to show.
ITEMS = "items"  # these items (when none is allowed in the slot: the slot's default)
RULES = "rules"  # the first of these rules of the slot that matches, else the default
USUAL = "usual"  # what the slot shows without the override
DEFAULT = "default"  # the slot's default content


@dataclass(frozen=True)
class Arm:
    """A visitor's place in a test: the test, the variation, and exposures to record."""

    source: str  # the override's name: whose exposures these are
    test: str  # the experiment (or holdout) key
    variation: str
    exposures: tuple[Row, ...] = ()
    in_control: bool = False  # for a holdout: its control sees everyone's default content


@dataclass(frozen=True)
class Override:
    """What a slot shows instead of deciding as usual, and why."""

    arm: Arm
    shows: str  # ITEMS, RULES, USUAL or DEFAULT
    items: tuple[Any, ...] = ()  # content items, for ITEMS
    rule_ids: frozenset[int] = field(default_factory=frozenset)  # for RULES


class DecisionOverride(Protocol):
    """What an override answers. Every method gets and returns plain data, and may raise:
    the engine and the page edges catch, log and decide as usual."""

    name: str

    def holdout(self, *, visitor: Any, attributes: Mapping[str, Any], now: datetime) -> Arm | None:
        """The visitor's arm in a holdout from all personalization, or None."""

    def slot(
        self,
        *,
        slot: SlotDefinition,
        visitor: Any,
        attributes: Mapping[str, Any],
        forced: Mapping[str, int],
        now: datetime,
    ) -> Override | None:
        """What `slot` shows this visitor instead of deciding as usual, or None."""

    def forced_slot(
        self, *, slot: SlotDefinition, forced: Mapping[str, int], now: datetime
    ) -> Override | None:
        """A variation staff force on `slot` (drafts too), whoever the visitor; records nothing."""

    def variation(
        self,
        *,
        key: str,
        visitor: Any,
        attributes: Mapping[str, Any] | None,
        forced: Mapping[str, int],
        holdout: Arm | None,
        now: datetime,
    ) -> Arm | None:
        """The visitor's arm in the test `key` a template asks about (None: not enrolled)."""

    def control(self, key: str) -> str | None:
        """The variation everyone not enrolled in test `key` sees; None: no such test."""

    def prefetch(self, visitors: Iterable[Any]) -> None:
        """Load what deciding for many visitors needs, in a fixed number of queries."""

    def record(self, rows: Iterable[Row]) -> None:
        """Store exposures (idempotent per visitor and test)."""


_overrides: dict[str, DecisionOverride] = {}


def override_register(override: DecisionOverride) -> None:
    """Register an override (from `AppConfig.ready()`); registering the same name replaces it."""
    name = getattr(override, "name", "")
    if not name:
        raise ImproperlyConfigured(f"{override!r}: a decision override needs a name")
    _overrides[name] = override


def overrides() -> tuple[DecisionOverride, ...]:
    return tuple(_overrides.values())


def overrides_clear() -> None:
    """Forget every override (tests of the engine alone)."""
    _overrides.clear()


def holdout_assign(*, visitor: Any, attributes: Mapping[str, Any], now: datetime) -> Arm | None:
    """The visitor's holdout arm from the first override that has one."""
    for override in _overrides.values():
        arm = override.holdout(visitor=visitor, attributes=attributes, now=now)
        if arm is not None:
            return arm
    return None


def slot_override(
    *,
    slot: SlotDefinition,
    visitor: Any,
    attributes: Mapping[str, Any],
    forced: Mapping[str, int],
    now: datetime,
) -> Override | None:
    for override in _overrides.values():
        chosen = override.slot(
            slot=slot, visitor=visitor, attributes=attributes, forced=forced, now=now
        )
        if chosen is not None:
            return chosen
    return None


def forced_override(
    *, slot: SlotDefinition, forced: Mapping[str, int], now: datetime
) -> Override | None:
    for override in _overrides.values():
        chosen = override.forced_slot(slot=slot, forced=forced, now=now)
        if chosen is not None:
            return chosen
    return None


def template_variation(
    *,
    key: str,
    visitor: Any,
    attributes: Mapping[str, Any] | None,
    forced: Mapping[str, int],
    holdout: Arm | None,
    now: datetime,
) -> Arm | None:
    for override in _overrides.values():
        arm = override.variation(
            key=key, visitor=visitor, attributes=attributes, forced=forced, holdout=holdout,
            now=now,
        )  # fmt: skip
        if arm is not None:
            return arm
    return None


def control_key(key: str) -> str | None:
    for override in _overrides.values():
        control = override.control(key)
        if control is not None:
            return control
    return None


def overrides_prefetch(visitors: Iterable[Any]) -> None:
    visitors = list(visitors)
    for override in _overrides.values():
        override.prefetch(visitors)


def exposures_record(exposures: Mapping[str, Iterable[Row]]) -> None:
    """Hand each override the exposures it made (source name → rows)."""
    for source, rows in exposures.items():
        rows = list(rows)
        if rows and source in _overrides:
            _overrides[source].record(rows)
