"""JSON views behind the admin's condition builder: the attribute list and "test against a visitor".

Mounted under `/admin/tailor/` (before the admin's own URLs), staff only, and answering JSON
even when refusing, because the builder calls them with `fetch`. Each view also asks for the
model permission of what it shows, as the admin's own pages would: the catalogue to anyone who
may see a targeting condition, a visitor's attributes to those who may view visitors. The test
view is a POST (it reads a visitor's profile, which is personal data) and Django's CSRF check
applies.
"""

import datetime
import decimal
import json
import math
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

import pycountry
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from consent.purposes import PERSONALIZATION
from consent.selectors import allows
from content.models import ContentKind, Tag
from personalization.decisions.attributes import visitor_attributes
from personalization.rules import validate_condition
from personalization.rules.explain import explain_condition
from personalization.segments.models import Segment
from personalization.visitors.selectors import visitor_resolve

app_name = "tailor_admin"

# The request context an editor may fill in to test a rule that reads the request.
CONTEXT_FIELDS = ("device", "utm_source", "country")
MAX_CONDITION_LENGTH = 100_000


# Models whose rows hold a targeting condition: viewing any of them is reason to read the catalogue.
CONDITION_HOLDERS = ("content.view_slotrule", "personalization.view_segment")
VIEW_VISITORS = "personalization.view_visitor"
# Attributes whose values come from a list the builder offers with search (`values_json`).
VALUE_LISTS = {
    "country": "country",
    "traits.country": "country",
    "favourite_kinds": "kind",
    "affinity.<tag>": "tag",
}
LISTED_VALUES = 50


def _staff_with(
    *any_of: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Active staff holding at least one of `any_of` (a superuser holds them all)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not (user.is_authenticated and user.is_active and user.is_staff):
                return _error("Only staff members can use this.", status=403)
            if not any(user.has_perm(permission) for permission in any_of):
                needed = " or ".join(any_of)
                return _error(f"You need the permission {needed} to use this.", status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def catalogue_rows() -> list[dict[str, Any]]:
    """The attribute catalogue as plain rows for the builder; empty when there is none yet."""
    try:
        from personalization.rules.catalogue import ATTRIBUTES
    except ImportError:
        return []
    return [
        {
            "name": attribute.name,
            "type": attribute.type,
            "source": attribute.source,
            "description": attribute.description,
            "example": json_safe(attribute.example),
            "live": attribute.live,
            "choices": list(getattr(attribute, "choices", ()) or ()),
            "items": getattr(attribute, "items", None),
            "values": VALUE_LISTS.get(attribute.name, ""),
        }
        for attribute in ATTRIBUTES
    ]


def _catalogue_issues(condition: Any) -> tuple[list[str], list[str]]:
    """Type errors and unknown-attribute warnings from the catalogue, when there is one."""
    try:
        from personalization.rules.catalogue import catalogue_check
    except ImportError:
        return [], []
    errors, warnings = catalogue_check(condition)
    return [str(issue) for issue in errors], [str(issue) for issue in warnings]


def json_safe(value: Any) -> Any:
    """The value as JSON can carry it: sets and lazy containers become sorted lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, Iterable):
        # A set, or the lazy container of segment keys: order it so the output is stable.
        items = [json_safe(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return str(value)


@require_GET
@_staff_with(*CONDITION_HOLDERS)
def attributes_json(request: HttpRequest) -> JsonResponse:
    """Every attribute a condition can read, for the builder's attribute picker."""
    rows = catalogue_rows()
    return JsonResponse({"catalogue": bool(rows), "attributes": rows})


def _segment_values(query: str) -> list[dict[str, str]]:
    rows = Segment.objects.filter(Q(key__icontains=query) | Q(name__icontains=query))
    return [{"value": key, "label": name} for key, name in rows.values_list("key", "name")]


def _tag_values(query: str) -> list[dict[str, str]]:
    rows = Tag.objects.filter(Q(slug__icontains=query) | Q(name__icontains=query))
    return [{"value": slug, "label": name} for slug, name in rows.values_list("slug", "name")]


def _kind_values(query: str) -> list[dict[str, str]]:
    rows = ContentKind.objects.filter(Q(key__icontains=query) | Q(name__icontains=query))
    return [{"value": key, "label": name} for key, name in rows.values_list("key", "name")]


def _country_values(query: str) -> list[dict[str, str]]:
    wanted = query.casefold()
    return [
        {"value": country.alpha_2, "label": country.name}
        for country in pycountry.countries
        if wanted in country.alpha_2.casefold() or wanted in country.name.casefold()
    ]


VALUE_SOURCES: dict[str, Callable[[str], list[dict[str, str]]]] = {
    "segment": _segment_values,
    "tag": _tag_values,
    "kind": _kind_values,
    "country": _country_values,
}


@require_GET
@_staff_with(*CONDITION_HOLDERS)
def values_json(request: HttpRequest) -> JsonResponse:
    """Values of one list (segments, tags, kinds, countries) matching `q`, for the pickers."""
    source = request.GET.get("source", "")
    if source not in VALUE_SOURCES:
        return _error(f"source must be one of: {', '.join(sorted(VALUE_SOURCES))}.")
    query = request.GET.get("q", "").strip()[:100]
    return JsonResponse({"source": source, "values": VALUE_SOURCES[source](query)[:LISTED_VALUES]})


@require_POST
@_staff_with(VIEW_VISITORS)
def condition_test(request: HttpRequest) -> JsonResponse:
    """Evaluate a condition for one visitor: their attributes and which part failed."""
    text = request.POST.get("condition", "")
    identifier = request.POST.get("visitor", "").strip()
    if len(text) > MAX_CONDITION_LENGTH:
        return _error("The condition is too long to test.")
    try:
        condition = json.loads(text or "{}")
    except ValueError as error:
        return _error(f"The condition is not valid JSON: {error}")
    if not identifier:
        return _error("Enter a visitor id (an external id or a cookie id).")
    visitor = visitor_resolve(identifier)
    if visitor is None:
        return _error(f"No visitor with the id {identifier!r}.", status=404)
    context = {
        name: request.POST[name].strip() for name in CONTEXT_FIELDS if request.POST.get(name)
    }
    if "country" in context:
        context["country"] = context["country"].upper()
    attributes = visitor_attributes(visitor, context)
    errors, warnings = _catalogue_issues(condition)
    explanation = explain_condition(condition, attributes)
    return JsonResponse(
        {
            "visitor": visitor.identifier,
            "context": context,
            "matched": explanation["matched"],
            "first_failure": explanation["first_failure"],
            "explanation": json_safe(explanation["tree"]),
            "attributes": json_safe(attributes),
            "issues": [str(issue) for issue in validate_condition(condition)] + errors,
            "warnings": warnings,
            "personalization_allowed": allows(visitor, PERSONALIZATION),
        }
    )


urlpatterns = [
    path("attributes.json", attributes_json, name="attributes"),
    path("condition-test/", condition_test, name="condition_test"),
    path("values.json", values_json, name="values"),
]
