"""A banner's image URL cannot break out into CSS or HTML, on the site or in email blocks."""

import pytest
from django.template.loader import render_to_string

from tests.factories import ContentItemFactory

HOSTILE = "https://cdn.example.com/a.png');background:url('https://evil.example/track?c=1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "template",
    ["tailor/blocks/banner.html", "tailor/email/default.html", "tailor/email/product.html"],
)
def test_a_quote_in_the_image_url_stays_inside_the_image_source(template):
    item = ContentItemFactory(title="Summer sale", image_url=HOSTILE)

    html = render_to_string(template, {"item": item, "link": "https://shop.example.com/"})

    assert "url('https://evil" not in html
    assert 'src="https://cdn.example.com/a.png&#x27;);background:url(&#x27;https://evil' in html


@pytest.mark.django_db
def test_the_banner_shows_its_image_as_a_backdrop_without_inline_style():
    item = ContentItemFactory(title="Summer sale", image_url="https://cdn.example.com/sale.jpg")

    html = render_to_string("tailor/blocks/banner.html", {"item": item})

    assert (
        '<img class="tailor-block__backdrop" src="https://cdn.example.com/sale.jpg" alt="">' in html
    )
    assert "style=" not in html
