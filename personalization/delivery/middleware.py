"""Identify the visitor, give the request its personalization state, write what the page showed."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from consent.purposes import ANALYTICS
from consent.request import request_allows
from personalization.decisions.request import RequestState
from personalization.decisions.snapshot import snapshot_identify
from personalization.delivery.preview import (
    PROBLEM_KEY,
    SESSION_KEY,
    preview_apply,
    preview_requested,
)
from personalization.visitors.selectors import COOKIE_SALT
from personalization.visitors.services import (
    page_view_record,
    visitor_cookie_forget,
    visitor_for_request,
)

logger = logging.getLogger(__name__)

# Paths that are never personalized nor tracked.
EXCLUDED_PREFIXES = (
    "/static/",
    "/admin/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/schema",
    "/api/v1/docs",
)


class VisitorMiddleware:
    """Puts `request.visitor` (or None) and `request.tailor` (a `RequestState`) on every request.

    When the response is done it writes, once and in bulk, what the page showed: the page view
    (only for a visitor who allows analytics, never for bots), impressions and exposures. The
    visitor cookie is set only when a profile is kept: without consent nothing is stored and no
    cookie is set. A staff preview shows the page as someone else sees it and writes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.visitor = None
        if request.path.startswith(EXCLUDED_PREFIXES):
            return self.get_response(request)
        state = request.tailor = RequestState(request)
        try:
            if not self._previewed(request, state):
                identified, state.read = snapshot_identify(request)
                request.visitor = identified.visitor
                if identified.cookie_refused:
                    visitor_cookie_forget(request)
        except DatabaseError:
            logger.exception("Could not identify the visitor; serving without personalization")
        response = self.get_response(request)
        if not state.records:
            return response  # a staff preview: nothing is recorded, no cookie is set
        if self._is_page_view(request, response):
            self._record_page_view(request, state)
        try:
            state.flush()
        except DatabaseError:  # tracking must never break a page
            logger.exception("Could not record what %s showed", request.path)
        if state.set_cookie and request.visitor is not None:
            response.set_signed_cookie(
                settings.TAILOR_VISITOR_COOKIE, str(request.visitor.uid), salt=COOKIE_SALT,
                max_age=settings.TAILOR_VISITOR_COOKIE_AGE, httponly=True, samesite="Lax",
                secure=request.is_secure(),
            )  # fmt: skip
        elif state.forget_cookie:
            response.delete_cookie(settings.TAILOR_VISITOR_COOKIE, samesite="Lax")
        return response

    @staticmethod
    def _previewed(request: HttpRequest, state: RequestState) -> bool:
        """Show the page as the visitor a staff member previews (see `delivery.preview`)."""
        choice = preview_requested(request)
        if choice is None:
            return False
        if preview_apply(state, choice):
            return True
        request.session.pop(SESSION_KEY, None)
        request.session[PROBLEM_KEY] = "The previewed visitor or segment no longer exists."
        return False

    @staticmethod
    def _is_page_view(request: HttpRequest, response: HttpResponse) -> bool:
        return (
            request.method == "GET"
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith("/api/")
            and not request.tailor.context["is_bot"]
        )

    @staticmethod
    def _record_page_view(request: HttpRequest, state: RequestState) -> None:
        try:
            if not request_allows(request, ANALYTICS):
                return
            visitor = visitor_for_request(request)  # a new visitor is created now: the cookie
            page_view_record(
                visitor=visitor, path=request.path, context=state.context, item=state.item
            )  # written in bulk
        except DatabaseError:  # tracking must never break a page
            logger.exception("Could not record a page view for %s", request.path)
