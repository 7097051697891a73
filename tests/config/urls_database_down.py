"""A URL configuration whose views fail as they would with the database down."""

from django.db import OperationalError
from django.urls import path


def database_down(request):
    raise OperationalError("connection refused")


handler500 = "config.errors.server_error"
urlpatterns = [
    path("page/", database_down),
    path("api/v1/thing", database_down),
]
