"""URLs of the personalization API, included under `/api/v1/`."""

from django.urls import path, register_converter
from django.urls.converters import PathConverter, StringConverter

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


class IdentifierConverter(StringConverter):
    """An id in one path segment: anything but `/` and NUL, which no stored text can hold."""

    regex = r"[^/\x00]+"


class IdentifierPathConverter(PathConverter):
    """An id that may hold `/` (external ids of items): anything but NUL."""

    regex = r"[^\x00]+"


# PostgreSQL text cannot hold a NUL, so no stored id has one: such a path is a 404, not a query.
register_converter(IdentifierConverter, "id")
register_converter(IdentifierPathConverter, "idpath")

urlpatterns = [
    # Visitors: events in.
    path("events", EventsIngestApi.as_view(), name="events"),
    # Segments.
    path(
        "profiles/<id:visitor_id>/segments",
        ProfileSegmentsApi.as_view(),
        name="profile-segments",
    ),
    path("segments", SegmentsApi.as_view(), name="segments"),
    path("segments/<slug:key>", SegmentApi.as_view(), name="segment"),
    # Delivery: decisions, email blocks, profiles, recommendations, similar items.
    path("slots/<id:key>/decide", SlotDecideApi.as_view(), name="slot-decide"),
    path("blocks/batch", BlocksBatchApi.as_view(), name="blocks-batch"),
    path("profiles/<id:visitor_id>", ProfileApi.as_view(), name="profile"),
    path("recommendations", RecommendationsApi.as_view(), name="recommendations"),
    path("items/<idpath:external_id>/similar", SimilarItemsApi.as_view(), name="item-similar"),
]
