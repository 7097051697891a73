"""What every admin page of a chunked background run shows the same way: progress, parameters,
and that the run being served cannot be deleted until another replaces it."""

import json

from django.utils.html import format_html


class RunAdminMixin:
    """For a ModelAdmin of a run with `chunks_done`, `chunks_total`, `progress`, `parameters`
    and `is_current`. `progress_done` names what a finished chunk did to its visitors."""

    progress_done = "processed"

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_current)

    def progress_percent(self, run) -> str:
        return f"{run.progress:.0%}"

    progress_percent.short_description = "progress"

    def progress_bar(self, run) -> str:
        return format_html(
            '<progress max="{}" value="{}"></progress> {} of {} chunks of visitors {}',
            run.chunks_total or 1, run.chunks_done, run.chunks_done, run.chunks_total,
            self.progress_done,
        )  # fmt: skip

    progress_bar.short_description = "progress"

    def parameters_pretty(self, run) -> str:
        return format_html("<code>{}</code>", json.dumps(run.parameters, sort_keys=True))

    parameters_pretty.short_description = "parameters"
