"""`GET /api/v1/runs` and `GET /api/v1/runs/{kind}/{id}`: batch runs for monitoring.

Scope `runs:read` (signed in: the view permissions of every kind of run, which Analysts have).
Every kind of run the reaper watches (`config.runs`: features, segments, clusters,
recommendations, scores) answers with the same fields: its status and whether a task is
working on it, when it started, beat and finished, its chunks, its attempt and the run it
started again, its error, and the metrics and "current" flag of the kinds that have them. What
a run was asked (task options), the models it stored and anything per visitor are never part
of the answer. The list is newest first, runs not started yet before the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, Model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import scope
from config.runs import RunKind, run_kinds
from config.schema import errors

RunsRead = scope("runs:read")

KINDS = ["features", "segments", "clusters", "recommendations", "scores"]  # for the schema
LIMIT_DEFAULT = 20
LIMIT_MAX = 100
# The columns read: the ones every kind has, then those some kinds have (`metrics`, `is_current`).
COLUMNS = (
    "id", "status", "started_at", "heartbeat_at", "finished_at", "duration_seconds",
    "chunks_total", "chunks_done", "attempt", "retry_of_id", "error", "metrics", "is_current",
)  # fmt: skip


@extend_schema_serializer(component_name="Run")
class RunSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="features, segments, clusters, recommendations, scores.")
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="The kind's own statuses, e.g. training, finished.")
    active = serializers.BooleanField(help_text="A task is working on it (or will).")
    started_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(help_text="Last sign of life of its task.")
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    chunks_total = serializers.IntegerField()
    chunks_done = serializers.IntegerField()
    attempt = serializers.IntegerField(help_text="1, or more when started again after a loss.")
    retry_of = serializers.IntegerField(allow_null=True, help_text="The run this one restarts.")
    error = serializers.CharField(allow_blank=True)
    metrics = serializers.JSONField(allow_null=True, help_text="null for kinds without metrics.")
    is_current = serializers.BooleanField(
        allow_null=True, help_text="Serving now (clusters, recommendations, scores); else null."
    )


class RunsQuery(serializers.Serializer):
    status = serializers.CharField(required=False, max_length=20)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=LIMIT_MAX, default=LIMIT_DEFAULT
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["kind"] = serializers.ChoiceField(choices=list(run_kinds()), required=False)
        return fields


def _columns(model: type[Model]) -> list[str]:
    present = {field.attname for field in model._meta.concrete_fields}
    return [name for name in COLUMNS if name in present]


def _record(kind: RunKind, run: Any) -> dict[str, Any]:
    record = {name: getattr(run, name, None) for name in COLUMNS}
    record["retry_of"] = record.pop("retry_of_id")
    return {**record, "kind": kind.name, "active": run.status in kind.active}


def _newest_first(record: dict[str, Any]) -> tuple[bool, datetime, int]:
    started = record["started_at"]
    return (started is None, started or datetime.min, record["id"])


class RunsApi(APIView):
    """The latest runs of every kind (or one kind), newest first."""

    permission_classes = [RunsRead]

    @extend_schema(
        summary="Batch runs", tags=["runs"],
        description="Scope `runs:read`. The latest runs of every kind, newest first (runs not "
        "started yet first); `kind` and `status` narrow them.",
        parameters=[
            OpenApiParameter("kind", str, enum=KINDS),
            OpenApiParameter("status", str, description="Only runs with this status."),
            OpenApiParameter("limit", int, description=f"1 to {LIMIT_MAX} (default "
                                                       f"{LIMIT_DEFAULT})."),
        ],
        responses={200: RunSerializer(many=True),
                   **errors((400, "An unknown kind, or a limit out of range."))},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        query = RunsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        kinds = run_kinds()
        if "kind" in wanted:
            kinds = {wanted["kind"]: kinds[wanted["kind"]]}
        limit = wanted["limit"]
        records = []
        for kind in kinds.values():
            runs = kind.model.objects.only(*_columns(kind.model))
            if "status" in wanted:
                runs = runs.filter(status=wanted["status"])
            newest = runs.order_by(F("started_at").desc(nulls_first=True), "-pk")[:limit]
            records.extend(_record(kind, run) for run in newest)
        records.sort(key=_newest_first, reverse=True)
        return Response(RunSerializer(records[:limit], many=True).data)


class RunApi(APIView):
    """One run."""

    permission_classes = [RunsRead]

    @extend_schema(
        summary="A batch run", tags=["runs"], description="Scope `runs:read`.",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=KINDS)],
        responses={200: RunSerializer, **errors((404, "No such kind of run, or no such run."))},
    )  # fmt: skip
    def get(self, request: Request, kind: str, pk: int) -> Response:
        found = run_kinds().get(kind)
        if found is None:
            raise NotFound(f"No kind of run {kind!r}: one of {', '.join(run_kinds())}.")
        run = found.model.objects.only(*_columns(found.model)).filter(pk=pk).first()
        if run is None:
            raise NotFound(f"No {kind} run {pk}.")
        return Response(RunSerializer(_record(found, run)).data)
