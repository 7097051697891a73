import pytest
from django.contrib.auth.models import Group

from content.models import ContentItem
from content.services import content_item_restore, content_item_save, content_items_set_status
from tests.factories import ContentItemFactory, ContentKindFactory, TagFactory, UserFactory


@pytest.mark.django_db
def test_every_save_through_the_service_keeps_a_revision():
    editor = UserFactory()
    item = ContentItem(title="Rain shell", kind=ContentKindFactory(), body="<p>v1</p>")
    content_item_save(item=item, author=editor)
    item.body = "<p>v2</p>"
    content_item_save(item=item, author=editor)

    assert list(item.revisions.values_list("number", flat=True)) == [2, 1]
    assert item.revisions.get(number=1).data["body"] == "<p>v1</p>"


@pytest.mark.django_db
def test_restoring_a_revision_brings_back_its_fields_and_tags():
    old_tag, new_tag = TagFactory(name="Old"), TagFactory(name="New")
    item = ContentItem(title="First title", kind=ContentKindFactory())
    content_item_save(item=item, tags=[old_tag])
    item.title = "Second title"
    content_item_save(item=item, tags=[new_tag])

    content_item_restore(revision=item.revisions.get(number=1))

    item.refresh_from_db()
    assert item.title == "First title"
    assert list(item.tags.all()) == [old_tag]
    assert item.revisions.first().note == "restored revision 1"


@pytest.mark.django_db
def test_publishing_many_items_keeps_a_revision_for_each():
    drafts = ContentItemFactory.create_batch(3, status=ContentItem.Status.DRAFT)

    changed = content_items_set_status(
        items=ContentItem.objects.filter(pk__in=[d.pk for d in drafts]), status="published"
    )

    assert changed == 3
    assert set(ContentItem.objects.values_list("status", flat=True)) == {"published"}
    for draft in drafts:
        assert draft.revisions.get().data["status"] == "published"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["superuser", "editor"])
def test_an_item_with_revisions_opens_in_admin_for_the_superuser_and_an_editor(client, who):
    user = UserFactory(superuser=True) if who == "superuser" else UserFactory(staff=True)
    if who == "editor":
        user.groups.add(Group.objects.get(name="Editor"))
    item = ContentItemFactory(title="Derby day boots")
    content_item_save(item=item, author=user, note="first")
    client.force_login(user)

    response = client.get(f"/admin/content/contentitem/{item.pk}/change/")

    assert response.status_code == 200
    assert "compare with current / restore" in response.content.decode()
