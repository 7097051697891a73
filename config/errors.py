"""Tailor's error family and the one place that turns errors into JSON API answers.

Every API error has the same shape::

    {"message": "Invalid input.", "code": "invalid", "errors": {"field": ["why"]}}

`errors` is present only when there is something to say per field (or per list index).
"""

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.logs import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error with a message for people and optional details for machines."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ImportRowError(ApplicationError):
    """One reason a record of an import file is invalid, at the line where the record starts."""

    def __init__(self, line: int, column: str, reason: str) -> None:
        super().__init__(f"line {line}: {column}: {reason}", {column: [reason]})
        self.line = line
        self.column = column
        self.reason = reason


def _field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


# The database is unreachable, restarting or overloaded (connection refused or lost, deadlock,
# timeout): the request may succeed a few seconds later, so clients are told when to retry. The
# log says it in one line (`config.logs.DatabaseUnavailableFilter`), not a traceback a request.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_BODY = {
    "message": "The service is briefly unavailable; try again in a few seconds.",
    "code": "unavailable",
}


def _database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error, expected or not, becomes a JSON body."""
    if isinstance(exc, RequestDataTooBig):
        return _body_too_large(context)
    if _database_unavailable(exc):
        logger.warning(
            "Database unavailable in %s: %s", context.get("view").__class__.__name__, exc
        )
        return Response(
            UNAVAILABLE_BODY,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"message": exc.message, "code": exc.code}
        if exc.extra:
            body["errors"] = exc.extra
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in API view %s", type(view).__name__ if view else "?")
        return Response(
            {"message": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "message": "Invalid input.",
            "code": "invalid",
            "errors": _field_errors(exc.detail),
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else exc.default_detail
        body = {
            "message": message,
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code,
        }
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after_seconds"] = int(exc.wait)
        response.data = body
    return response


def _body_too_large(context: dict[str, Any]) -> Response:
    """413: the client sent more than DATA_UPLOAD_MAX_MEMORY_SIZE; its mistake, not ours."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    request = context.get("request")
    logger.warning(
        "Request body over %s bytes refused on %s", limit, request.path if request else "?"
    )
    return Response(
        {
            "message": f"The request body is larger than {limit} bytes.",
            "code": "request_too_large",
            "errors": {"body": [f"at most {limit} bytes"]},
        },
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _wants_json(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _not_found() -> JsonResponse:
    return JsonResponse({"message": "Not found.", "code": "not_found"}, status=404)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The last URL under /api/: a JSON 404 for any method, with DEBUG on too.

    As a view it also keeps `APPEND_SLASH` from redirecting `/api/v1/schema` to an empty HTML
    answer (or failing a POST with DEBUG on): API URLs are exact, with or without their slash.
    """
    return _not_found()


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 handler: JSON under /api/, Django's page elsewhere."""
    if _wants_json(request):
        return _not_found()
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler: JSON under /api/, Django's page elsewhere; 503 with `Retry-After` when the
    database is unavailable."""
    if _database_unavailable(sys.exc_info()[1]):
        if _wants_json(request):
            response: HttpResponse = JsonResponse(UNAVAILABLE_BODY, status=503)
        else:
            response = HttpResponse(
                UNAVAILABLE_BODY["message"], status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _wants_json(request):
        return JsonResponse(
            {"message": "Internal server error.", "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
