"""Summaries are read off sanitized bodies: they hold the same words as the body's email text."""

import random

import pytest

from content.html import html_to_text, sanitize_html, summarize

PIECES = [
    "<p>Paragraph with <strong>bold</strong> and <em>emphasis</em>.</p>",
    "<div class='card'>A card<br>with a break</div>",
    "<ul><li>one</li><li>two <a href='https://example.com/?a=1&b=2' title='x > y'>link</a>"
    "</li></ul>",
    "Fish &amp; chips &lt;3 &gt; caf&eacute; &#8364;5&nbsp;off &copy;",
    "<h2>Title</h2><blockquote>Quote</blockquote><pre>  spaced\n\tcode  </pre>",
    "<script>alert('x')</script><style>p {}</style><!-- a comment -->",
    "<table><tr><td>cell</td><td>other</td></tr></table>",
    "<img src='https://example.com/a.png' alt='a > b'>text after image",
    "un<b>bro</b>ken<i>word</i>",
    "stray < and > and & in text",
    '<p onclick="evil()">handler</p><span>inline</span><hr>after rule',
    "<P>UPPER case</P><DIV>block</DIV>",
    "  leading and trailing spaces  \n\n new lines \r\n ",
    "<unknown-tag>kept text</unknown-tag><figure><figcaption>caption</figcaption></figure>",
]


def email_words(html: str) -> str:
    return " ".join(html_to_text(html).split())


@pytest.mark.parametrize("piece", PIECES)
def test_a_summary_holds_the_words_of_the_email_text_of_the_same_body(piece):
    body = sanitize_html(piece)

    assert summarize(body, limit=10_000) == email_words(body)


def test_summaries_of_mixed_bodies_match_their_email_text():
    rng = random.Random(7)
    for _ in range(300):
        body = sanitize_html("".join(rng.choices(PIECES, k=rng.randint(1, 6))))

        assert summarize(body, limit=10_000) == email_words(body), body


def test_a_long_summary_is_cut_at_a_word_with_an_ellipsis():
    body = sanitize_html("<p>" + "word " * 200 + "</p>")

    summary = summarize(body, limit=50)

    assert len(summary) <= 50
    assert summary.endswith("word…")
