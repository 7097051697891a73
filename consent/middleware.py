"""Global Privacy Control: `Sec-GPC: 1` withdraws marketing consent for the visitor sending it."""

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from consent.models import ConsentRecord
from consent.purposes import MARKETING
from consent.request import gpc_enabled
from consent.selectors import allows
from consent.services import consent_record

logger = logging.getLogger(__name__)


class GlobalPrivacyControlMiddleware:
    """Records a marketing withdrawal (source "gpc") when an identified visitor sends GPC.

    Runs after `VisitorMiddleware`, which sets `request.visitor`. A withdrawal is recorded only
    while the visitor's state still allows marketing, so once and not on every request. A request
    without a visitor needs no record: `consent.request.request_allows` refuses marketing for any
    request with the signal.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        visitor = getattr(request, "visitor", None)
        if visitor is not None and gpc_enabled(request):
            self._withdraw_marketing(request, visitor)
        return self.get_response(request)

    @staticmethod
    def _withdraw_marketing(request: HttpRequest, visitor) -> None:
        try:
            if allows(visitor, MARKETING):
                consent_record(
                    visitor=visitor,
                    choices={MARKETING: False},
                    source=ConsentRecord.Source.GPC,
                    request=request,
                )
        except DatabaseError:
            # The signal still holds for this request (request_allows); the record can wait.
            logger.exception("Could not record the GPC withdrawal of visitor %s", visitor.pk)
