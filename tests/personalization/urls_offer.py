"""A page with one capped slot, for the frequency-cap tests."""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

PAGE = engines["django"].from_string(
    '{% load tailor %}<html><body>{% slot "offer" %}</body></html>'
)


def offer(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.render({}, request))


urlpatterns = [path("offer", offer)]
