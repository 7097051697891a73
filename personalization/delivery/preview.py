"""Preview the site as a real visitor, as a segment, or with chosen request facts; record nothing.

Staff with the permission `personalization.preview_visitor` choose on the admin's preview page
(`preview_views`) a visitor (by id or email: that also needs `view_visitor`, as it shows a
profile), a segment (a made-up member: `decisions.preview`), or request facts (device, country,
campaign), which go with either. The choice is kept in the staff member's session, only ever
set by a POST with Django's CSRF check — a link cannot start a preview for anyone — and is
checked against the permissions again on every page. Pages then render as that visitor would see
them, with the preview toolbar saying why each slot chose what it chose, and nothing is
recorded: no page view, impression, exposure, visitor, cookie or consent (`RequestState.records`).
API calls and form posts are never previewed: they act as the staff member.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from config.errors import ApplicationError
from personalization.decisions.preview import made_up_visitor
from personalization.decisions.request import RequestState, request_state
from personalization.segments.models import Segment
from personalization.visitors.selectors import visitor_find, visitor_resolve

PERMISSION = "personalization.preview_visitor"
VIEW_VISITORS = "personalization.view_visitor"
SESSION_KEY = "tailor_preview"
PROBLEM_KEY = "tailor_preview_problem"
DEVICES = ("desktop", "mobile", "tablet")
FACTS = ("device", "country", "utm_source", "utm_medium", "utm_campaign")
MAX_FACT_LENGTH = 200


class PreviewError(ApplicationError):
    pass


@dataclass(frozen=True)
class Preview:
    """What a page is previewed as, for the toolbar."""

    kind: str  # "visitor", "segment" or "facts"
    label: str  # "visitor crm-42", "a member of VIP customers (vip)", "a new visitor"
    facts: dict[str, str] = field(default_factory=dict)
    matches: bool = True  # a made-up member satisfies their segment's condition
    picked: dict[str, Any] = field(default_factory=dict)  # …with these values


def may_preview(user: Any) -> bool:
    """Active staff holding the preview permission (superusers hold every permission)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(PERMISSION)
    )


def may_preview_visitors(user: Any) -> bool:
    """May preview as a real visitor: a profile is personal data, so viewing visitors too."""
    return may_preview(user) and user.has_perm(VIEW_VISITORS)


def _facts_clean(data: Mapping[str, Any]) -> dict[str, str]:
    facts = {}
    for name in FACTS:
        value = str(data.get(name, "") or "").strip()
        if not value:
            continue
        if len(value) > MAX_FACT_LENGTH:
            raise PreviewError(f"{name}: at most {MAX_FACT_LENGTH} characters.")
        if name == "device" and value not in DEVICES:
            raise PreviewError(f"device: one of {', '.join(DEVICES)}, not {value!r}.")
        if name == "country":
            value = value.upper()
            if len(value) != 2 or not value.isalpha() or not value.isascii():
                raise PreviewError(f"country: a two-letter code such as DE, not {value!r}.")
        facts[name] = value
    return facts


def preview_choice(*, user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """The preview asked for in a form, checked, as it is kept in the session.

    `{"visitor": id}` or `{"segment": key}` or neither, with `"facts"`; raises PreviewError
    naming the field that is wrong.
    """
    facts = _facts_clean(data)
    identifier = str(data.get("visitor", "") or "").strip()
    key = str(data.get("segment", "") or "").strip()
    if identifier and key:
        raise PreviewError("Choose a visitor or a segment, not both.")
    if identifier:
        if not may_preview_visitors(user):
            raise PreviewError("visitor: you need the permission to view visitors.")
        visitor = visitor_find(identifier)
        if visitor is None:
            raise PreviewError(f"visitor: no visitor has the id or email {identifier!r}.")
        return {"visitor": visitor.identifier, "facts": facts}
    if key:
        if not Segment.objects.filter(key=key).exists():
            raise PreviewError(f"segment: no segment has the key {key!r}.")
        return {"segment": key, "facts": facts}
    return {"facts": facts}


def preview_requested(request: HttpRequest) -> dict[str, Any] | None:
    """The preview kept in the session, for a page (GET/HEAD) of staff who may still preview."""
    if request.method not in ("GET", "HEAD") or request.path.startswith("/api/"):
        return None
    session = getattr(request, "session", None)
    if session is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None  # no session: visitors of the site never cost a session lookup here
    choice = session.get(SESSION_KEY)
    if not isinstance(choice, dict):
        return None
    user = getattr(request, "user", None)
    allowed = may_preview_visitors(user) if "visitor" in choice else may_preview(user)
    return choice if allowed else None


def _context(state: RequestState, facts: Mapping[str, str]) -> dict[str, Any]:
    context = dict(state.context)
    context.update(facts)
    if "device" in facts:
        context["is_bot"] = False
    return context


def preview_apply(state: RequestState, choice: Mapping[str, Any]) -> bool:
    """Show the request as the chosen visitor sees it; False when they no longer exist."""
    facts = dict(choice.get("facts") or {})
    context = _context(state, facts)
    # The staff member's Global Privacy Control signal is theirs, not the visitor's: without
    # it, consent's GPC middleware records no withdrawal for the previewed visitor.
    state.request.META.pop("HTTP_SEC_GPC", None)
    if "visitor" in choice:
        visitor = visitor_resolve(str(choice["visitor"]))
        if visitor is None:
            return False
        preview = Preview("visitor", f"visitor {visitor.identifier}", facts)
        state.preview_start(preview, visitor=visitor, context=context)
        return True
    segment = None
    if "segment" in choice:
        segment = Segment.objects.filter(key=str(choice["segment"])).first()
        if segment is None:
            return False
    made = made_up_visitor(segment=segment, context=context, facts=facts)
    if segment is not None:
        preview = Preview(
            "segment", f"a member of {segment.name} ({segment.key})", facts,
            matches=made.matches, picked=made.picked,
        )  # fmt: skip
    else:
        preview = Preview("facts", "a new visitor who allows personalization", facts)
    state.preview_start(preview, visitor=made.visitor, context=context, attributes=made.attributes)
    return True


def toolbar_context(request: HttpRequest) -> dict[str, Any]:
    """What the toolbar shows: what the page is previewed as, and each slot's decision."""
    state = request_state(request)
    attributes = state.attributes
    decisions = [
        {
            "slot": decision.slot,
            "reason": decision.reason,
            "why": decision.explain(),
            "items": [item.title for item in decision.items],
        }
        for decision in state.decisions
    ]
    return {
        "preview": state.preview,
        "segments": sorted(attributes["segments"]) if attributes is not None else [],
        "personalized": attributes is not None,
        "decisions": decisions,
        "problem": request.session.pop(PROBLEM_KEY, "") if hasattr(request, "session") else "",
    }
