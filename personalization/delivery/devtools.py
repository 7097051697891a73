"""The developer toolbar (DEBUG only): view the site as a demo visitor, see why slots chose.

`?tailor_as=demo-3` on any page shows the site as the demo visitor `demo-3` until
`?tailor_as=` (empty) ends it; the choice is kept in a cookie meanwhile. Only visitors whose
external id starts with `demo-` can be viewed, and only with DEBUG on. Nothing is recorded
while viewing as someone: no page view, no impression, no visitor cookie.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from personalization.decisions.request import request_state
from personalization.visitors.models import Visitor

VIEW_AS = "tailor_as"  # the query parameter and the cookie
DEMO_PREFIX = "demo-"
LISTED = 200


def view_as_requested(request: HttpRequest) -> str:
    """The demo visitor the developer views the site as ('' for none); always '' without DEBUG."""
    if not settings.DEBUG:
        return ""
    wanted = request.GET.get(VIEW_AS, request.COOKIES.get(VIEW_AS, ""))
    return wanted.strip() if wanted.strip().startswith(DEMO_PREFIX) else ""


def view_as_visitor(external_id: str) -> Visitor | None:
    """The demo visitor to show the site as, with features (what decisions read)."""
    return (
        Visitor.objects.filter(external_id=external_id, merged_into__isnull=True)
        .select_related("features")
        .first()
    )


def view_as_remember(request: HttpRequest, response: HttpResponse) -> None:
    """Keep (or forget) the choice made with the query parameter for the next pages."""
    if not settings.DEBUG or VIEW_AS not in request.GET:
        return
    chosen = view_as_requested(request)
    if chosen:
        response.set_cookie(VIEW_AS, chosen, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(VIEW_AS, samesite="Lax")


def toolbar_context(request: HttpRequest) -> dict[str, Any]:
    """What the toolbar shows: who the page is for, their segments, and each slot's decision."""
    state = request_state(request)
    attributes = state.attributes
    decisions = [
        {
            "slot": decision.slot,
            "reason": decision.reason,
            "why": decision.explain(),
            "items": [item.external_id or str(item.pk) for item in decision.items],
        }
        for decision in state.decisions
    ]
    return {
        "visitor": state.visitor,
        "viewing_as": state.viewing_as,
        "segments": sorted(attributes["segments"]) if attributes is not None else [],
        "personalized": attributes is not None,
        "decisions": decisions,
        "demo_visitors": list(
            Visitor.objects.filter(external_id__startswith=DEMO_PREFIX, merged_into__isnull=True)
            .order_by("pk")
            .values_list("external_id", flat=True)[:LISTED]
        ),
        "param": VIEW_AS,
    }
