"""URLs of the insights API, included under `/api/v1/`."""

from django.urls import path

from insights.api import InsightsDailyApi, InsightsSummaryApi, InsightsTableApi

app_name = "insights"

urlpatterns = [
    path("insights/summary", InsightsSummaryApi.as_view(), name="summary"),
    path("insights/daily", InsightsDailyApi.as_view(), name="daily"),
    path("insights/tables/<slug:table>", InsightsTableApi.as_view(), name="table"),
]
