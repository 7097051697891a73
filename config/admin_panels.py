"""Panels on admin object pages that higher apps fill, so a lower app's page shows their figures.

An app registers, from its `AppConfig.ready()`, a callable for a model label
(`"content.slot"`); the change form of that model's objects renders what each callable returns
(HTML, already escaped) below the form. A callable returns "" to show nothing (for instance
when the person lacks the permission); one that fails is logged and left out: a panel never
breaks the page it sits on.
"""

import logging
from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

Panel = Callable[[HttpRequest, object], str]

_panels: dict[str, list[Panel]] = {}

__all__ = ["Panel", "panels_render", "register"]


def register(model_label: str, panel: Panel) -> None:
    """Show `panel(request, obj)` on the change page of `model_label`'s objects (app.model)."""
    panels = _panels.setdefault(model_label.lower(), [])
    if panel not in panels:
        panels.append(panel)


def panels_render(request: HttpRequest, obj: object, model_label: str) -> SafeString:
    """Every registered panel of the object's model, in registration order."""
    parts = []
    for panel in _panels.get(model_label.lower(), []):
        try:
            parts.append(str(panel(request, obj)))
        except Exception:  # the page edge: a panel must not break the object page
            logger.exception("Admin panel %r failed on %s %s", panel, model_label, obj)
    return mark_safe("".join(parts))  # noqa: S308 - panels return escaped HTML
