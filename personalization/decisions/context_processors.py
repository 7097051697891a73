"""The `tailor` template context: the visitor and, when a template asks, their segments."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from personalization.decisions.request import request_state


def _segments(request: HttpRequest) -> frozenset[str]:
    # The attribute dict's `segments` answers `in` lazily; a template wants a plain set.
    attributes = request_state(request).attributes
    return frozenset(attributes["segments"]) if attributes is not None else frozenset()


def tailor(request: HttpRequest) -> dict[str, Any]:
    """`{{ tailor.visitor }}`; `{{ tailor.segments }}` computed when a template reads it."""
    return {
        "tailor": {
            "visitor": getattr(request, "visitor", None),
            "segments": SimpleLazyObject(lambda: _segments(request)),
        }
    }
