"""An editor's admin in chromium, as the superuser and as each role: edit an item, create an API
key, read a run page; and no page scrolls sideways on a laptop or a phone.

Each step saves a picture in `screenshots/` (`walkthrough-<who>-<step>.png`) to look at.
"""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from config.models import ApiKey
from content.models import ContentItem
from personalization.recommendations.models import ModelRun
from tests.factories import ContentItemFactory, ContentKindFactory, TagFactory, UserFactory
from tests.factories.users import PASSWORD
from tests.screens import screenshot

WHO = ("superuser", "Editor", "Analyst", "Privacy officer")
LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


def person(who: str):
    if who == "superuser":
        return UserFactory(username="root", superuser=True)
    user = UserFactory(username=who.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=who))
    return user


def log_in(page, user) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()


def picture(page, who: str, step: str) -> None:
    screenshot(page, f"walkthrough-{who.lower().replace(' ', '-')}-{step}")


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


@pytest.mark.browser
@pytest.mark.parametrize("who", WHO)
def test_editing_an_item_is_open_to_editors_and_read_only_or_refused_for_others(
    page, transactional_db, who
):
    item = ContentItemFactory(
        title="Trail shoes", kind=ContentKindFactory(key="product"),
        tags=[TagFactory(name="running shoes", slug="running-shoes")], metadata={"price": 89.9},
    )  # fmt: skip
    log_in(page, person(who))

    answer = page.goto(f"/admin/content/contentitem/{item.pk}/change/")
    if who in ("superuser", "Editor"):
        page.fill("#id_title", "Trail shoes, second edition")
        page.click("input[name=_save]")
        page.locator(".messagelist .success").wait_for()
        picture(page, who, "edit-item")
        assert ContentItem.objects.get(pk=item.pk).title == "Trail shoes, second edition"
    elif who == "Analyst":
        picture(page, who, "edit-item")
        assert answer.status == 200
        assert page.locator("input[name=_save]").count() == 0  # read only
        assert "Trail shoes" in page.locator("#content").inner_text()
    else:
        picture(page, who, "edit-item")
        assert answer.status == 403
    assert not scrolls_sideways(page)


@pytest.mark.browser
@pytest.mark.parametrize("who", WHO)
def test_only_the_superuser_creates_an_api_key_and_sees_it_once(page, transactional_db, who):
    log_in(page, person(who))

    answer = page.goto("/admin/tailor/apikey/add/")
    if who == "superuser":
        page.fill("#id_name", "newsletter system")
        page.check("input[value='blocks:read']")
        page.click("input[name=_save]")
        secret = page.locator("#new-api-key").inner_text()
        picture(page, who, "api-key-created")
        key = ApiKey.objects.get(name="newsletter system")
        assert secret.startswith(f"tl_{key.prefix}_") and key.scopes == ["blocks:read"]
        page.goto(f"/admin/tailor/apikey/{key.pk}/change/")
        assert secret not in page.content()
    else:
        picture(page, who, "api-key-refused")
        assert answer.status == 403
        assert not ApiKey.objects.exists()
    assert not scrolls_sideways(page)


@pytest.mark.browser
@pytest.mark.parametrize("who", WHO)
def test_a_run_page_reads_in_plain_words_for_those_who_may_see_it(page, transactional_db, who):
    run = ModelRun.objects.create(
        status=ModelRun.Status.FINISHED, algorithm="hybrid", chunks_total=4, chunks_done=4,
        duration_seconds=0.186, visitors_count=12345, visitors_done=12345,
        parameters={"weights": {"ease": 1.0, "item_knn": 0.5}, "chunk_size": 2000},
        metrics={"hybrid": {"ndcg": 0.41, "precision": 0.12}, "popularity": {"ndcg": 0.2}},
    )  # fmt: skip
    log_in(page, person(who))

    answer = page.goto(f"/admin/personalization/modelrun/{run.pk}/change/")
    picture(page, who, "run-page")
    if who in ("superuser", "Analyst"):
        text = page.locator("#content").inner_text()
        assert "0.2 s" in text and "12,345" in text and "4 of 4 chunks (100%)" in text
        assert page.locator("progress.tailor-progress").count() == 1
        assert page.locator("table.tailor-facts th", has_text="Chunk size").count() == 1
        assert page.locator("table.tailor-metrics td.best").inner_text() == "0.410"
    else:
        assert answer.status == 403
    assert not scrolls_sideways(page)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", visitors=12, stdout=StringIO())


TOUCHED_ADMIN_PAGES = [
    "/admin/", "/admin/section/content/", "/admin/section/targeting/",
    "/admin/section/system/", "/admin/personalization/segment/attributes/",
    "/admin/tailor/apikey/", "/admin/tailor/apikey/add/",
    "/admin/content/contentitem/", "/admin/content/contentitem/{item}/change/",
    "/admin/content/slot/{slot}/change/", "/admin/personalization/segment/{segment}/change/",
    "/admin/personalization/modelrun/", "/admin/personalization/modelrun/{model_run}/change/",
    "/admin/personalization/scorerun/{score_run}/change/",
    "/admin/personalization/segmentrun/", "/admin/personalization/featurerun/",
    "/admin/experiments/experiment/{experiment}/change/",
    "/admin/experiments/experiment/{experiment}/results/",
    "/admin/consent/datasubjectrequest/add/",
]  # fmt: skip
SITE_PAGES = ["/", "/tags/sports/", "/tags/running/?kind=product", "/items/{item_slug}/"]


def page_ids() -> dict[str, object]:
    from content.models import Slot
    from experiments.models import Experiment
    from personalization.scores.models import ScoreRun
    from personalization.segments.models import Segment

    item = ContentItem.objects.filter(kind__key="product").first()
    return {
        "item": item.pk, "item_slug": item.slug, "slot": Slot.objects.first().pk,
        "segment": Segment.objects.get(key="runners").pk,
        "model_run": ModelRun.objects.first().pk, "score_run": ScoreRun.objects.first().pk,
        "experiment": Experiment.objects.first().pk,
    }  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize("screen", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_no_page_scrolls_sideways_on_a_laptop_or_a_phone(page, demo, screen):
    ids = page_ids()
    page.set_viewport_size(screen)
    log_in(page, person("superuser"))

    wide = {}
    for url in [u.format(**ids) for u in TOUCHED_ADMIN_PAGES + SITE_PAGES]:
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("networkidle")  # widgets drawn by scripts included
        if scrolls_sideways(page):
            wide[url] = page.evaluate("document.scrollingElement.scrollWidth")
    picture(page, "superuser", f"item-page-{screen['width']}")

    assert wide == {}
