"""`/api/v1/privacy/…`: export and erase a data subject, and follow a request (`privacy:admin`)."""

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import api_key, scope
from consent.gdpr.audit import Actor, Channel
from consent.gdpr.export import export_chunks
from consent.gdpr.requests import access_request_close, access_request_open, erasure_request_submit
from consent.models import DataSubjectRequest

ERRORS = {
    400: OpenApiResponse(description="No visitor_id."),
    401: OpenApiResponse(description="Unknown or revoked API key."),
    403: OpenApiResponse(description="The API key lacks the `privacy:admin` scope."),
    404: OpenApiResponse(description="No visitor has this id."),
}


# An API key with `privacy:admin`, or a signed-in user who may handle subject requests.
PrivacyAdmin = scope("privacy:admin")


def _actor(request: Request) -> Actor:
    return Actor(channel=Channel.API, user=request.user, api_key=api_key(request))


class SubjectInputSerializer(serializers.Serializer):
    visitor_id = serializers.CharField(
        max_length=200, help_text="The visitor's external id or cookie id."
    )


class EraseInputSerializer(SubjectInputSerializer):
    include_staff = serializers.BooleanField(
        default=False,
        help_text="Erase the subject even if their user account is staff (it is anonymized and "
        "loses its admin access). The last active superuser is never erased.",
    )


class RequestOutputSerializer(serializers.ModelSerializer):
    request_id = serializers.IntegerField(source="pk")
    counts = serializers.SerializerMethodField(help_text="Rows erased per model so far.")

    class Meta:
        model = DataSubjectRequest
        fields = ["request_id", "type", "status", "received_at", "due_at", "completed_at", "counts"]

    def get_counts(self, request: DataSubjectRequest) -> dict[str, int]:
        return dict(request.progress.get("counts", {}))


class SubjectExportApi(APIView):
    """Everything stored about a data subject as one JSON document (Art. 15/20)."""

    permission_classes = [PrivacyAdmin]

    @extend_schema(
        summary="Export a data subject",
        description=(
            "Streams one JSON document: `generated_at`, `subject` (ids), `models` and `data`, "
            "each registered model's rows keyed by its label. The export is logged as an "
            "answered access request."
        ),
        request=SubjectInputSerializer,
        responses={200: OpenApiResponse(description="The JSON document."), **ERRORS},
        tags=["privacy"],
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        data = SubjectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = _actor(request)
        subject_request, subject = access_request_open(
            identifier=data.validated_data["visitor_id"], actor=actor
        )
        # Logged when handed out: the document is streamed after this view returns.
        access_request_close(request=subject_request, actor=actor, counts=None)
        response = StreamingHttpResponse(
            export_chunks(subject=subject), content_type="application/json"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="subject-export-{subject_request.pk}.json"'
        )
        return response


class SubjectEraseApi(APIView):
    """Queue the erasure of a data subject (Art. 17); answer with the request to follow."""

    permission_classes = [PrivacyAdmin]

    @extend_schema(
        summary="Erase a data subject",
        description=(
            "Records an erasure request and queues its erasure, which runs in batches in the "
            "background. Follow it at `/api/v1/privacy/requests/{request_id}`. A subject whose "
            "user account is staff is refused (409) unless `include_staff` is true; the last "
            "active superuser always is."
        ),
        request=EraseInputSerializer,
        responses={
            202: RequestOutputSerializer,
            409: OpenApiResponse(description="A staff account, or the last active superuser."),
            **ERRORS,
        },
        tags=["privacy"],
    )
    def post(self, request: Request) -> Response:
        data = EraseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subject_request = erasure_request_submit(
            identifier=data.validated_data["visitor_id"], actor=_actor(request),
            include_staff=data.validated_data["include_staff"],
        )  # fmt: skip
        body = RequestOutputSerializer(subject_request).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SubjectRequestDetailApi(APIView):
    """The state of one data-subject request."""

    permission_classes = [PrivacyAdmin]

    @extend_schema(
        summary="Follow a data-subject request",
        responses={200: RequestOutputSerializer, 404: OpenApiResponse(description="No such.")},
        tags=["privacy"],
    )
    def get(self, request: Request, pk: int) -> Response:
        subject_request = get_object_or_404(DataSubjectRequest, pk=pk)
        return Response(RequestOutputSerializer(subject_request).data)
