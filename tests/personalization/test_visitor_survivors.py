import logging
from itertools import pairwise

import pytest

from personalization.visitors.models import Visitor
from personalization.visitors.selectors import (
    MERGE_HOPS_MAX,
    visitor_resolve,
    visitor_survivor,
    visitors_survivor_profiles,
    visitors_survivors,
)
from tests.factories import VisitorFactory


def chain(length: int) -> list[Visitor]:
    """`length` visitors, each merged into the next; the last one is the survivor."""
    visitors = VisitorFactory.create_batch(length)
    for source, target in pairwise(visitors):
        source.merged_into = target
        source.save(update_fields=["merged_into"])
    return visitors


@pytest.mark.django_db
def test_unmerged_visitors_map_to_themselves():
    visitors = VisitorFactory.create_batch(3)

    assert visitors_survivors(v.pk for v in visitors) == {v.pk: v.pk for v in visitors}


@pytest.mark.django_db
def test_ids_of_no_visitor_are_left_out():
    visitor = VisitorFactory()

    assert visitors_survivors([visitor.pk, visitor.pk + 1000]) == {visitor.pk: visitor.pk}
    assert visitors_survivors([]) == {}


@pytest.mark.django_db
def test_a_chain_of_merges_leads_every_profile_on_it_to_the_last():
    first, second, last = chain(3)

    assert visitors_survivors([first.pk, second.pk, last.pk]) == {
        first.pk: last.pk,
        second.pk: last.pk,
        last.pk: last.pk,
    }


@pytest.mark.django_db
def test_a_cycle_resolves_to_the_last_distinct_visitor_and_warns(caplog):
    first, _, third = chain(3)
    third.merged_into = first
    third.save(update_fields=["merged_into"])

    with caplog.at_level(logging.WARNING, logger="personalization.visitors.selectors"):
        survivors = visitors_survivors([first.pk])

    assert survivors == {first.pk: third.pk}
    assert "cycle" in caplog.text


@pytest.mark.django_db
def test_a_chain_longer_than_the_bound_stops_there_and_warns(caplog):
    visitors = chain(MERGE_HOPS_MAX + 3)

    with caplog.at_level(logging.WARNING, logger="personalization.visitors.selectors"):
        survivors = visitors_survivors([visitors[0].pk])

    assert survivors == {visitors[0].pk: visitors[MERGE_HOPS_MAX].pk}
    assert "longer than" in caplog.text


@pytest.mark.django_db
def test_many_ids_resolve_in_one_query_per_level_of_merging(django_assert_max_num_queries):
    chains = [chain(3) for _ in range(40)]
    unmerged = VisitorFactory.create_batch(40)
    ids = [v.pk for c in chains for v in c] + [v.pk for v in unmerged]

    with django_assert_max_num_queries(3):
        survivors = visitors_survivors(ids)

    assert all(survivors[v.pk] == c[-1].pk for c in chains for v in c)
    assert all(survivors[v.pk] == v.pk for v in unmerged)


@pytest.mark.django_db
def test_loaded_profiles_of_unmerged_visitors_cost_no_query(django_assert_num_queries):
    visitors = VisitorFactory.create_batch(5)

    with django_assert_num_queries(0):
        survivors = visitors_survivor_profiles(visitors)

    assert survivors == {v.pk: v for v in visitors}


@pytest.mark.django_db
def test_one_visitor_gives_its_survivors_full_profile():
    first, _, last = chain(3)
    last.traits = {"language": "fr"}
    last.save(update_fields=["traits"])

    survivor = visitor_survivor(Visitor.objects.get(pk=first.pk))

    assert survivor == last
    assert survivor.traits == {"language": "fr"}
    assert visitor_survivor(last) is last


@pytest.mark.django_db
def test_resolving_a_merged_profiles_id_gives_its_survivor():
    first, _, last = chain(3)

    assert visitor_resolve(first.external_id) == last
    assert visitor_resolve(str(first.uid)) == last
