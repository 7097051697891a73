import pytest

from content.models import Slot
from tests.factories import UserFactory


def slot_form(**rules: str) -> dict[str, object]:
    data: dict[str, object] = {
        "key": "hero", "name": "Hero", "description": "", "max_items": 1, "rotation": "priority",
        "frequency_cap": "", "frequency_cap_days": "",
        "rules-TOTAL_FORMS": len(rules), "rules-INITIAL_FORMS": 0,
        "rules-MIN_NUM_FORMS": 0, "rules-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    for n, condition in enumerate(rules.values()):
        data.update({
            f"rules-{n}-position": n + 1, f"rules-{n}-name": "", f"rules-{n}-condition": condition,
            f"rules-{n}-strategy": "items", f"rules-{n}-is_active": "on",
        })  # fmt: skip
    return data


@pytest.fixture
def editor_client(client):
    client.force_login(UserFactory(superuser=True))
    return client


@pytest.mark.django_db
def test_a_slot_with_valid_rules_is_saved_in_order(editor_client):
    response = editor_client.post(
        "/admin/content/slot/add/",
        slot_form(first='{"device": "mobile"}', second='{"visits": {"$gte": 3}}'),
    )

    assert response.status_code == 302
    slot = Slot.objects.get(key="hero")
    assert [r.condition for r in slot.rules.all()] == [
        {"device": "mobile"},
        {"visits": {"$gte": 3}},
    ]


@pytest.mark.django_db
def test_an_invalid_condition_is_refused_with_the_rule_and_path_named(editor_client):
    response = editor_client.post(
        "/admin/content/slot/add/",
        slot_form(
            first="{}",
            second='{"$and": [{"device": "mobile"}, {"visits": {"$gte": {"a": 1}}}]}',
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "rule 2: condition $and[1].visits" in html
    assert "$gte needs a number" in html
    assert not Slot.objects.exists()


@pytest.mark.django_db
def test_a_condition_that_is_not_json_is_refused(editor_client):
    response = editor_client.post("/admin/content/slot/add/", slot_form(first="{device: mobile"))

    assert response.status_code == 200
    assert "rule 1: condition" in response.content.decode()
    assert not Slot.objects.exists()


@pytest.mark.django_db
def test_a_value_of_the_wrong_type_for_a_known_attribute_is_refused(editor_client):
    response = editor_client.post(
        "/admin/content/slot/add/", slot_form(first='{"sessions_30d": {"$gte": "three"}}')
    )

    assert response.status_code == 200
    assert "rule 1: condition sessions_30d: $gte needs a number" in response.content.decode()
    assert not Slot.objects.exists()
