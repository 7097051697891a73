import pytest
from django.contrib.auth.models import Group

from content.models import ContentItem, SlotRule
from tests.factories import SlotFactory, TagFactory, UserFactory
from tests.factories.users import PASSWORD


def choose_in_autocomplete(page, container: str, text: str) -> None:
    """Pick `text` in the select2 autocomplete inside `container`."""
    page.locator(f"{container} .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


@pytest.mark.browser
def test_an_editor_creates_publishes_targets_and_previews_an_item(page, transactional_db):
    editor = UserFactory(username="edith", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    TagFactory(name="Football")
    SlotFactory(key="homepage-hero", name="Home page hero")

    page.goto("/admin/login/")
    page.fill("#id_username", "edith")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()

    page.goto("/admin/content/contentitem/add/")
    page.fill("#id_title", "Derby day boots")
    page.select_option("#id_kind", label="Article")
    choose_in_autocomplete(page, ".field-tags", "Football")
    page.fill("#id_body", "<p>Studs for soft ground.</p>")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()

    page.locator("#result_list tbody tr", has_text="Derby day boots").locator(
        "input.action-select"
    ).check()
    page.select_option("select[name=action]", value="publish")
    page.click("button[name=index]")
    page.locator(".messagelist", has_text="set to published").wait_for()

    page.goto("/admin/content/slot/")
    page.click("text=homepage-hero")
    page.click("a.tailor-add-rule")
    page.fill("#id_name", "Football fans")
    page.locator(".field-condition").get_by_role("tab", name="JSON").click()
    page.fill("#id_condition", '{"affinity.football": {"$gte": 0.5}}')
    choose_in_autocomplete(page, ".field-items", "Derby day boots")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()

    item = ContentItem.objects.get(title="Derby day boots")
    rule = SlotRule.objects.get(slot__key="homepage-hero")
    assert item.status == ContentItem.Status.PUBLISHED
    assert [t.name for t in item.tags.all()] == ["Football"]
    assert list(rule.items.all()) == [item]

    page.goto(f"/admin/content/contentitem/{item.pk}/change/")
    preview = page.locator("a.tailor-preview").get_attribute("href")
    page.goto(preview)
    assert page.locator(".tailor-block__title").inner_text() == "Derby day boots"
    assert "Studs for soft ground" in page.locator(".tailor-preview").inner_text()
