"""The personal-data registry: which models hold a visitor's data, how to export and erase them.

Each app declares its models in `<app>/privacy.py` (found on first use), for example::

    registry.register(
        "personalization.Event", path="visitor", erase=registry.DELETE,
        purposes=("analytics",), retention_field="occurred_at",
    )

`path` is the lookup from the model to `personalization.Visitor` ("" for Visitor itself). Export
and erasure (`consent.gdpr`) and retention walk the declarations, so a model registered here is
exported, erased and expired without more code. References to visitors or users that are not the
subject's data (an editor's authorship, say) are declared with `exempt()` and a reason.
`tests/consent/test_registry.py` fails when a model refers to a visitor or a user and is neither.

Visitor profiles belong to the app above consent that owns `VISITOR`. Consent finds them through
the subject resolver that app registers from its `AppConfig.ready()`::

    registry.subject_resolver_register(
        resolve=visitor_resolve, merged_ids=visitor_ids_merged_into,
        for_request=visitor_for_request, for_external_id=visitor_for_external_id,
    )
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.module_loading import autodiscover_modules

DELETE = "delete"
ANONYMIZE = "anonymize"
VISITOR = "personalization.Visitor"
# Erasure runs in `order`: dependants first, the Visitor rows (which hold the link) last.
DEFAULT_ORDER = 100


@dataclass(frozen=True)
class Subject:
    """A data subject: a visitor with the profiles merged into it, and its user account."""

    visitor_ids: tuple[int, ...]
    user_ids: tuple[int, ...] = ()
    # Visitor pk → salted hash of that visitor's id: pseudonymous proof kept after erasure.
    visitor_hashes: Mapping[int, str] = field(default_factory=dict)
    # Salted hashes of every external id and cookie id of the subject (finds requests about it).
    hashes: tuple[str, ...] = ()
    # The plain ids, for export metadata only: never stored by erasure.
    identifiers: tuple[str, ...] = ()

    def as_plan(self) -> dict[str, Any]:
        """JSON to resume an erasure with: pks and hashes, no identifier."""
        return {
            "visitor_ids": list(self.visitor_ids),
            "user_ids": list(self.user_ids),
            "visitor_hashes": {str(k): v for k, v in self.visitor_hashes.items()},
            "hashes": list(self.hashes),
        }

    @classmethod
    def from_plan(cls, plan: Mapping[str, Any]) -> "Subject":
        return cls(
            visitor_ids=tuple(plan["visitor_ids"]),
            user_ids=tuple(plan["user_ids"]),
            visitor_hashes={int(k): v for k, v in plan["visitor_hashes"].items()},
            hashes=tuple(plan["hashes"]),
        )


SubjectFilter = Callable[[Subject], Q]
Eraser = Callable[[QuerySet, Subject], int]
# Deletes the rows older than a cutoff its own way (e.g. dropping whole partitions); returns
# how many went. Retention calls it instead of deleting the rows in batches.
Expirer = Callable[[datetime], int]


@dataclass(frozen=True)
class PersonalData:
    """How one model's rows of a subject are found, exported and erased."""

    label: str  # "app_label.ModelName"
    path: str  # lookup from the model to personalization.Visitor; "" for Visitor itself
    erase: str = DELETE  # DELETE or ANONYMIZE
    # ANONYMIZE: field → the value it gets; `eraser` instead for anything a mapping cannot say.
    anonymize: Mapping[str, Any] = field(default_factory=dict)
    eraser: Eraser | None = None
    # Export: these fields (default: every concrete field but `exclude`), plus name → lookup.
    fields: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    exported: bool = True
    # Finds the rows when `path` cannot (a generic relation, rows kept by hash, …).
    subject_filter: SubjectFilter | None = None
    # Fields referring to a visitor or a user that this declaration accounts for.
    covers: tuple[str, ...] = ()
    order: int = DEFAULT_ORDER
    # Retention: data kept for these purposes expires by this timestamp field.
    purposes: tuple[str, ...] = ()
    retention_field: str = ""
    expirer: Expirer | None = None
    description: str = ""

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def covered_fields(self) -> set[str]:
        first = self.path.split("__", 1)[0]
        return set(self.covers) | ({first} if first else set())

    def queryset(self, subject: Subject) -> QuerySet:
        """The subject's rows of this model."""
        manager = self.model._base_manager
        if self.subject_filter is not None:
            return manager.filter(self.subject_filter(subject))
        lookup = f"{self.path}__in" if self.path else "pk__in"
        return manager.filter(**{lookup: subject.visitor_ids})

    def export_fields(self) -> list[str]:
        if self.fields is not None:
            return list(self.fields)
        concrete = self.model._meta.concrete_fields
        return [f.attname for f in concrete if f.name not in self.exclude]

    def export_rows(self, subject: Subject, *, chunk_size: int = 2000) -> Iterable[dict]:
        """The subject's rows as dicts of plain values, streamed in chunks."""
        queryset = self.queryset(subject).order_by("pk")
        expressions = {name: models.F(lookup) for name, lookup in self.extra.items()}
        return queryset.values(*self.export_fields(), **expressions).iterator(chunk_size)

    def check(self) -> None:
        """Raise ImproperlyConfigured when the declaration does not fit its model."""
        try:
            model = self.model
        except LookupError as exc:
            raise ImproperlyConfigured(f"privacy registry: no model {self.label}") from exc
        if self.erase not in (DELETE, ANONYMIZE):
            raise ImproperlyConfigured(f"{self.label}: erase must be {DELETE!r} or {ANONYMIZE!r}")
        if self.erase == ANONYMIZE and not (self.anonymize or self.eraser):
            raise ImproperlyConfigured(f"{self.label}: anonymize needs fields or an eraser")
        if self.subject_filter is None and _path_target(model, self.path) != apps.get_model(
            VISITOR
        ):
            raise ImproperlyConfigured(f"{self.label}: path {self.path!r} does not reach Visitor")
        names = [*self.covers, *self.anonymize, *self.exclude, *(self.fields or ())]
        if self.retention_field:
            names.append(self.retention_field)
        known = {n for f in model._meta.get_fields() for n in (f.name, getattr(f, "attname", ""))}
        for name in names:
            if name.split("__", 1)[0] not in known:
                raise ImproperlyConfigured(f"{self.label}: no field {name!r}")


@dataclass(frozen=True)
class Exemption:
    """A reference to a visitor or user that is not the subject's personal data, and why."""

    field: str  # "app_label.ModelName.field"
    reason: str


@dataclass(frozen=True)
class SubjectResolver:
    """How consent finds visitor profiles, which only the app that owns them knows how to."""

    # An external id or cookie id → its visitor (the survivor when it was merged), or None.
    resolve: Callable[[str], models.Model | None]
    # Visitor pks → the pks of the profiles merged directly into any of them.
    merged_ids: Callable[[Collection[int]], Iterable[int]]
    # A browser's request → its visitor, created (and its cookie set) when it has none yet.
    for_request: Callable[[HttpRequest], models.Model]
    # A new external id → its visitor, created; an ApplicationError when it cannot be one.
    # None: consent never creates visitors (a machine client may only name existing ones).
    for_external_id: Callable[[str], models.Model] | None = None


_declarations: dict[str, PersonalData] = {}
_exemptions: dict[str, Exemption] = {}
_cache_keys: list[Callable[[Subject], Iterable[str]]] = []
_consent_cache_keys: list[Callable[[Collection[int]], Iterable[str]]] = []
_subject_resolver: SubjectResolver | None = None
_discovered = False


def register(label: str, **options: Any) -> PersonalData:
    """Declare a model holding personal data (see PersonalData for the options)."""
    declaration = PersonalData(label=label, **options)
    _declarations[label.lower()] = declaration
    return declaration


def exempt(field_label: str, reason: str) -> Exemption:
    """Declare that a model's reference to a visitor or user is not the subject's data."""
    if not reason.strip():
        raise ImproperlyConfigured(f"exempting {field_label} needs a reason")
    exemption = Exemption(field=field_label, reason=reason)
    _exemptions[field_label.lower()] = exemption
    return exemption


def register_cache_keys(keys: Callable[[Subject], Iterable[str]]) -> None:
    """Declare cache entries that hold a subject's data; erasure deletes them."""
    if keys not in _cache_keys:
        _cache_keys.append(keys)


def register_consent_cache_keys(keys: Callable[[Collection[int]], Iterable[str]]) -> None:
    """Declare cache entries built under visitors' consent (visitor ids → keys): every change
    of a visitor's consent deletes theirs, as it deletes the cached consent state."""
    if keys not in _consent_cache_keys:
        _consent_cache_keys.append(keys)


def subject_resolver_register(
    *,
    resolve: Callable[[str], models.Model | None],
    merged_ids: Callable[[Collection[int]], Iterable[int]],
    for_request: Callable[[HttpRequest], models.Model],
    for_external_id: Callable[[str], models.Model] | None = None,
) -> SubjectResolver:
    """Declare how visitors are found; the app owning `VISITOR` calls it from `ready()`."""
    global _subject_resolver
    _subject_resolver = SubjectResolver(
        resolve=resolve, merged_ids=merged_ids, for_request=for_request,
        for_external_id=for_external_id,
    )  # fmt: skip
    return _subject_resolver


def subject_resolver() -> SubjectResolver:
    """The registered resolver: without one consent cannot name a subject, so it says so."""
    if _subject_resolver is None:
        raise ImproperlyConfigured(
            f"consent has no subject resolver: the app owning {VISITOR} must call "
            "consent.registry.subject_resolver_register() from its AppConfig.ready()"
        )
    return _subject_resolver


def autodiscover() -> None:
    """Import every app's `privacy` module once, then check the declarations."""
    global _discovered
    if _discovered:
        return
    autodiscover_modules("privacy")
    for declaration in _declarations.values():
        declaration.check()
    _discovered = True


def declarations() -> list[PersonalData]:
    """Every declaration, in erasure order."""
    autodiscover()
    return sorted(_declarations.values(), key=lambda d: (d.order, d.label))


def declaration(label: str) -> PersonalData:
    autodiscover()
    return _declarations[label.lower()]


def exemptions() -> dict[str, Exemption]:
    autodiscover()
    return dict(_exemptions)


def cache_keys(subject: Subject) -> list[str]:
    autodiscover()
    return [key for keys in _cache_keys for key in keys(subject)]


def consent_cache_keys(visitor_ids: Collection[int]) -> list[str]:
    """The cache keys that a change of these visitors' consent makes stale, their state's too."""
    autodiscover()
    return [key for keys in _consent_cache_keys for key in keys(visitor_ids)]


def json_value(value: Any) -> Any:
    """`json.dumps` default: times as ISO 8601, decimals as text, UUIDs as text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _path_target(model: type[models.Model], path: str) -> type[models.Model] | None:
    """The model a lookup path from `model` ends at (`model` itself for "")."""
    for part in filter(None, path.split("__")):
        try:
            relation = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if relation.related_model is None:
            return None
        model = relation.related_model
    return model
