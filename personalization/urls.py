"""URLs of the personalization API, included under `/api/v1/`."""

from django.urls import path

from personalization.api import EventsIngestApi

app_name = "personalization"

urlpatterns = [
    path("events", EventsIngestApi.as_view(), name="events"),
]
