"""`GET /api/v1/profiles/{id}`, `/recommendations` and `/items/{external_id}/similar`."""

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.schema import errors
from consent.purposes import PERSONALIZATION
from consent.selectors import allows
from content.models import ContentItem
from personalization.decisions.engine import visitor_holdout
from personalization.decisions.request import request_state
from personalization.delivery.api.common import (
    MAX_K,
    DecideRead,
    ProfilesRead,
    item_json,
    scored_items,
)
from personalization.profiles.selectors import visitor_profile
from personalization.recommendations.algorithms.hybrid import HYBRID
from personalization.recommendations.related import (
    AFFINITY,
    NO_PERSONALIZATION,
    TAG_OVERLAP,
    recommendations_for,
    similar_items,
)
from personalization.recommendations.selectors import POPULARITY
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import visitor_resolve

HOLDOUT = "personalization holdout: no recommendations"


class ProfileApi(APIView):
    """Everything Tailor knows about one visitor, as a CRM needs it."""

    permission_classes = [ProfilesRead]

    @extend_schema_serializer(component_name="Profile")
    class OutputSerializer(serializers.Serializer):
        visitor_id = serializers.CharField(help_text="The external id, else the cookie id.")
        uid = serializers.UUIDField(help_text="The cookie id.")
        external_id = serializers.CharField(allow_null=True)
        user = serializers.CharField(allow_null=True, help_text="The site account, if any.")
        first_seen = serializers.DateTimeField()
        last_seen = serializers.DateTimeField()
        sessions = serializers.IntegerField()
        traits = serializers.DictField()
        features = inline_serializer(
            "ProfileFeatures",
            {
                "computed_at": serializers.DateTimeField(),
                "event_count": serializers.IntegerField(),
                "recency_days": serializers.FloatField(allow_null=True),
                "sessions_7d": serializers.IntegerField(),
                "sessions_30d": serializers.IntegerField(),
                "sessions_90d": serializers.IntegerField(),
                "monetary_90d": serializers.FloatField(),
                "rfm": serializers.CharField(),
                "lifecycle": serializers.CharField(),
                "engagement": serializers.FloatField(),
                "tag_affinities": serializers.DictField(child=serializers.FloatField()),
                "favourite_kinds": serializers.ListField(child=serializers.CharField()),
            },
            allow_null=True,
            help_text="Computed by `compute_features`; null before the first run.",
        )
        segments = serializers.ListField(child=serializers.CharField())
        clusters = serializers.ListField(
            child=serializers.CharField(),
            help_text="Keys of the visitor's cluster in the current clustering run.",
        )
        scores = serializers.DictField(
            child=serializers.FloatField(min_value=0, max_value=1),
            help_text='Target → probability of the current score run, e.g. {"churn": 0.72, '
            '"purchase": 0.08}; {} when not scored.',
        )  # fmt: skip
        consent = serializers.DictField(
            child=serializers.BooleanField(), help_text="Purpose key → allowed."
        )
        event_count = serializers.IntegerField()
        recent_events = inline_serializer(
            "ProfileEvent",
            {
                "type": serializers.CharField(),
                "item_id": serializers.CharField(allow_null=True),
                "value": serializers.CharField(allow_null=True),
                "occurred_at": serializers.DateTimeField(),
            },
            many=True,
            help_text="The 20 latest, newest first.",
        )

    @extend_schema(
        summary="A visitor's profile",
        description=(
            "Scope `profiles:read`. Traits, computed features, segments, consent and recent "
            "events (without their client event ids). `visitor_id` is an external or cookie id."
        ),
        responses={200: OutputSerializer, **errors((404, "No visitor with this id."))},
        tags=["profiles"],
    )
    def get(self, request: Request, visitor_id: str) -> Response:
        visitor = visitor_resolve(visitor_id)
        if visitor is None:
            raise NotFound(f"No visitor with id {visitor_id!r}.")
        profile = visitor_profile(visitor)
        for event in profile["recent_events"]:
            event.pop("event_id", None)  # the client's own ids: nothing a reader needs
        return Response(self.OutputSerializer(profile).data)


class RecommendationsApi(APIView):
    """Items a visitor is likely to want, best first."""

    permission_classes = [DecideRead | ProfilesRead]

    class InputSerializer(serializers.Serializer):
        visitor = serializers.CharField(max_length=200, help_text="External or cookie id.")
        k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=10)

    @extend_schema_serializer(component_name="Recommendations")
    class OutputSerializer(serializers.Serializer):
        visitor = serializers.CharField()
        algorithm = serializers.ChoiceField(
            choices=[AFFINITY, HYBRID, POPULARITY],
            help_text="hybrid: the current model run's list (score: the blended model score), "
            "completed by affinity when short; popularity: for a visitor without history, "
            "their segments' then everyone's most popular items (score: 1 / rank); "
            "affinity: unseen published items ranked by "
            "the visitor's interest in their tags (score: the sum of the tags' affinities), "
            "then priority.",
        )
        note = serializers.CharField(required=False, help_text="Why the list is empty.")
        items = scored_items("RecommendedItem")

    @staticmethod
    def _recommended(request: Request, visitor: Visitor | None, k: int) -> tuple[list, str]:
        if visitor is None:
            return [], "unknown visitor: no recommendations"
        if not allows(visitor, PERSONALIZATION):
            return [], NO_PERSONALIZATION
        arm = visitor_holdout(visitor)
        if arm is not None:  # the holdout's exposure counts whether its arm sees any or not
            request_state(request._request).note(arm.source, arm.exposures)
            if arm.in_control:
                return [], HOLDOUT
        return recommendations_for(visitor=visitor, k=k)

    @extend_schema(
        summary="Recommendations for a visitor",
        description=(
            "Scope `decide:read` or `profiles:read`. The current model run's list (published, "
            "not interacted with), else for a visitor without history their segments' popular "
            "items, else published items ranked by tag affinity. Empty, with a note, for an "
            "unknown visitor or one without personalization consent."
        ),
        parameters=[InputSerializer],
        responses={200: OutputSerializer, **errors((400, "`visitor` missing, `k` not 1 to 50."))},
        tags=["recommendations"],
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        identifier = params.validated_data["visitor"]
        visitor = visitor_resolve(identifier)
        scored, note = self._recommended(request, visitor, params.validated_data["k"])
        body = {
            "visitor": visitor.identifier if visitor else identifier,
            "algorithm": scored[0].algorithm if scored else AFFINITY,
            **({"note": note} if note else {}),
            "items": [item_json(s.item) | {"score": s.score} for s in scored],
        }  # fmt: skip
        return Response(self.OutputSerializer(body).data)


class SimilarItemsApi(APIView):
    """Published items like one item: for "you may also like" rails."""

    permission_classes = [DecideRead | ProfilesRead]

    class InputSerializer(serializers.Serializer):
        k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=10)

    @extend_schema_serializer(component_name="SimilarItems")
    class OutputSerializer(serializers.Serializer):
        item = serializers.CharField(help_text="The external id asked about.")
        algorithm = serializers.ChoiceField(
            choices=[TAG_OVERLAP, HYBRID],
            help_text="hybrid: the current model run's similar items (score: blended "
            "similarity); tag_overlap: most tags shared (a tag below one of the item's counts), "
            "then the same kind, then priority; score: the number of tags shared.",
        )
        items = scored_items("SimilarItem")

    @extend_schema(
        summary="Items similar to an item",
        description="Scope `decide:read` or `profiles:read`. The current model run's similar "
        "items when it has enough of them, else tags shared.",
        parameters=[InputSerializer, OpenApiParameter("external_id", str, OpenApiParameter.PATH)],
        responses={
            200: OutputSerializer,
            **errors((400, "`k` not 1 to 50."), (404, "No item with this external id.")),
        },
        tags=["recommendations"],
    )
    def get(self, request: Request, external_id: str) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        item = ContentItem.objects.filter(external_id=external_id).select_related("kind").first()
        if item is None:
            raise NotFound(f"No item with external id {external_id!r}.")
        scored = similar_items(item=item, k=params.validated_data["k"])
        body = {
            "item": external_id, "algorithm": scored[0].algorithm if scored else TAG_OVERLAP,
            "items": [item_json(s.item) | {"score": s.score} for s in scored],
        }  # fmt: skip
        return Response(self.OutputSerializer(body).data)
