"""`/t/<token>`: the tracked links of email blocks and API answers."""

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from personalization.delivery.links import click_follow


@never_cache
@require_safe
def click_redirect(request: HttpRequest, token: str) -> HttpResponseRedirect:
    """Record the click (GET, analytics consent only) and go to the item's own URL (302)."""
    # HEAD is what link scanners send: it redirects without counting a click.
    target = click_follow(token=token, record=request.method == "GET")
    if target is None:
        raise Http404("This link is invalid or has expired.")
    return HttpResponseRedirect(target)
