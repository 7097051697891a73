"""URLs of the privacy API, included under `/api/v1/`."""

from django.urls import path

from consent.privacy_api import SubjectEraseApi, SubjectExportApi, SubjectRequestDetailApi

app_name = "privacy"

urlpatterns = [
    path("privacy/export", SubjectExportApi.as_view(), name="export"),
    path("privacy/erase", SubjectEraseApi.as_view(), name="erase"),
    path("privacy/requests/<int:pk>", SubjectRequestDetailApi.as_view(), name="request"),
]
