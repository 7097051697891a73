"""The admin's preview page: choose a visitor, a segment or request facts; start and stop.

Mounted under `/admin/tailor/preview/`. Every view needs active staff with the preview
permission (`preview.may_preview`); the visitor search also needs `view_visitor`. Starting and
stopping are POSTs under Django's CSRF check: a link (a GET) only ever opens the page, with a
visitor or segment filled in, so nobody can be put into a preview by following one.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from personalization.delivery.preview import (
    DEVICES,
    FACTS,
    SESSION_KEY,
    PreviewError,
    may_preview,
    may_preview_visitors,
    preview_choice,
)
from personalization.segments.models import Segment
from personalization.visitors.selectors import visitors_search

app_name = "tailor_preview"
LISTED_SEGMENTS = 500


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if safe and not wanted.startswith("/admin/") else "/"


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> TemplateResponse:
    source = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Preview the site",
        "error": error,
        "values": {name: source.get(name, "") for name in ("visitor", "segment", *FACTS)},
        "next": _next(request),
        "may_preview_visitors": may_preview_visitors(request.user),
        "segments": list(
            Segment.objects.order_by("name").values_list("key", "name")[:LISTED_SEGMENTS]
        ),
        "devices": DEVICES,
        "current": request.session.get(SESSION_KEY),
    }
    return TemplateResponse(request, "admin/tailor/preview.html", context, status=status)


@require_http_methods(["GET", "POST"])
def preview_page(request: HttpRequest) -> HttpResponse:
    """GET: the choice form; POST: start the preview and open the site."""
    if not may_preview(request.user):
        raise PermissionDenied
    if request.method == "GET":
        return _page(request)
    try:
        choice = preview_choice(user=request.user, data=request.POST)
    except PreviewError as error:
        return _page(request, error=error.message, status=400)
    request.session[SESSION_KEY] = choice
    return HttpResponseRedirect(_next(request))


@require_POST
def preview_stop(request: HttpRequest) -> HttpResponse:
    """End the preview; the site shows the staff member as themselves again."""
    if not may_preview(request.user):
        raise PermissionDenied
    request.session.pop(SESSION_KEY, None)
    return HttpResponseRedirect(_next(request))


@require_GET
def visitors_json(request: HttpRequest) -> JsonResponse:
    """Visitors whose id or email starts with `q`, for the visitor picker."""
    if not may_preview_visitors(request.user):
        return JsonResponse({"error": "You may not preview as a visitor."}, status=403)
    rows = visitors_search(request.GET.get("q", "")[:200])
    values = []
    for visitor in rows:
        email = (visitor.user.email if visitor.user else "") or str(
            (visitor.traits or {}).get("email", "")
        )
        label = " · ".join(part for part in (visitor.identifier, email) if part)
        values.append({"value": visitor.identifier, "label": label})
    return JsonResponse({"values": values})


urlpatterns = [
    path("", admin.site.admin_view(preview_page), name="page"),
    path("stop/", admin.site.admin_view(preview_stop), name="stop"),
    path("visitors.json", admin.site.admin_view(visitors_json), name="visitors"),
]
