from django.core.management.base import BaseCommand, CommandError

from consent.gdpr.audit import COMMAND
from consent.gdpr.export import export_write
from consent.gdpr.requests import SubjectNotFound, access_request_close, access_request_open


class _Raw:
    """The command's stdout without a line ending added after every piece."""

    def __init__(self, stdout) -> None:
        self.stdout = stdout

    def write(self, text: str) -> None:
        self.stdout.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export everything stored about a data subject as one JSON document (GDPR Art. 15/20); "
        "the export is logged as an answered access request."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("visitor_id", help="external id or cookie id")
        parser.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")

    def handle(self, *args, visitor_id: str, output: str | None, **options) -> None:
        try:
            request, subject = access_request_open(identifier=visitor_id, actor=COMMAND)
        except SubjectNotFound as exc:
            raise CommandError(f"no visitor with id {visitor_id!r}") from exc
        if output:
            with open(output, "w", encoding="utf-8") as out:
                counts = export_write(subject=subject, out=out)
        else:
            counts = export_write(subject=subject, out=_Raw(self.stdout))
            self.stdout.write("")
        access_request_close(request=request, actor=COMMAND, counts=counts)
        rows = sum(counts.values())
        where = f" to {output}" if output else ""
        self.stderr.write(
            f"Exported {rows:,} rows of {len(counts)} models{where} (access request #{request.pk})."
        )
