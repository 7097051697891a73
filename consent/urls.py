"""URLs of the consent API, included under `/api/v1/`."""

from django.urls import path

from consent.api import ConsentApi

app_name = "consent"

urlpatterns = [
    path("consent", ConsentApi.as_view(), name="consent"),
]
