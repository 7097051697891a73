import pytest
from django.template import Context, Template

from tests.factories import ContentItemFactory, UserFactory

HOSTILE = (
    '<p>Hello <b>reader</b></p><script>alert("x")</script>'
    '<img src="https://img.example.com/a.png" onerror="alert(1)">'
    '<a href="javascript:alert(2)" onclick="steal()">link</a>'
)


@pytest.mark.django_db
def test_a_saved_body_keeps_no_script_and_no_event_handler():
    item = ContentItemFactory(body=HOSTILE)
    item.refresh_from_db()

    assert "<script" not in item.body
    assert "onerror" not in item.body
    assert "onclick" not in item.body
    assert "javascript:" not in item.body
    assert "<b>reader</b>" in item.body


def test_rendering_sanitizes_html_written_around_the_model():
    rendered = Template("{% load tailor %}{{ body|sanitized }}").render(Context({"body": HOSTILE}))

    assert "<script" not in rendered
    assert "onerror" not in rendered
    assert '<img src="https://img.example.com/a.png">' in rendered


@pytest.mark.django_db
def test_an_empty_summary_is_derived_from_the_body_as_plain_text():
    item = ContentItemFactory(
        body="<h2>Spring sale</h2><p>Everything &amp; more, 20&nbsp;% off.</p>"
    )

    assert item.summary == "Spring sale Everything & more, 20 % off."


@pytest.mark.django_db
def test_the_preview_shows_the_item_without_its_script(client):
    client.force_login(UserFactory(superuser=True))
    item = ContentItemFactory(body=HOSTILE, title="Safe item")

    response = client.get(f"/admin/content/contentitem/{item.pk}/preview/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Safe item" in html
    assert "alert(" not in html
