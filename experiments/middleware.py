"""Records the exposures a response rendered once it is done; they are written in bulk."""

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from experiments.hooks import PENDING
from experiments.services import exposures_record

logger = logging.getLogger(__name__)


class ExposureMiddleware:
    """After the response is rendered, store the exposures noted while rendering it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        pending = request.__dict__.pop(PENDING, None)
        if pending:
            try:
                exposures_record(rows=pending)
            except DatabaseError:
                # Tracking must never break a page.
                logger.exception("Could not record exposures for %s", request.path)
        return response
