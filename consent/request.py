"""Consent of one browser request: its visitor's records, else its consent cookie, else defaults.

`consent.selectors.allows(visitor, purpose)` answers for a visitor profile. A request may have
no profile yet keep a choice in the consent cookie (everything refused: no profile is kept),
and may carry `Sec-GPC: 1` (Global Privacy Control), which always refuses marketing. Code that
has a request asks `request_allows(request, purpose)`; code that has only a visitor (tasks,
machine clients) keeps asking `allows`.

`request_consent_record` is the one write here: the banner's choice, on the visitor when one is
kept, and the outcome the API turns into cookies.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest

from consent.cookies import consent_from_cookie
from consent.models import ConsentRecord, Purpose
from consent.purposes import ANALYTICS, MARKETING, PERSONALIZATION
from consent.registry import subject_resolver
from consent.selectors import (
    consent_state,
    default_state,
    policy_current_version,
    policy_fresh_since,
    purposes,
)
from consent.services import consent_record

# Purposes whose data needs the visitor cookie: without either, a browser is not identified.
IDENTIFYING = (ANALYTICS, PERSONALIZATION)


def gpc_enabled(request: HttpRequest) -> bool:
    """Whether the request carries the Global Privacy Control signal (`Sec-GPC: 1`)."""
    return request.META.get("HTTP_SEC_GPC", "").strip() == "1"


def request_consent_state(request: HttpRequest) -> dict[str, bool]:
    """Purpose key → allowed for this request."""
    visitor: Model | None = getattr(request, "visitor", None)
    if visitor is not None:
        state = dict(consent_state(visitor))
    else:
        all_purposes = purposes()
        state = default_state(all_purposes)
        optional = {p.key for p in all_purposes if not p.is_required}
        stored = consent_from_cookie(request) or {}
        state.update({key: granted for key, granted in stored.items() if key in optional})
    if MARKETING in state and gpc_enabled(request):
        state[MARKETING] = False
    return state


def request_allows(request: HttpRequest, purpose: str) -> bool:
    """Whether this request allows `purpose`; an unknown purpose is never allowed."""
    return request_consent_state(request).get(purpose, False)


def visitor_decided_purposes(visitor: Model) -> set[str]:
    """Keys of the purposes the visitor has decided about under the policy that counts now."""
    records = ConsentRecord.objects.filter(visitor=visitor)
    fresh_since = policy_fresh_since()
    if fresh_since:
        records = records.filter(policy__version__gte=fresh_since)
    return set(records.values_list("purpose__key", flat=True).distinct())


def request_consent_decided(
    request: HttpRequest, all_purposes: list[Purpose] | None = None
) -> bool:
    """Whether the browser has answered about every optional purpose (else the banner asks)."""
    if all_purposes is None:
        all_purposes = purposes()
    pending = {p.key for p in all_purposes if not p.is_required}
    if gpc_enabled(request):
        pending.discard(MARKETING)  # the browser's signal has answered for marketing
    stored = consent_from_cookie(request)
    if stored is not None and pending <= set(stored):
        return True
    visitor: Model | None = getattr(request, "visitor", None)
    return visitor is not None and pending <= visitor_decided_purposes(visitor)


def consent_summary(
    *, all_purposes: list[Purpose], state: Mapping[str, bool], decided: bool, gpc: bool
) -> dict[str, Any]:
    """The consent state as the API and the banner show it."""
    policy = policy_current_version()
    return {
        "mode": settings.TAILOR_CONSENT_MODE,
        "policy_version": policy,
        "decided": decided,
        "gpc": gpc,
        "purposes": [
            {
                "key": p.key,
                "name": p.name,
                "description": p.description,
                "required": p.is_required,
                "granted": p.is_required or bool(state.get(p.key, False)),
            }
            for p in all_purposes
        ],
    }


def request_consent_summary(request: HttpRequest) -> dict[str, Any]:
    """The request's consent state, whether it has been decided, and the purposes it covers."""
    all_purposes = purposes()
    return consent_summary(
        all_purposes=all_purposes,
        state=request_consent_state(request),
        decided=request_consent_decided(request, all_purposes),
        gpc=gpc_enabled(request),
    )


@dataclass(frozen=True)
class BrowserChoice:
    """The outcome of a banner choice, for the response to carry."""

    state: dict[str, bool]  # optional purpose key → allowed, from now on
    visitor: Model | None
    forget_visitor: bool  # nothing allowed needs the visitor cookie any more: delete it
    summary: dict[str, Any]


def request_consent_record(*, request: HttpRequest, choices: Mapping[str, bool]) -> BrowserChoice:
    """Apply a browser's choice (purpose key → granted; required purposes are ignored)."""
    # A profile (and so the visitor cookie) is created only for a purpose that needs one:
    # analytics or personalization, or any purpose for a logged-in user, whom the login
    # identifies. A choice without a profile is kept only in the consent cookie (the API sets
    # it); a visitor left with neither analytics nor personalization loses the visitor cookie.
    all_purposes = purposes()
    optional = [p.key for p in all_purposes if not p.is_required]
    gpc = gpc_enabled(request)
    choices = {key: bool(granted) for key, granted in choices.items() if key in optional}
    if gpc:
        choices.pop(MARKETING, None)  # the browser's signal decides marketing, not the banner
    before = request_consent_state(request)
    state = {key: before.get(key, False) for key in optional} | choices
    identifying = any(state.get(key, False) for key in IDENTIFYING)
    user = getattr(request, "user", None)
    logged_in = bool(user is not None and user.is_authenticated)
    visitor: Model | None = getattr(request, "visitor", None)
    if visitor is None and (identifying or (logged_in and any(state.values()))):
        visitor = subject_resolver().for_request(request)
    if visitor is not None and choices:
        consent_record(visitor=visitor, choices=choices, source="banner", request=request)
    forget = visitor is not None and not identifying
    if forget:
        page = getattr(request, "tailor", None)  # the page's personalization state, if any
        if page is not None:
            page.set_cookie = False
    summary = consent_summary(all_purposes=all_purposes, state=state, decided=True, gpc=gpc)
    return BrowserChoice(state=state, visitor=visitor, forget_visitor=forget, summary=summary)
