"""Pages with capped slots, for the frequency-cap tests: one slot, and two."""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

PAGE = engines["django"].from_string(
    '{% load tailor %}<html><body>{% slot "offer" %}</body></html>'
)

TWO_SLOTS = engines["django"].from_string(
    '{% load tailor %}<html><body>{% slot "offer" %}{% slot "second-offer" %}</body></html>'
)


def offer(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.render({}, request))


def offers(request: HttpRequest) -> HttpResponse:
    return HttpResponse(TWO_SLOTS.render({}, request))


urlpatterns = [path("offer", offer), path("offers", offers)]
