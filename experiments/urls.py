"""URLs of the experiments API, included under `/api/v1/`."""

from django.urls import path

from experiments.api import ExperimentResultsApi

app_name = "experiments"

urlpatterns = [
    path("experiments/<slug:key>/results", ExperimentResultsApi.as_view(), name="results"),
]
