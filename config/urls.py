"""Tailor's URLs: the admin, health probes, the versioned REST API and its documentation."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health, metrics
from config.errors import api_not_found
from config.runs_api import RunApi, RunsApi
from content.views import item_page, tag_page
from personalization.delivery.views import click_redirect

handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("runs", RunsApi.as_view(), name="runs"),
    path("runs/<slug:kind>/<int:pk>", RunApi.as_view(), name="run"),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="site/home.html"), name="home"),
    path("items/<slug:slug>/", item_page, name="item"),
    path("tags/<slug:slug>/", tag_page, name="tag"),
    path("admin/tailor/preview/", include("personalization.delivery.preview_views")),
    path("admin/tailor/", include("personalization.decisions.admin_views")),
    path("admin/insights/", include("insights.views")),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="site/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("t/<str:token>", click_redirect, name="click"),
    path("api/v1/", include("personalization.urls")),
    path("api/v1/", include("consent.privacy_urls")),
    path("api/v1/", include("consent.urls")),
    path("api/v1/", include("experiments.urls")),
    path("api/v1/", include("insights.urls")),
    path("api/v1/", include((api_v1, "api"))),
    # Last: whatever no endpoint above answers under /api/ is a JSON 404, never a redirect.
    re_path(r"^api(?:/.*)?$", api_not_found, name="api-not-found"),
]
