"""URLs of the personalization API, included under `/api/v1/`."""

from django.urls import path

from personalization.delivery.api import (
    BlocksBatchApi,
    ProfileApi,
    RecommendationsApi,
    SimilarItemsApi,
    SlotDecideApi,
)
from personalization.segments.api import ProfileSegmentsApi, SegmentApi, SegmentsApi
from personalization.visitors.api import EventsIngestApi

app_name = "personalization"

urlpatterns = [
    # Visitors: events in.
    path("events", EventsIngestApi.as_view(), name="events"),
    # Segments.
    path(
        "profiles/<str:visitor_id>/segments",
        ProfileSegmentsApi.as_view(),
        name="profile-segments",
    ),
    path("segments", SegmentsApi.as_view(), name="segments"),
    path("segments/<slug:key>", SegmentApi.as_view(), name="segment"),
    # Delivery: decisions, email blocks, profiles, recommendations, similar items.
    path("slots/<str:key>/decide", SlotDecideApi.as_view(), name="slot-decide"),
    path("blocks/batch", BlocksBatchApi.as_view(), name="blocks-batch"),
    path("profiles/<str:visitor_id>", ProfileApi.as_view(), name="profile"),
    path("recommendations", RecommendationsApi.as_view(), name="recommendations"),
    path("items/<path:external_id>/similar", SimilarItemsApi.as_view(), name="item-similar"),
]
