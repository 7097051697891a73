from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from consent.gdpr.audit import COMMAND
from consent.gdpr.erase import ErasureRefused, erasure_staff_check, subject_erase
from consent.gdpr.requests import erasure_request_queue, subject_request_create
from consent.gdpr.subjects import subject_resolve
from consent.models import DataSubjectRequest


class Command(BaseCommand):
    help = (
        "Erase every record of a data subject (GDPR Art. 17): delete or anonymize them, each "
        "model in one statement or, when that would hold its rows too long, in batches. "
        "Asks for confirmation unless --yes is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("visitor_id", help="external id or cookie id")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument(
            "--include-staff", action="store_true",
            help="also erase (anonymize and demote) a staff user account linked to the subject; "
            "the last active superuser is never erased",
        )  # fmt: skip
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="queue the erasure task"
        )
        parser.add_argument(
            "--batch-size", type=int, default=None,
            help="erase each model in batches of this many rows (default: one statement, "
            "batches only for a model too large for one)",
        )  # fmt: skip

    def handle(
        self, *args, visitor_id: str, yes: bool, include_staff: bool, run_async: bool,
        batch_size: int | None, **options,
    ) -> None:  # fmt: skip
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        subject = subject_resolve(visitor_id)
        if subject is None:
            self.stdout.write(f"No visitor has the id {visitor_id!r}: nothing to erase.")
            return
        try:
            erasure_staff_check(user_ids=subject.user_ids, include_staff=include_staff)
        except ErasureRefused as exc:
            raise CommandError(f"Erasure refused: {exc.message}; nothing was changed.") from exc
        if not yes:
            self._confirm(
                visitor_id, profiles=len(subject.visitor_ids), users=len(subject.user_ids)
            )
        request = subject_request_create(
            type=DataSubjectRequest.Type.ERASURE, identifier=visitor_id, actor=COMMAND,
            include_staff=include_staff,
        )  # fmt: skip
        if run_async:
            erasure_request_queue(request=request, actor=COMMAND)
            self.stdout.write(f"Erasure queued (request #{request.pk}).")
            return
        self._erase(request, batch_size)

    def _erase(self, request: DataSubjectRequest, batch_size: int | None) -> None:
        with tqdm(desc="erasing", unit=" rows", disable=None) as bar:
            seen: dict[str, int] = {}

            def progress(label: str, count: int) -> None:
                bar.update(count - seen.get(label, 0))
                bar.set_postfix_str(label)
                seen[label] = count

            try:
                counts = subject_erase(
                    request_id=request.pk, batch_size=batch_size, actor=COMMAND,
                    on_progress=progress,
                )  # fmt: skip
            except ErasureRefused as exc:
                message = f"Erasure refused: {exc.message}; request #{request.pk} is left open."
                raise CommandError(message) from exc
        for label, count in sorted(counts.items()):
            self.stdout.write(f"  {label:<36} {count:>10,}")
        self.stdout.write(f"Erased {sum(counts.values()):,} rows (request #{request.pk}).")

    def _confirm(self, visitor_id: str, *, profiles: int, users: int) -> None:
        self.stdout.write(
            f"This erases every record of {visitor_id!r} ({profiles} profile(s), {users} user "
            "account(s)) and cannot be undone."
        )
        try:
            answer = input("Type 'yes' to erase: ")
        except EOFError:
            answer = ""
        if answer.strip() != "yes":
            raise CommandError("Erasure aborted: nothing was changed.")
