from collections import Counter
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.test.signals import template_rendered

from personalization.delivery.fragments import FragmentMemo
from tests.factories import ContentItemFactory, UserFactory


@contextmanager
def renders():
    """How many times each template was rendered inside the block."""
    counts: Counter[str] = Counter()

    def count(sender, template, context, **kwargs):
        counts[template.name] += 1

    template_rendered.connect(count)
    try:
        yield counts
    finally:
        template_rendered.disconnect(count)


@pytest.fixture
def templates(tmp_path):
    """Write templates into a directory the template engine reads first."""
    engines = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    def write(name: str, source: str) -> str:
        (tmp_path / name).write_text(source)
        return name

    with override_settings(TEMPLATES=engines + settings.TEMPLATES[1:]):
        yield write


def page(source: str, **context) -> str:
    request = RequestFactory().get("/private/path")
    request.user = UserFactory(username="someone")
    return Template("{% load tailor %}" + source).render(Context({"request": request, **context}))


@pytest.mark.django_db
def test_an_items_card_is_rendered_once_for_every_page_that_shows_it():
    item = ContentItemFactory(title="Trail shoes")

    with renders() as counts:
        first = page('{% render_item item "site/card.html" %}', item=item)
        second = page('{% render_item item "site/card.html" %}', item=item)

    assert "Trail shoes" in first
    assert second == first
    assert counts["site/card.html"] == 1


@pytest.mark.django_db
def test_a_saved_item_shows_its_new_content_on_the_next_page():
    item = ContentItemFactory(title="Trail shoes")
    page('{% render_item item "site/card.html" %}', item=item)

    item.title = "Road shoes"
    item.save()

    assert "Road shoes" in page('{% render_item item "site/card.html" %}', item=item)


@pytest.mark.django_db
def test_a_card_never_sees_the_request_nor_the_user(templates):
    name = templates("leaky.html", "[{{ request.path }}|{{ user }}|{{ item.title }}]")

    html = page('{% render_item item "' + name + '" %}', item=ContentItemFactory(title="Tent"))

    assert html == "[||Tent]"


@pytest.mark.django_db
def test_each_page_gets_its_own_link_in_a_shared_rendering(templates):
    name = templates("linked.html", '<a href="{{ link|default:item.url }}">{{ item.title }}</a>')
    memo, item = FragmentMemo(), ContentItemFactory(title="Tent")

    with renders() as counts:
        mine = memo.render([name], item, link="/t/mine?a=1&b=2")
        theirs = memo.render([name], item, link="/t/theirs")

    assert mine == '<a href="/t/mine?a=1&amp;b=2">Tent</a>'
    assert theirs == '<a href="/t/theirs">Tent</a>'
    assert counts[name] == 1


@pytest.mark.django_db
def test_names_given_to_a_rendering_reach_its_template_and_tell_renderings_apart(templates):
    name = templates("railed.html", "{{ rail }}:{{ item.title }}")
    memo, item = FragmentMemo(), ContentItemFactory(title="Tent")

    assert memo.render([name], item, rail="similar") == "similar:Tent"
    assert memo.render([name], item, rail="recommendations") == "recommendations:Tent"


@pytest.mark.django_db
def test_the_memo_forgets_its_oldest_rendering_past_its_limit():
    memo = FragmentMemo(limit=2)
    items = ContentItemFactory.create_batch(3)

    with renders() as counts:
        for item in [*items, items[-1], items[0]]:
            memo.render(["site/card.html"], item)

    assert counts["site/card.html"] == 4  # the third item pushed out the first, rendered again


@pytest.mark.django_db
def test_a_card_that_cannot_render_leaves_the_rest_of_the_page():
    html = page(
        '<p>before</p>{% render_item item "missing.html" %}<p>after</p>', item=ContentItemFactory()
    )

    assert html == "<p>before</p><p>after</p>"
