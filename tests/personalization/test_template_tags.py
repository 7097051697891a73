import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from personalization.decisions.request import RequestState
from personalization.features.models import VisitorFeatures
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
    VisitorFactory,
    grant,
)


@pytest.fixture
def hero():
    banner = ContentKindFactory(key="banner")
    slot = SlotFactory(key="hero", default_items=[ContentItemFactory(title="Welcome", kind=banner)])
    SlotRuleFactory(
        slot=slot, condition={"lifecycle": "engaged"},
        items=[ContentItemFactory(title="Welcome back", kind=banner)],
    )  # fmt: skip
    return slot


def render(source: str, visitor=None, context=None, context_extra=None) -> str:
    request = RequestFactory().get("/")
    request.visitor = visitor
    request.tailor = RequestState(request, context=context or {"device": "desktop"})
    template_context = Context({"request": request, **(context_extra or {})})
    return Template("{% load tailor %}" + source).render(template_context)


def engaged_visitor():
    visitor = VisitorFactory()
    grant(visitor, "personalization")
    VisitorFeatures.objects.create(visitor=visitor, computed_at=timezone.now(), lifecycle="engaged")
    return visitor


@pytest.mark.django_db
def test_a_slot_renders_its_default_for_an_unknown_visitor(hero):
    html = render('{% slot "hero" %}')

    assert "Welcome" in html
    assert "Welcome back" not in html
    assert 'data-slot="hero"' in html


@pytest.mark.django_db
def test_a_slot_renders_the_matching_rules_item_in_its_block_template(hero):
    html = render('{% slot "hero" %}', engaged_visitor())

    assert 'class="tailor-block tailor-block--banner"' in html
    assert "Welcome back" in html


@pytest.mark.django_db
def test_slot_as_gives_the_items_to_loop_over(hero):
    html = render('{% slot "hero" as items %}{% for i in items %}[{{ i.title }}]{% endfor %}')

    assert html == "[Welcome]"


@pytest.mark.django_db
def test_an_unknown_slot_renders_nothing_rather_than_failing():
    assert "tailor-block" not in render('{% slot "missing" %}')


@pytest.mark.django_db
def test_if_segment_shows_the_else_part_to_a_visitor_outside_the_segment():
    html = render(
        '{% if_segment "vip" %}VIP{% else %}everyone{% endif_segment %}', engaged_visitor()
    )

    assert html == "everyone"


@pytest.mark.django_db
def test_recommendations_render_items_matching_the_visitors_tastes():
    product = ContentKindFactory(key="product")
    sports = TagFactory(name="Sports", slug="sports")
    ContentItemFactory(title="Rake", kind=product)
    ContentItemFactory(title="Boots", kind=product, tags=[sports])
    visitor = VisitorFactory()
    grant(visitor, "personalization")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), tag_affinities={"sports": 1.0}
    )

    loop = "{% for i in recs %}{{ i.title }}{% endfor %}"

    html = render('{% recommendations limit=1 kinds="product" as recs %}' + loop, visitor)

    assert html == "Boots"


@pytest.mark.django_db
def test_recommendations_are_empty_without_personalization_consent():
    ContentItemFactory(title="Boots", kind=ContentKindFactory(key="product"))
    visitor = VisitorFactory()
    grant(visitor, "analytics")

    assert "Boots" not in render("{% recommendations %}", visitor)


@pytest.mark.django_db
def test_similar_items_put_items_sharing_tags_first():
    sports = TagFactory(name="Sports", slug="sports")
    ball = ContentItemFactory(title="Ball", tags=[sports])
    ContentItemFactory(title="Boots", tags=[sports])
    ContentItemFactory(title="Rake")

    html = render("{% similar_items item limit=4 %}", context_extra={"item": ball})

    assert html.index("Boots") < html.index("Rake")  # then items of the same kind
    assert "Ball" not in html
