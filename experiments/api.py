"""`GET /api/v1/experiments/{key}/results`: an experiment's results for dashboards and BI tools."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.schema import errors
from experiments.models import Experiment
from experiments.selectors import MetricResult, Results, experiment_results
from personalization.delivery.api.common import ProfilesRead


@extend_schema_serializer(component_name="ExperimentVariationResult")
class VariationResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    is_control = serializers.BooleanField()
    weight = serializers.FloatField()
    visitors = serializers.IntegerField(help_text="Visitors exposed to the variation.")
    conversions = serializers.IntegerField(help_text="Exposed visitors who converted.")
    mean = serializers.FloatField(help_text="Conversion rate, or revenue per visitor.")
    lift = serializers.FloatField(allow_null=True, help_text="Relative to the control.")
    lift_low = serializers.FloatField(allow_null=True)
    lift_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True, help_text="Holm-adjusted.")
    chance_to_win = serializers.FloatField(allow_null=True, help_text="Chance to beat control.")
    expected_loss = serializers.FloatField(allow_null=True)
    sequential_low = serializers.FloatField(
        allow_null=True, help_text="Always-valid interval of the difference to the control."
    )
    sequential_high = serializers.FloatField(allow_null=True)


@extend_schema_serializer(component_name="ExperimentMetricResult")
class MetricResultSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="conversion, ctr or revenue.")
    event_type = serializers.CharField()
    window_hours = serializers.IntegerField()
    primary = serializers.BooleanField()
    cuped = serializers.BooleanField(help_text="Adjusted with activity before exposure.")
    variance_reduction = serializers.FloatField()
    variations = VariationResultSerializer(many=True)


class ExperimentResultsApi(APIView):
    """Per variation visitors, conversions, lift, p-value and chance to win, per metric."""

    permission_classes = [ProfilesRead]

    @extend_schema_serializer(component_name="ExperimentResults")
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        name = serializers.CharField()
        status = serializers.CharField(help_text="draft, running, paused or stopped.")
        visitors = serializers.IntegerField()
        sample_size = serializers.IntegerField(
            allow_null=True, help_text="Visitors needed per variation, when set up."
        )
        sample_ratio_mismatch = serializers.BooleanField(allow_null=True)
        sample_ratio_p_value = serializers.FloatField(allow_null=True)
        leader = serializers.CharField(
            allow_null=True, help_text="The variation that clearly beats the control, if any."
        )
        metrics = MetricResultSerializer(many=True)

    @extend_schema(
        summary="Results of an experiment",
        description="Scope `profiles:read`. Aggregates only: no visitor is named.",
        responses={200: OutputSerializer, **errors((404, "No experiment with this key."))},
        tags=["experiments"],
    )
    def get(self, request: Request, key: str) -> Response:
        experiment = Experiment.objects.filter(key=key).first()
        if experiment is None:
            raise NotFound(f"No experiment with key {key!r}.")
        results = experiment_results(experiment)
        return Response(self.OutputSerializer(_body(results)).data)


def _metric(result: MetricResult) -> dict[str, Any]:
    return {
        "kind": result.metric.kind, "event_type": result.metric.event_type,
        "window_hours": result.metric.window_hours, "primary": result.metric.is_primary,
        "cuped": result.cuped, "variance_reduction": result.variance_reduction,
        "variations": [vars(v) for v in result.variations],
    }  # fmt: skip


def _body(results: Results) -> dict[str, Any]:
    experiment = results.experiment
    return {
        "key": experiment.key, "name": experiment.name, "status": experiment.status,
        "visitors": results.visitors, "sample_size": results.sample_size,
        "sample_ratio_mismatch": results.srm.mismatch if results.srm else None,
        "sample_ratio_p_value": results.srm.p_value if results.srm else None,
        "leader": results.leader.key if results.leader else None,
        "metrics": [_metric(m) for m in results.metrics],
    }  # fmt: skip
