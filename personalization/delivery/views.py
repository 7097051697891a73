"""`/t/<token>`: the tracked links of email blocks and API answers."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from rest_framework.throttling import SimpleRateThrottle

from config.client_ip import client_ip
from personalization.decisions.request import request_state
from personalization.delivery.links import click_follow


class ClickRateThrottle(SimpleRateThrottle):
    """Clicks followed per client IP (`TAILOR_CLICK_RATE`), counted in the shared cache."""

    scope = "click"

    def get_rate(self) -> str:
        return settings.TAILOR_CLICK_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


@never_cache
@require_safe
def click_redirect(request: HttpRequest, token: str) -> HttpResponse:
    """Record the click (GET, analytics consent only) and go to the item's own URL (302)."""
    throttle = ClickRateThrottle()
    if not throttle.allow_request(request, None):
        wait = throttle.wait()
        response = HttpResponse("Too many requests: try again shortly.", status=429)
        response["Retry-After"] = str(max(1, int(wait or 1)))
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    # HEAD is what link scanners send: it redirects without counting a click; nor does a
    # staff member's click during a preview.
    record = request.method == "GET" and request_state(request).records
    target = click_follow(token=token, record=record)
    if target is None:
        raise Http404("This link is invalid or has expired.")
    return HttpResponseRedirect(target)
