import pytest

from tests.factories import UserFactory
from tests.factories.users import PASSWORD


@pytest.mark.browser
def test_an_administrator_logs_into_the_admin_in_chromium(page, transactional_db):
    UserFactory(username="ada", superuser=True)

    page.goto("/admin/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    user_tools = page.locator("#user-tools")
    user_tools.wait_for()
    assert "ADA" in user_tools.inner_text().upper()
    assert page.locator("#site-name").inner_text() == "Tailor"
