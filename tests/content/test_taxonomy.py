import pytest

from content.models import Tag
from content.selectors import items_published, items_with_tags, tag_subtree
from content.services import tag_save, tags_ensure
from tests.factories import ContentItemFactory


@pytest.mark.django_db
def test_tags_ensure_builds_the_tree_from_paths():
    tags = tags_ensure(["sports/football", "sports/running"])

    assert tags["sports/football"].parent.slug == "sports"
    assert tags["sports/football"].path == "sports/football"
    assert Tag.objects.count() == 3


@pytest.mark.django_db
def test_an_item_matches_a_tag_through_any_of_its_descendants():
    tags = tags_ensure(["sports/football", "home/kitchen"])
    ball = ContentItemFactory(tags=[tags["sports/football"]])
    pan = ContentItemFactory(tags=[tags["home/kitchen"]])

    matched = set(items_with_tags(items_published(), ["sports"]))

    assert matched == {ball}
    assert pan not in matched


@pytest.mark.django_db
def test_moving_a_tag_moves_the_paths_of_its_descendants():
    tags = tags_ensure(["sports/football/boots"])
    outdoors = tags_ensure(["outdoors"])["outdoors"]
    football = tags["sports/football/boots"].parent

    football.parent = outdoors
    tag_save(tag=football)

    assert Tag.objects.get(slug="boots").path == "outdoors/football/boots"
    assert set(tag_subtree(["outdoors"]).values_list("slug", flat=True)) == {
        "outdoors", "football", "boots",
    }  # fmt: skip


@pytest.mark.django_db
def test_a_tag_cannot_be_moved_under_its_own_child():
    from django.core.exceptions import ValidationError

    tags = tags_ensure(["sports/football"])
    sports = tags["sports/football"].parent
    sports.parent = tags["sports/football"]

    with pytest.raises(ValidationError, match="inside itself"):
        tag_save(tag=sports)


def test_a_tag_reads_as_its_capitalised_path_in_the_admin():
    from content.models import Tag

    assert str(Tag(name="garden", path="home/garden")) == "Home > Garden"
    assert str(Tag(name="iPhone cases", path="tech/iphone-cases")) == "Tech > iPhone cases"
