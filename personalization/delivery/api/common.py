"""What the delivery endpoints share: scopes, the item shapes, tracked link prefixes."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from drf_spectacular.utils import extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from config.auth import scope
from content.models import ContentItem

MAX_SLOTS, MAX_RECIPIENTS, MAX_K = 20, 1000, 50
DecideRead = scope("decide:read")
BlocksRead = scope("blocks:read")
ProfilesRead = scope("profiles:read")
REASONS = (
    "Why these items: rule, segment (a rule on segments matched), default (no rule matched), "
    "no_consent (no personalization consent), no_marketing_consent (blocks only), "
    "unknown_visitor, error (see the log), experiment (a variation of a running experiment), "
    "holdout (the personalization holdout: default content)."
)


class QueryFormatIsOurs(DefaultContentNegotiation):
    """JSON always: `?format=html` asks for rendered blocks inside the JSON, not a renderer."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


def tracking_base(request: HttpRequest) -> str:
    """The absolute prefix of tracked links: `TAILOR_TRACKING_BASE_URL`, else this host."""
    path = reverse("click", kwargs={"token": "-"})[:-1]
    base = settings.TAILOR_TRACKING_BASE_URL
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def item_json(item: ContentItem) -> dict[str, Any]:
    return {
        "id": item.external_id, "title": item.title, "kind": item.kind.key, "url": item.url,
        "summary": item.summary, "image_url": item.image_url, "cta_label": item.cta_label,
        "cta_url": item.cta_url,
    }  # fmt: skip


@extend_schema_serializer(component_name="DeliveredItem")
class ItemSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True, help_text="The external id (null without one).")
    title = serializers.CharField()
    kind = serializers.CharField(help_text="The content kind's key: article, product, …")
    url = serializers.CharField(help_text="The item's own page; may be empty.")
    summary = serializers.CharField(help_text="Plain text.")
    image_url = serializers.CharField()
    cta_label = serializers.CharField()
    cta_url = serializers.CharField()


def scored_items(name: str) -> serializers.Serializer:
    """A list of items with a score, as recommendations and similar items answer."""
    return inline_serializer(
        name,
        {
            **ItemSerializer().get_fields(),
            "score": serializers.FloatField(help_text="Higher fits better (see `algorithm`)."),
        },
        many=True,
    )
