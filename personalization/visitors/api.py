"""`POST /api/v1/events`: batches of events from machine clients (API key) and the tracker."""

import json
from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import ApiKeyAuthentication, HasScope, api_key, scope
from consent.request import request_allows
from personalization.visitors.context import request_context
from personalization.visitors.event_input import MAX_PROPERTIES_BYTES, event_plain
from personalization.visitors.events import (
    ANALYTICS,
    NO_CONSENT,
    IngestResult,
    browser_event_check,
    events_ingest,
    occurred_at_parse,
)
from personalization.visitors.models import Event, Visitor
from personalization.visitors.services import visitor_for_request

MAX_EVENTS = 500
EventsWrite = scope("events:write")
PURCHASE_EXAMPLE = {
    "events": [
        {
            "event_id": "order-1042",
            "visitor_id": "crm-123",
            "type": "purchase",
            "item_id": "sku-1",
            "value": "49.90",
            "occurred_at": "2025-05-01T12:00:00Z",
        }
    ]
}


class EventsWriteOrBrowser(BasePermission):
    """An API key with the `events:write` scope, or a browser that sends no key at all."""

    message = HasScope.message

    def has_permission(self, request: Request, view: APIView) -> bool:
        return api_key(request) is None or EventsWrite().has_permission(request, view)


@extend_schema_field({"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]})
class OccurredAtField(serializers.Field):
    """ISO 8601 text or epoch seconds, at most 5 minutes in the future."""

    def to_internal_value(self, data: Any) -> datetime:
        try:
            return occurred_at_parse(data, now=timezone.now())
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


@extend_schema_serializer(component_name="EventInput")
class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField(
        max_length=100, required=False, help_text="Your id; an event sent again is ignored."
    )
    visitor_id = serializers.CharField(
        max_length=200, required=False,
        help_text="The visitor's external id: required with an API key, ignored from a browser. "
        "An id that reads as a UUID is a cookie id, never an external id: refused.",
    )  # fmt: skip
    type = serializers.SlugField(
        max_length=50,
        help_text="view, click, add_to_cart, purchase, search, rating, or a slug of your own.",
    )
    item_id = serializers.CharField(
        max_length=200, required=False, allow_null=True, help_text="An item's external id."
    )
    value = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True,
        help_text="An amount, e.g. the price of a purchase or a rating.",
    )  # fmt: skip
    properties = serializers.DictField(
        required=False, default=dict, help_text="A JSON object of at most 10 KB."
    )
    occurred_at = OccurredAtField(default=timezone.now, help_text="Default: when received.")

    def validate_properties(self, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_PROPERTIES_BYTES:
            raise serializers.ValidationError(f"{size} bytes; at most {MAX_PROPERTIES_BYTES}")
        return value


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "a string"


def _field_errors(detail: Any) -> dict[str, list[str]]:
    """A serializer's errors as field → messages, whatever their nesting, so the answer fits."""
    if not isinstance(detail, dict):
        return {"non_field_errors": [str(message) for message in _flat(detail)]}
    return {str(name): [str(message) for message in _flat(why)] for name, why in detail.items()}


def _flat(detail: Any) -> list[Any]:
    if isinstance(detail, dict):
        return [message for why in detail.values() for message in _flat(why)]
    if isinstance(detail, list):
        return [message for why in detail for message in _flat(why)]
    return [detail]


class EventsIngestApi(APIView):
    """Store a batch of events; each is checked on its own and refused with its reasons."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [EventsWriteOrBrowser]

    class InputSerializer(serializers.Serializer):
        # Each event is validated on its own, so that one bad event does not refuse the batch.
        events = serializers.ListField(min_length=1, max_length=MAX_EVENTS)

    @extend_schema_serializer(component_name="EventBatchResult")
    class OutputSerializer(serializers.Serializer):
        accepted = serializers.IntegerField(help_text="Events stored now.")
        duplicates = serializers.IntegerField(help_text="Events already stored, ignored.")
        errors = inline_serializer(
            "EventError",
            {
                "index": serializers.IntegerField(help_text="The event's position in `events`."),
                "errors": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    help_text="Field name → what is wrong with it.",
                ),
            },
            many=True,
        )

    @extend_schema(
        summary="Send events",
        description=(
            "1 to 500 events. With an API key (scope `events:write`) every event names its "
            "visitor; from a browser (no key) the visitor cookie does, and nothing is stored "
            "without analytics consent; a browser sends no purchases and no `occurred_at` unless "
            "the site allows it (`TAILOR_BROWSER_PURCHASES`, `TAILOR_BROWSER_BACKDATE_SECONDS`). "
            "Invalid events are listed by index; the others are stored: a batch with some bad "
            "elements (anything but an object, too) stores the good ones and lists the others by "
            "index. Events are idempotent by `event_id` per sender (an API key, a browser, an "
            "import): other senders' ids are neither reported nor blocked."
        ),
        request=inline_serializer(
            "EventBatchInput",
            {"events": EventSerializer(many=True, min_length=1, max_length=MAX_EVENTS)},
        ),
        responses={
            202: OutputSerializer,
            400: OpenApiResponse(description="Not JSON, or not 1 to 500 events."),
            401: OpenApiResponse(description="Unknown or revoked API key."),
            403: OpenApiResponse(description="The API key lacks the `events:write` scope."),
        },
        examples=[OpenApiExample("A purchase", value=PURCHASE_EXAMPLE, request_only=True)],
        tags=["events"],
    )
    def post(self, request: Request) -> Response:
        envelope = self.InputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        keyed = api_key(request) is not None
        valid, errors = self._events_validate(envelope.validated_data["events"], keyed=keyed)
        events = [event for _, event in valid]
        if keyed:
            source = Event.source_of_api_key(api_key(request).pk)
            result = events_ingest(events=events, visitor=None, source=source)
        else:
            result = self._browser_ingest(request, events)
        errors += [{"index": valid[i][0], "errors": why} for i, why in result.refused.items()]
        errors.sort(key=lambda error: error["index"])
        body = {"accepted": result.accepted, "duplicates": result.duplicates, "errors": errors}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _events_validate(
        raw: list[Any], *, keyed: bool
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
        """(index, event) of the valid events, and the errors of the others by index."""
        valid, errors = [], []
        # One serializer for every event: building its fields is most of the cost of one.
        serializer = EventSerializer()
        now = timezone.now()
        for index, data in enumerate(raw):
            if not isinstance(data, dict):
                why = f"expected an event object, got {_json_type(data)}"
                errors.append({"index": index, "errors": {"non_field_errors": [why]}})
                continue
            # Plain valid events skip the serializer, which still words every error.
            event = event_plain(data, now=now)
            if event is None:
                try:
                    event = dict(serializer.run_validation(data))
                except serializers.ValidationError as exc:
                    errors.append({"index": index, "errors": _field_errors(exc.detail)})
                    continue
            if keyed and not event.get("visitor_id"):
                message = "This field is required with an API key."
                errors.append({"index": index, "errors": {"visitor_id": [message]}})
                continue
            if not keyed:
                event.pop("visitor_id", None)  # a browser speaks only for its own cookie
                time_sent = "occurred_at" in data
                if why := browser_event_check(event, time_sent=time_sent, now=now):
                    errors.append({"index": index, "errors": why})
                    continue
            valid.append((index, event))
        return valid, errors

    @staticmethod
    def _browser_ingest(request: Request, events: list[dict[str, Any]]) -> IngestResult:
        """A browser's events: stored for its cookie's visitor when analytics is allowed."""
        http = request._request
        context = request_context(http)
        if context["is_bot"] or not events:
            return IngestResult()  # bots are neither tracked nor told why
        visitor: Visitor | None = getattr(http, "visitor", None)
        if visitor is None and request_allows(http, ANALYTICS):
            visitor = visitor_for_request(http)  # the middleware then sets the cookie
        if visitor is None:
            return IngestResult(refused={i: {"consent": [NO_CONSENT]} for i in range(len(events))})
        source = Event.source_of_browser(visitor.pk)
        return events_ingest(events=events, visitor=visitor, source=source, context=context)
