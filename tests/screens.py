"""Pictures of pages as browser tests leave them: `screenshots/` (not committed) to look at."""

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def screenshot(page, name: str) -> None:
    """Save the whole page as `screenshots/<name>.png`."""
    SCREENSHOTS.mkdir(exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)
