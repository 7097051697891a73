"""URLs of the personalization API, included under `/api/v1/`."""

from django.urls import path

from personalization.api import EventsIngestApi
from personalization.api_segments import ProfileSegmentsApi

app_name = "personalization"

urlpatterns = [
    path("events", EventsIngestApi.as_view(), name="events"),
]

urlpatterns += [
    path(
        "profiles/<str:visitor_id>/segments",
        ProfileSegmentsApi.as_view(),
        name="profile-segments",
    ),
]
