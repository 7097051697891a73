"""`ConditionWidget`: a targeting condition edited in a rule builder or as raw JSON.

The form field stays the textarea (a `JSONField`'s widget), so what is saved, and every
validation message Django shows for it, is the same with or without JavaScript. The
builder (`condition-builder.js`) reads and writes that textarea; it loads the attribute
catalogue from, and tests conditions against a visitor with, the views of
`personalization.decisions.admin_views`.
"""

from typing import Any

from django import forms
from django.urls import reverse


class ConditionWidget(forms.Textarea):
    """A condition textarea with a rule builder, a JSON tab and "test against a visitor"."""

    template_name = "personalization/widgets/condition.html"

    class Media:
        css = {"all": ["personalization/condition-builder.css"]}
        js = ["personalization/condition-builder.js"]

    def __init__(self, attrs: dict[str, Any] | None = None, *, test_context: bool = True) -> None:
        # test_context: offer request fields (device, utm_source, country) when testing, for
        # conditions that read the request; a visitor's stored data alone has none of them.
        super().__init__(attrs={"rows": 6, "spellcheck": "false", **(attrs or {})})
        self.test_context = test_context

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["builder"] = {
            "attributes_url": reverse("tailor_admin:attributes"),
            "test_url": reverse("tailor_admin:condition_test"),
            "values_url": reverse("tailor_admin:values"),
            "test_context": self.test_context,
        }
        return context
