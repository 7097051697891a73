"""Experiments in the admin: set up, start, read results, and ship the winner."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.formatting import plural
from content.models import SlotRule
from experiments.models import AllocationSnapshot, Experiment, Metric, Variation
from experiments.selectors import experiment_results, experiment_sample_size
from experiments.services import (
    ExperimentError,
    experiment_pause,
    experiment_ship,
    experiment_start,
    experiment_stop,
    namespace_overlaps,
    variations_check,
)
from personalization.rules.widgets import ConditionWidget


class VariationFormSet(BaseInlineFormSet):
    """Checks the variations together: weights, one control, positions, the slot's content."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            summary = [
                f"variation {number}: {'' if field == '__all__' else field + ' '}{error}"
                for number, form in enumerate(self.forms, start=1)
                for field, errors in form.errors.items()
                for error in errors
            ]
            raise ValidationError(summary)
        kept = [
            form for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]  # fmt: skip
        variations = [form.instance for form in kept]
        for form in kept:
            for name in ("position", "is_control", "weight"):
                setattr(form.instance, name, form.cleaned_data.get(name))
        errors = variations_check(experiment=self.instance, variations=variations)
        slot = self.instance.slot
        for number, form in enumerate(kept, start=1):
            items, rules = (
                form.cleaned_data.get("items") or [],
                form.cleaned_data.get("rules") or [],
            )
            if (items or rules) and slot is None:
                errors.setdefault("items", []).append(
                    f"variation {number}: a template experiment has no slot to show items in."
                )
            if items and rules:
                errors.setdefault("rules", []).append(
                    f"variation {number}: choose items or rules, not both."
                )
            foreign = [r for r in rules if slot is not None and r.slot_id != slot.pk]
            if foreign:
                errors.setdefault("rules", []).append(
                    f"variation {number}: rule(s) {', '.join(map(str, foreign))} belong to "
                    "another slot."
                )
            if slot is not None and items:
                kinds = {k.pk for k in slot.allowed_kinds.all()}
                wrong = [i for i in items if kinds and i.kind_id not in kinds]
                if wrong:
                    errors.setdefault("items", []).append(
                        f"variation {number}: {', '.join(map(str, wrong))} is of a kind the "
                        f"slot '{slot.key}' does not show."
                    )
        if errors:
            raise ValidationError(
                [f"{field}: {message}" for field, msgs in errors.items() for message in msgs]
            )


class VariationInline(admin.TabularInline):
    model = Variation
    formset = VariationFormSet
    extra = 0
    min_num = 2
    fields = ["position", "key", "name", "is_control", "weight", "items", "rules"]
    autocomplete_fields = ["items"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "rules":
            # Only the rules of this experiment's slot are choices.
            object_id = request.resolver_match.kwargs.get("object_id")
            slot_id = (
                Experiment.objects.filter(pk=object_id).values_list("slot_id", flat=True).first()
                if object_id
                else None
            )
            kwargs["queryset"] = SlotRule.objects.filter(slot_id=slot_id).select_related("slot")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class MetricFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        primary = [
            form for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("is_primary")
        ]  # fmt: skip
        if len(primary) != 1:
            raise ValidationError(
                f"is_primary: exactly one metric must be primary ({len(primary)} are)."
            )


class MetricInline(admin.TabularInline):
    model = Metric
    formset = MetricFormSet
    extra = 0
    min_num = 1
    fields = ["is_primary", "kind", "event_type", "window_hours"]


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        exclude: list[str] = []
        widgets = {"condition": ConditionWidget}

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if instance.status == Experiment.Status.RUNNING and cleaned.get("namespace"):
            probe = Experiment(
                pk=instance.pk, namespace=cleaned["namespace"],
                namespace_start=cleaned.get("namespace_start", 0),
                namespace_end=cleaned.get("namespace_end", 1),
            )  # fmt: skip
            overlaps = namespace_overlaps(experiment=probe)
            if overlaps:
                self.add_error(
                    "namespace_start",
                    "This range overlaps running experiment(s) "
                    f"{', '.join(e.key for e in overlaps)} of the same namespace.",
                )
        return cleaned


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    list_display = ["key", "name", "slot", "status", "is_bandit", "start_at", "visitors", "results"]
    list_filter = ["status", "is_bandit", "is_holdout"]
    list_select_related = ["slot"]
    search_fields = ["key", "name", "hypothesis"]
    prepopulated_fields = {"key": ["name"]}
    autocomplete_fields = ["slot"]
    inlines = [VariationInline, MetricInline]
    actions = ["start", "pause", "stop"]
    readonly_fields = ["status", "results", "sample_size", "winner"]
    fieldsets = [
        (
            None,
            {"fields": ["key", "name", "hypothesis", "slot", "is_holdout", "status", "results"]},
        ),
        ("Schedule", {"fields": [("start_at", "end_at")]}),
        ("Who takes part", {"fields": ["coverage", "condition"]}),
        (
            "Mutually exclusive experiments",
            {
                "fields": ["namespace", ("namespace_start", "namespace_end")],
                "classes": ["collapse"],
            },
        ),
        (
            "Bucketing",
            {"fields": [("seed", "hash_version")], "classes": ["collapse"]},
        ),
        ("Bandit", {"fields": [("is_bandit", "bandit_min_share")]}),
        (
            "Sample size (before you start)",
            {"fields": [("baseline_rate", "minimum_effect"), "sample_size"]},
        ),
        ("Outcome", {"fields": ["winner"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(exposure_count=Count("exposures"))

    @admin.display(description="visitors", ordering="exposure_count")
    def visitors(self, experiment: Experiment) -> int:
        return getattr(experiment, "exposure_count", 0)

    @admin.display(description="results")
    def results(self, experiment: Experiment) -> str:
        if experiment.pk is None:
            return "-"
        url = reverse("admin:experiments_experiment_results", args=[experiment.pk])
        return format_html('<a href="{}">Results</a>', url)

    @admin.display(description="visitors needed per variation")
    def sample_size(self, experiment: Experiment) -> str:
        if experiment.pk is None or not (experiment.baseline_rate and experiment.minimum_effect):
            return "Fill in the baseline rate and the minimum detectable effect, then save."
        needed = experiment_sample_size(experiment)
        if needed is None:
            return "The lift would take the rate outside 0 to 1: choose a smaller effect."
        count = max(experiment.variations.count(), 2)
        return format_html(
            "<strong>{}</strong> visitors per variation ({} in all) to detect a {} relative "
            "lift on a {} baseline with 80 % power at a 5 % significance level "
            "(Holm-corrected across {} treatments).",
            f"{needed:,}", f"{needed * count:,}", f"{experiment.minimum_effect:.0%}",
            f"{experiment.baseline_rate:.1%}", count - 1,
        )  # fmt: skip

    def _transition(self, request, queryset, service, done: str) -> None:
        changed = 0
        for experiment in queryset:
            try:
                service(experiment=experiment)
                changed += 1
            except ExperimentError as error:
                self.message_user(request, f"{experiment.key}: {error.message}", messages.ERROR)
        if changed:
            self.message_user(request, f"{plural(changed, 'experiment')} {done}.", messages.SUCCESS)

    @admin.action(description="Start (or resume) the selected experiments", permissions=["change"])
    def start(self, request, queryset) -> None:
        self._transition(request, queryset, experiment_start, "started")

    @admin.action(description="Pause the selected experiments", permissions=["change"])
    def pause(self, request, queryset) -> None:
        self._transition(request, queryset, experiment_pause, "paused")

    @admin.action(description="Stop the selected experiments for good", permissions=["change"])
    def stop(self, request, queryset) -> None:
        self._transition(request, queryset, experiment_stop, "stopped")

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/results/",
                self.admin_site.admin_view(self.results_view),
                name="experiments_experiment_results",
            ),
            path(
                "<int:pk>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="experiments_experiment_ship",
            ),
        ]
        return urls + super().get_urls()

    def results_view(self, request: HttpRequest, pk: int):
        experiment = get_object_or_404(Experiment.objects.select_related("slot", "winner"), pk=pk)
        if not self.has_view_permission(request, experiment):
            raise PermissionDenied
        from experiments.charts import series_svg, svg_image  # matplotlib: this page only

        results = experiment_results(experiment)
        primary = results.primary
        chart = (
            svg_image(
                series_svg(primary.series, title=str(primary.metric), money=primary.is_revenue),
                alt=str(primary.metric),
            )
            if primary is not None and any(primary.series.values())
            else ""
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results: {experiment}",
            "opts": self.model._meta,
            "experiment": experiment,
            "results": results,
            "chart": chart,
            "can_ship": self.has_change_permission(request, experiment)
            and experiment.slot_id is not None
            and experiment.status != Experiment.Status.STOPPED,
            "variations": list(experiment.variations.order_by("position")),
        }
        return TemplateResponse(request, "admin/experiments/experiment/results.html", context)

    def ship_view(self, request: HttpRequest, pk: int):
        experiment = get_object_or_404(Experiment, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, experiment):
            raise PermissionDenied
        variation = Variation.objects.filter(
            experiment=experiment, pk=request.POST.get("variation")
        ).first()
        url = reverse("admin:experiments_experiment_results", args=[pk])
        if variation is None:
            self.message_user(request, "variation: choose the variation to ship.", messages.ERROR)
            return HttpResponseRedirect(url)
        try:
            experiment_ship(experiment=experiment, variation=variation)
        except ExperimentError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(url)
        self.message_user(
            request,
            f"Stopped '{experiment.key}' and made '{variation.key}' the content of slot "
            f"'{experiment.slot.key}'.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(url)


@admin.register(AllocationSnapshot)
class AllocationSnapshotAdmin(admin.ModelAdmin):
    list_display = ["experiment", "computed_at", "weights", "chance_to_win"]
    list_select_related = ["experiment"]
    list_filter = ["experiment"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
