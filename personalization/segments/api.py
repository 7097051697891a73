"""Segments over the API: a visitor's segments, and managing segment definitions."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import scope
from config.schema import errors
from personalization.segments.models import Segment
from personalization.segments.selectors import visitor_segments_profile
from personalization.visitors.selectors import visitor_resolve

ProfilesRead = scope("profiles:read")


class ProfileSegmentsApi(APIView):
    """Stored memberships, plus live segments evaluated on the visitor's stored attributes."""

    permission_classes = [ProfilesRead]

    class OutputSerializer(serializers.Serializer):
        visitor_id = serializers.CharField(help_text="The external id, else the cookie id.")
        segments = inline_serializer(
            "ProfileSegment",
            {
                "key": serializers.CharField(),
                "name": serializers.CharField(),
                "since": serializers.DateTimeField(
                    allow_null=True, help_text="When the visitor joined; null for live segments."
                ),
                "live": serializers.BooleanField(
                    help_text="Evaluated now, without a request (device, hour… are unknown)."
                ),
            },
            many=True,
        )

    @extend_schema(
        summary="A visitor's segments",
        description=(
            "Precomputed rule segments, static lists and clusters the visitor is in, and the "
            "live segments their stored attributes match with an empty request context (only "
            "with personalization consent). `visitor_id` is an external id or a cookie id."
        ),
        responses={200: OutputSerializer, **errors((404, "No visitor with this id."))},
        tags=["profiles"],
    )
    def get(self, request: Request, visitor_id: str) -> Response:
        visitor = visitor_resolve(visitor_id)
        if visitor is None:
            raise NotFound(f"No visitor with id {visitor_id!r}.")
        body = {"visitor_id": visitor.identifier, "segments": visitor_segments_profile(visitor)}
        return Response(self.OutputSerializer(body).data)


SegmentsWrite = scope("segments:write")
INVALID = "Not JSON, or an invalid segment: each field's errors (conditions with path and reason)."
NO_SEGMENT = (404, "No segment with this key.")


class SegmentSerializer(serializers.ModelSerializer):
    """A segment as the management API reads and writes it; validated as the admin does."""

    class Meta:
        model = Segment
        fields = ["key", "name", "description", "kind", "condition", "is_active", "is_live",
                  "version", "estimated_size", "size_updated_at", "updated_at"]  # fmt: skip
        read_only_fields = ["is_live", "version", "estimated_size", "size_updated_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        candidate = Segment(**{**self._current(), **attrs})
        try:
            candidate.full_clean(validate_unique=self.instance is None)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("key", "name", "description", "kind",
                                                       "condition", "is_active")} | {
            "pk": self.instance.pk, "version": self.instance.version,
        }  # fmt: skip


@extend_schema(tags=["segments"])
class SegmentsApi(APIView):
    """List segments, or create one (`segments:write`)."""

    permission_classes = [SegmentsWrite]

    @extend_schema(summary="Segments", responses={200: SegmentSerializer(many=True), **errors()})
    def get(self, request: Request) -> Response:
        return Response(SegmentSerializer(Segment.objects.order_by("key"), many=True).data)

    @extend_schema(
        summary="Create a segment",
        description="An invalid condition is refused with the path and reason, as in the admin.",
        request=SegmentSerializer,
        responses={201: SegmentSerializer, **errors((400, INVALID))},
    )
    def post(self, request: Request) -> Response:
        serializer = SegmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        segment = serializer.save()
        return Response(SegmentSerializer(segment).data, status=201)


@extend_schema(tags=["segments"])
class SegmentApi(APIView):
    """Read, change or delete one segment (`segments:write`)."""

    permission_classes = [SegmentsWrite]

    def _segment(self, key: str) -> Segment:
        segment = Segment.objects.filter(key=key).first()
        if segment is None:
            raise NotFound(f"No segment with key {key!r}.")
        return segment

    @extend_schema(summary="A segment", responses={200: SegmentSerializer, **errors(NO_SEGMENT)})
    def get(self, request: Request, key: str) -> Response:
        return Response(SegmentSerializer(self._segment(key)).data)

    @extend_schema(
        summary="Change a segment",
        request=SegmentSerializer,
        responses={200: SegmentSerializer, **errors((400, INVALID), NO_SEGMENT)},
    )
    def patch(self, request: Request, key: str) -> Response:
        serializer = SegmentSerializer(self._segment(key), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(SegmentSerializer(serializer.save()).data)

    @extend_schema(summary="Delete a segment", responses={204: None, **errors(NO_SEGMENT)})
    def delete(self, request: Request, key: str) -> Response:
        self._segment(key).delete()
        return Response(status=204)
