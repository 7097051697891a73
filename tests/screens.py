"""Browser tests' helpers: signing into the admin, and pictures of pages as the tests leave them
(`screenshots/`, not committed) to look at."""

from pathlib import Path

from tests.factories.users import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def screenshot(page, name: str) -> None:
    """Save the whole page as `screenshots/<name>.png`."""
    SCREENSHOTS.mkdir(exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)


def log_in(page, username: str) -> None:
    """Sign into the admin as `username` (made with the factories' password)."""
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()
