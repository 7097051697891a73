"""Numbers as people read them: durations, counts and plurals, prices, intervals, labels."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from config import formatting
from config.run_admin import facts_table, label, progress_html, value_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.186, "0.2 s"), (0, "0.0 s"), (9.94, "9.9 s"), (42.4, "42 s"), (185, "3 min 5 s"),
     (120, "2 min"), (7500, "2 h 5 min"), (None, "—")],
)  # fmt: skip
def test_durations_read_in_seconds_minutes_and_hours(seconds, text):
    assert formatting.duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12345, "12,345"), (1234.5, "1,234.50"), (Decimal("0.5"), "0.50"), (None, "—"), (True, "yes")],
)
def test_numbers_have_thousands_separators(value, text):
    assert formatting.number(value) == text


def test_counts_use_the_singular_for_one_and_the_plural_otherwise():
    assert formatting.plural(1, "treatment") == "1 treatment"
    assert formatting.plural(2, "treatment") == "2 treatments"
    assert formatting.plural(0, "visitor") == "0 visitors"
    assert formatting.plural(1200, "person", "people") == "1,200 people"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(89.9, "EUR", "€89.90"), ("1200", "CHF", "1,200.00 CHF"), (5, "£", "£5.00"),
     (-3.5, "USD", "-$3.50"), (None, "EUR", "—")],
)  # fmt: skip
def test_prices_have_two_decimals_and_their_currency(amount, currency, text):
    assert formatting.money(amount, currency) == text


def test_an_item_without_a_price_shows_none():
    assert formatting.item_price({"brand": "Acme"}) == ""
    assert formatting.item_price({"price": 20, "currency": "GBP"}) == "£20.00"


def test_an_interval_past_a_hundred_points_is_not_enough_data_yet():
    assert formatting.interval_points(-0.025, 0.04) == "-2.5 to +4.0 points"
    assert formatting.interval_points(-1.4, 0.9) == "not enough data yet"
    assert formatting.interval_points(None, 0.1) == "—"


def test_tag_names_are_capitalised_for_display_but_keep_their_own_capitals():
    assert formatting.label("running shoes") == "Running shoes"
    assert formatting.label("iPhone cases") == "iPhone cases"
    assert formatting.label("UK") == "UK"


def test_template_filters_format_prices_durations_and_plurals():
    class Item:
        metadata = {"price": 89.9}

    rendered = Template(
        "{% load tailor_format %}{{ item|price }}|{{ s|duration }}|{{ n|counted:'treatment' }}"
        "|{{ big|thousands }}"
    ).render(Context({"item": Item(), "s": 0.2, "n": 1, "big": 1234567}))

    assert rendered == "€89.90|0.2 s|1 treatment|1,234,567"


def test_run_parameters_are_a_table_with_labelled_rows():
    html = facts_table({"chunk_size": 2000, "k_range": [2, 8], "weights": {"ease": 1.0}})

    assert '<th scope="row">Chunk size</th><td>2,000</td>' in html
    assert '<th scope="row">Clusters (k) range</th><td>2, 8</td>' in html
    assert '<th scope="row">EASE</th><td>1.000</td>' in html


def test_metric_names_read_as_words():
    assert label("roc_auc") == "ROC AUC"
    assert label("item_knn") == "Item kNN"
    assert value_text(0.71) == "0.710"


def test_progress_is_a_bar_with_words_beside_it():
    html = progress_html(3, 4, "of visitors scored")

    assert '<progress class="tailor-progress" max="4" value="3"' in html
    assert "3 of 4 chunks (75%) of visitors scored" in html
