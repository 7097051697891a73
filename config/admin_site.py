"""Tailor's admin site: Django's own, with its index and navigation grouped by what people do.

Django groups admin pages by app (`content`, `personalization`, `django_celery_beat`, …), which
is how the code is split, not how an editor works. `TailorAdminSite` lists them in sections
instead: Content, Targeting, Experiments, Insights, Privacy and System. A model's section is
named here by its label, so the kernel imports no app; a model no section names appears under
its app's own name at the end, so nothing registered is ever hidden. An app's own page
(`/admin/content/`, the breadcrumbs' middle link) keeps Django's grouping by app.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse

__all__ = ["SECTIONS", "Link", "Section", "TailorAdminSite"]


@dataclass(frozen=True)
class Link:
    """A page of a section that is not a model's list, shown to those with any of `perms`."""

    name: str
    url_name: str
    perms: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    name: str
    description: str
    # Model labels (`app_label.model_name`) in the order shown, or `app_label.*` for the rest
    # of an app's models.
    models: tuple[str, ...]
    links: tuple[Link, ...] = field(default=())


SECTIONS: tuple[Section, ...] = (
    Section(
        "content", "Content", "What visitors see: items, their kinds and tags.",
        ("content.contentitem", "content.tag", "content.contentkind"),
    ),
    Section(
        "targeting", "Targeting",
        "Where content goes and to whom: slots with their rules, segments, clusters, the "
        "attributes a rule can read, and triggers that tell the email system when to send.",
        (
            "content.slot", "content.slotrule", "personalization.segment",
            "personalization.cluster", "personalization.trigger",
            "personalization.webhookendpoint", "personalization.delivery",
        ),
        links=(
            Link(
                "Attributes", "admin:personalization_segment_attributes",
                ("personalization.view_segment", "content.view_slotrule", "content.view_slot"),
                "What a targeting condition can read",
            ),
            Link(
                "Preview the site", "tailor_preview:page", ("personalization.preview_visitor",),
                "See the site as a visitor, a segment's member or with chosen request facts",
            ),
        ),
    ),
    Section(
        "experiments", "Experiments", "A/B tests and bandits on slots, and their results.",
        ("experiments.experiment", "experiments.*"),
    ),
    Section(
        "insights", "Insights",
        "How personalization performs, who visits and what they do: the dashboard, visitors, "
        "events and their recommendations.",
        (
            "insights.*", "personalization.visitor", "personalization.event",
            "personalization.recommendation",
        ),
        links=(
            Link(
                "Dashboard", "insights-dashboard", ("insights.view_insights",),
                "KPIs, the uplift of personalization, top and bottom slots, rules and items",
            ),
        ),
    ),
    Section("privacy", "Privacy", "Consent, purposes, policies and data subject requests.",
            ("consent.datasubjectrequest", "consent.consentrecord", "consent.*")),
    Section(
        "system", "System",
        "API keys, people and roles, background runs and their schedules, login attempts.",
        (
            "tailor.apikey", "auth.user", "auth.group",
            "personalization.modelrun", "personalization.clusterrun",
            "personalization.scorerun", "personalization.segmentrun",
            "personalization.featurerun", "django_celery_beat.periodictask",
            "django_celery_beat.*", "axes.*",
        ),
    ),
)  # fmt: skip


def _position(label: str, app_label: str) -> tuple[int, int] | None:
    """(section index, place in it) of a model, or None when no section names it."""
    wildcard = f"{app_label}.*"
    for number, section in enumerate(SECTIONS):
        if label in section.models:
            return number, section.models.index(label)
    for number, section in enumerate(SECTIONS):
        if wildcard in section.models:
            return number, section.models.index(wildcard)
    return None


class TailorAdminSite(admin.AdminSite):
    site_header = "Tailor"
    site_title = "Tailor admin"
    index_title = "What would you like to do?"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        if app_label is not None:  # an app's own page keeps Django's grouping
            return super().get_app_list(request, app_label)
        return self.sections(request)

    def sections(self, request: HttpRequest) -> list[dict[str, Any]]:
        """The index and navigation: each section with the pages this user may open."""
        by_section: dict[int, list[tuple[int, str, dict]]] = {}
        others: dict[str, dict[str, Any]] = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                meta = model["model"]._meta
                place = _position(meta.label_lower, meta.app_label)
                if place is None:
                    others.setdefault(app["app_label"], {**app, "models": []})
                    others[app["app_label"]]["models"].append(model)
                    continue
                by_section.setdefault(place[0], []).append((place[1], model["name"], model))
        result = []
        for number, section in enumerate(SECTIONS):
            models = [entry[2] for entry in sorted(by_section.get(number, []), key=_order)]
            models += self._links(request, section)
            if models:
                result.append(self._section_dict(section, models))
        for app in sorted(others.values(), key=lambda a: a["name"].lower()):
            app["models"].sort(key=lambda m: m["name"])
            result.append(app)
        return result

    def _section_dict(self, section: Section, models: list[dict]) -> dict[str, Any]:
        return {
            "name": section.name,
            "app_label": f"section-{section.key}",
            "app_url": reverse("admin:section", args=[section.key], current_app=self.name),
            "has_module_perms": True,
            "description": section.description,
            "models": models,
        }

    def _links(self, request: HttpRequest, section: Section) -> list[dict[str, Any]]:
        entries = []
        for link in section.links:
            if not any(request.user.has_perm(perm) for perm in link.perms):
                continue
            try:
                url = reverse(link.url_name, current_app=self.name)
            except NoReverseMatch:  # the app offering the page is not installed
                continue
            entries.append(
                {"name": link.name, "object_name": link.name.replace(" ", ""), "perms": {},
                 "admin_url": url, "add_url": None, "view_only": True}
            )  # fmt: skip
        return entries

    def get_urls(self):
        return [
            path("section/<slug:key>/", self.admin_view(self.section_view), name="section"),
            *super().get_urls(),
        ]

    def section_view(self, request: HttpRequest, key: str) -> TemplateResponse:
        """One section's pages, as Django shows one app's."""
        if key not in {section.key for section in SECTIONS}:
            raise Http404("No such section.")
        chosen = [app for app in self.sections(request) if app["app_label"] == f"section-{key}"]
        if not chosen:
            raise PermissionDenied("Nothing in this section is open to you.")
        context = {
            **self.each_context(request),
            "title": chosen[0]["name"],
            "subtitle": chosen[0]["description"],
            "app_list": chosen,
            "app_label": chosen[0]["app_label"],
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)


def _order(entry: tuple[int, str, dict]) -> tuple[int, str]:
    return entry[0], entry[1]
