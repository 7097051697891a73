"""`GET /api/v1/profiles/{visitor_id}/segments`: the segments a visitor is in."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import scope
from personalization.segments import visitor_segments_profile
from personalization.selectors import visitor_resolve

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
        responses={
            200: OutputSerializer,
            401: OpenApiResponse(description="Unknown or revoked API key."),
            403: OpenApiResponse(description="The API key lacks the `profiles:read` scope."),
            404: OpenApiResponse(description="No visitor with this id."),
        },
        tags=["profiles"],
    )
    def get(self, request: Request, visitor_id: str) -> Response:
        visitor = visitor_resolve(visitor_id)
        if visitor is None:
            raise NotFound(f"No visitor with id {visitor_id!r}.")
        body = {"visitor_id": visitor.identifier, "segments": visitor_segments_profile(visitor)}
        return Response(self.OutputSerializer(body).data)
