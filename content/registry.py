"""What the apps above content plug into it: the condition language of slot rules, and demo data.

Content sits below personalization, which owns the targeting condition language, and below
every app with demo data of its own. Those apps register here from their `AppConfig.ready()`::

    registry.condition_validator_register(validate_condition)
    registry.condition_widget_register(ConditionWidget)
    registry.condition_summarizer_register(condition_summary)
    registry.demo_seeder_register("visitors", visitors_seed, order=200)

A slot rule cannot be checked, nor its condition edited, without a registered validator and
widget: using them before an app registered one raises ImproperlyConfigured rather than saving
conditions nobody checked.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "ConditionValidator",
    "DemoOptions",
    "DemoSeeder",
    "condition_errors",
    "condition_summarizer_register",
    "condition_summary",
    "condition_validator_register",
    "condition_widget",
    "condition_widget_register",
    "demo_seeder_register",
    "demo_seeders",
]

# A condition → its problems, each shown to editors as `str(problem)`; empty when it is valid.
ConditionValidator = Callable[[Any], Sequence[object]]

_condition_validators: list[ConditionValidator] = []
_condition_widget: type[forms.Widget] | None = None


def condition_validator_register(validator: ConditionValidator) -> None:
    """Add a check of slot-rule conditions; checks run in the order they were registered."""
    if validator not in _condition_validators:
        _condition_validators.append(validator)


def condition_errors(condition: Any) -> list[str]:
    """The editor-facing problems of a condition; [] when it is valid.

    Only the first check that finds problems speaks: a later check (attributes the catalogue does
    not know, say) may assume the condition is well formed, which an earlier one made sure of.
    """
    if not _condition_validators:
        raise ImproperlyConfigured(
            "content has no condition validator: the app owning the condition language must "
            "call content.registry.condition_validator_register() from its AppConfig.ready()"
        )
    for validator in _condition_validators:
        problems = validator(condition)
        if problems:
            return [str(problem) for problem in problems]
    return []


def condition_widget_register(widget: type[forms.Widget]) -> None:
    """Declare the form widget editors write slot-rule conditions with."""
    global _condition_widget
    _condition_widget = widget


def condition_widget() -> type[forms.Widget]:
    """The registered condition widget; asked when a form is built, after every app is ready."""
    if _condition_widget is None:
        raise ImproperlyConfigured(
            "content has no condition widget: the app owning the condition language must call "
            "content.registry.condition_widget_register() from its AppConfig.ready()"
        )
    return _condition_widget


_condition_summarizer: Callable[[Any], str] | None = None


def condition_summarizer_register(summarizer: Callable[[Any], str]) -> None:
    """Declare how a condition reads in plain words (rule lists and names made from them)."""
    global _condition_summarizer
    _condition_summarizer = summarizer


def condition_summary(condition: Any) -> str:
    """The condition in plain words, by the registered summarizer."""
    if _condition_summarizer is None:
        raise ImproperlyConfigured(
            "content has no condition summarizer: the app owning the condition language must "
            "call content.registry.condition_summarizer_register() from its AppConfig.ready()"
        )
    return _condition_summarizer(condition)


@dataclass(frozen=True)
class DemoOptions:
    """What `seed_demo` was asked for, and where a seeder reports what it did."""

    visitors: int  # demo visitors demo-1 … demo-N
    seed: int  # the same seed gives the same data
    write: Callable[[str], None]  # one line of output for the operator


@dataclass(frozen=True)
class DemoSeeder:
    """One app's demo data: created or refreshed by `seed`, idempotently."""

    name: str
    seed: Callable[[DemoOptions], None]
    # Seeders run by ascending order: later ones build on the data of earlier ones.
    order: int


_demo_seeders: dict[str, DemoSeeder] = {}


def demo_seeder_register(
    name: str, seed: Callable[[DemoOptions], None], *, order: int
) -> DemoSeeder:
    """Declare an app's demo data for `seed_demo`; registering a name again replaces it."""
    seeder = DemoSeeder(name=name, seed=seed, order=order)
    _demo_seeders[name] = seeder
    return seeder


def demo_seeders() -> list[DemoSeeder]:
    """Every registered seeder, in the order `seed_demo` runs them."""
    return sorted(_demo_seeders.values(), key=lambda s: (s.order, s.name))
