"""The `tailor` template context: the visitor, their segments when a template asks, the preview."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from personalization.decisions.request import request_state


def _segments(request: HttpRequest) -> frozenset[str]:
    # The attribute dict's `segments` answers `in` lazily; a template wants a plain set.
    attributes = request_state(request).attributes
    return frozenset(attributes["segments"]) if attributes is not None else frozenset()


def tailor(request: HttpRequest) -> dict[str, Any]:
    """`{{ tailor.visitor }}`; `{{ tailor.segments }}` computed when a template reads it;
    `{{ tailor.preview }}` what a staff preview shows the page as (None when there is none)."""
    state = getattr(request, "tailor", None)
    return {
        "tailor": {
            "visitor": getattr(request, "visitor", None),
            "preview": state.preview if state is not None else None,
            "segments": SimpleLazyObject(lambda: _segments(request)),
        }
    }
