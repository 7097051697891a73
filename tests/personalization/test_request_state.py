"""`request.tailor`: one object per request; attributes built once, decisions once per slot."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from personalization.decisions import request as request_module
from personalization.decisions.request import RequestState, forced_variations
from tests.factories import (
    ContentItemFactory,
    SlotFactory,
    SlotRuleFactory,
    UserFactory,
    VisitorFactory,
    grant,
)
from tests.factories.personalization import SegmentFactory

PAGE = (
    "{% load tailor %}{% slot 'hero' %}{% slot 'sidebar' %}"
    "{% if_segment 'mobile-people' %}[mobile]{% endif_segment %}"
    "{% recommendations limit=2 as recs %}{% last_viewed as item %}"
)


def counted(monkeypatch, name: str) -> list:
    """Count calls of a function the request state uses, still calling it."""
    calls = []
    real = getattr(request_module, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(request_module, name, counting)
    return calls


@pytest.fixture
def page_request():
    for key in ("hero", "sidebar"):
        slot = SlotFactory(key=key, default_items=[ContentItemFactory()])
        SlotRuleFactory(slot=slot, condition={"device": "mobile"}, items=[ContentItemFactory()])
    SegmentFactory(key="mobile-people", condition={"device": "mobile"})
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    request = RequestFactory().get("/")
    request.visitor = visitor
    request.tailor = RequestState(request, context={"device": "mobile"})
    return request


@pytest.mark.django_db
def test_a_page_builds_the_visitors_attributes_once_whatever_reads_them(monkeypatch, page_request):
    built = counted(monkeypatch, "visitor_attributes")

    html = Template(PAGE).render(Context({"request": page_request}))

    assert "[mobile]" in html
    assert len(built) == 1


@pytest.mark.django_db
def test_each_slot_of_a_page_is_decided_once_and_listed_for_the_toolbar(monkeypatch, page_request):
    decided = counted(monkeypatch, "decide")

    Template(PAGE).render(Context({"request": page_request}))

    assert [args[0] for args in decided] == ["hero", "sidebar"]
    assert [d.slot for d in page_request.tailor.decisions] == ["hero", "sidebar"]
    assert all(d.reason == "rule" for d in page_request.tailor.decisions)


@pytest.mark.django_db
def test_the_holdout_is_assigned_once_per_request(monkeypatch, page_request):
    calls = []
    real = request_module.registry.holdout_assign
    monkeypatch.setattr(
        request_module.registry, "holdout_assign",
        lambda **kwargs: calls.append(kwargs) or real(**kwargs),
    )  # fmt: skip

    Template(PAGE).render(Context({"request": page_request}))

    assert len(calls) == 1


@pytest.mark.django_db
def test_only_staff_can_force_a_variation_from_the_query_string():
    request = RequestFactory().get("/", {"hero-test": "1", "utm_source": "mail"})
    request.user = UserFactory(staff=False)
    assert forced_variations(request) == {}

    request.user = UserFactory(staff=True)
    assert forced_variations(request) == {"hero-test": 1}


@pytest.mark.django_db
def test_a_forced_variation_must_be_plain_ascii_digits():
    request = RequestFactory().get("/", {"a": "²", "b": "-1", "c": "1.0", "d": "2"})
    request.user = UserFactory(staff=True)

    assert forced_variations(request) == {"d": 2}


def test_a_request_without_a_query_string_never_reads_the_user():
    request = RequestFactory().get("/")

    assert forced_variations(request) == {}  # no request.user at all: it was never read
