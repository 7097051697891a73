"""Erasure (Art. 17): delete or anonymize every registered record of a subject.

`subject_erase` works through the registry in erasure order. Each model's rows of the subject go
in one statement (`DELETE … WHERE visitor_id IN (…)`, or an UPDATE; see `consent.gdpr.deletion`
for rows other tables refer to), and the models go together in one transaction with one write
of the progress to the DataSubjectRequest, so a run that dies half-way leaves a consistent state
that the next run finishes: the plan (visitor and user pks, salted hashes; no identifier) is
stored when the run starts, finished models are skipped and every step is idempotent.

One statement per model is sound on PostgreSQL: a DELETE or UPDATE takes no table lock that
blocks others' reads or writes, only the row locks of the subject's own rows, which nothing
else writes. What it must not do is hold them long. So each statement runs under a
`statement_timeout` of `ERASE_STATEMENT_TIMEOUT_MS`, and the shared transaction commits early
once it has run that long. A statement cancelled by the limit (a subject with millions of rows
in one table) rolls the transaction back, and the models are then erased one by one, each in
its own transaction, the one too large in pk-range batches of `ERASE_BATCH_SIZE`, a transaction
each. A `batch_size` asks for batches from the start. SQLite (`make run`) has one writer at a
time anyway and no such limit.

Cost: one statement per model, one progress write, two statements around the run to set and
restore the time limit, one transaction. No row is loaded into Python except where something
still refers to rows being deleted (Django's collector then). Batches: one select of the pks
closing them (every `batch_size`-th of the subject's rows by pk: one scan), then per batch one
statement and one progress write.
"""

import copy
import time
from collections.abc import Callable, Collection

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, QuerySet, Value, Window
from django.db.models.functions import Mod, RowNumber
from django.utils import timezone
from rest_framework import status

from config.errors import ApplicationError
from consent.gdpr.audit import TASK, Action, Actor, audit_log
from consent.gdpr.deletion import rows_delete
from consent.gdpr.subjects import subject_resolve
from consent.gdpr.time_limit import statement_cancelled, statement_time_limit
from consent.models import DataSubjectRequest
from consent.registry import DELETE, PersonalData, Subject, cache_keys, declarations

# A model's rows of the subject in one statement, if it ends within this; else in batches.
# One delete of 100,000 events takes some 30 ms on the benchmark's throwaway cluster.
ERASE_STATEMENT_TIMEOUT_MS = 2_000
# One delete of 50,000 events takes some 50 ms: transactions and row locks stay short.
ERASE_BATCH_SIZE = 50_000
Status = DataSubjectRequest.Status
Progress = Callable[[str, int], None]


class ErasureError(ApplicationError):
    pass


class ErasureRefused(ErasureError):
    """Erasing the subject would take admin access away: a staff account, or the last superuser.

    The request is left as it was, nothing erased: it is for a person to decide.
    """

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message, {"include_staff": [message]})


STAFF_REFUSED = (
    "the subject's user account {names} is staff: erasure would anonymize it and take its admin "
    "access away. Ask for it explicitly to erase it too (erase_subject --include-staff, "
    '"include_staff": true in the API, or "include staff accounts" on the admin request)'
)
LAST_SUPERUSER_REFUSED = (
    "the subject's user account {names} is the last active superuser: erasing it would leave "
    "no one to administer Tailor. Make another account an active superuser first"
)


def erasure_staff_check(
    *, user_ids: Collection[int], include_staff: bool, lock: bool = False
) -> None:
    """Refuse to erase staff accounts unless `include_staff`, and the last active superuser ever.

    `lock` holds the active superusers' rows until the transaction ends, so that two erasures
    running at once cannot each leave the other's superuser as the last one and erase both.
    """
    users = get_user_model()._base_manager
    staff = list(users.filter(Q(is_staff=True) | Q(is_superuser=True), pk__in=user_ids))
    if not staff:
        return
    active = users.filter(is_superuser=True, is_active=True)
    if lock:
        active = active.select_for_update()
    others = set(active.values_list("pk", flat=True)) - {user.pk for user in staff}
    names = ", ".join(repr(user.get_username()) for user in staff)
    if not others and any(user.is_superuser and user.is_active for user in staff):
        raise ErasureRefused(LAST_SUPERUSER_REFUSED.format(names=names))
    if not include_staff:
        raise ErasureRefused(STAFF_REFUSED.format(names=names))


def erase_batch(
    declaration: PersonalData,
    subject: Subject,
    *,
    after: int | None,
    upto: int | None,
    collect: bool = False,
) -> int:
    """Erase the subject's rows of one model with `after` < pk <= `upto` (None: unbounded).

    A pk range rather than a list of pks: the same rows, in a statement the database plans
    and runs in a fraction of the time. Returns how many rows of the model changed. Deletes
    go through Django's collector only with `collect` (see `consent.gdpr.deletion`).
    """
    rows = declaration.queryset(subject)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    if upto is not None:
        rows = rows.filter(pk__lte=upto)
    if declaration.erase == DELETE:
        return rows_delete(rows, collect=collect)
    if declaration.eraser is not None:
        return declaration.eraser(rows, subject)
    return rows.update(**declaration.anonymize)


def batch_bounds(rows: QuerySet, batch_size: int) -> list[int]:
    """The pks closing full batches of `rows` by pk: every `batch_size`-th, in one scan."""
    turn = Mod(Window(RowNumber(), order_by=F("pk").asc()), Value(batch_size))
    numbered = rows.order_by().annotate(turn=turn)
    return list(numbered.filter(turn=0).order_by("pk").values_list("pk", flat=True))


def _plan(request: DataSubjectRequest) -> Subject | None:
    """The stored plan of an interrupted run, else a new one from the request's subject.

    Staff accounts are checked first, on every run: one may have become staff since.
    """
    plan = request.progress.get("plan")
    subject = Subject.from_plan(plan) if plan else subject_resolve(request.subject)
    if subject is None:
        return None
    erasure_staff_check(user_ids=subject.user_ids, include_staff=request.include_staff)
    if plan:
        return subject
    request.progress = {"plan": subject.as_plan(), "done": [], "counts": {}}
    request.status = Status.IN_PROGRESS
    request.save(update_fields=["progress", "status"])
    return subject


def _erase_step(
    declaration: PersonalData,
    subject: Subject,
    request: DataSubjectRequest,
    *,
    after: int | None,
    upto: int | None,
    collect: bool,
) -> None:
    """Erase one pk range of a model with the progress it makes, in one transaction."""
    label = declaration.model._meta.label
    before = copy.deepcopy(request.progress)  # what is stored again if the transaction fails
    try:
        with transaction.atomic():
            options = {"collect": True} if collect else {}
            erased = erase_batch(declaration, subject, after=after, upto=upto, **options)
            counts = request.progress["counts"]
            counts[label] = counts.get(label, 0) + erased
            if upto is None:
                request.progress["done"].append(label)
            if erased:  # nothing changed: a later run would find nothing either
                request.save(update_fields=["progress"])
    except BaseException:
        request.progress = before
        raise


def _erase_range(
    declaration: PersonalData,
    subject: Subject,
    request: DataSubjectRequest,
    *,
    after: int | None,
    upto: int | None,
    on_progress: Progress | None,
) -> None:
    try:
        _erase_step(declaration, subject, request, after=after, upto=upto, collect=False)
    except IntegrityError:
        # Rows stored since their own model was erased refer to these: the collector finds them.
        _erase_step(declaration, subject, request, after=after, upto=upto, collect=True)
    if on_progress is not None:
        label = declaration.model._meta.label
        on_progress(label, request.progress["counts"][label])


def _erase_model(
    declaration: PersonalData,
    subject: Subject,
    request: DataSubjectRequest,
    *,
    batch_size: int | None,
    on_progress: Progress | None,
) -> None:
    if batch_size is None:
        try:
            _erase_range(
                declaration, subject, request, after=None, upto=None, on_progress=on_progress
            )
            return
        except OperationalError as exc:
            if not statement_cancelled(exc):
                raise
        batch_size = ERASE_BATCH_SIZE  # too many rows for one statement: rolled back, batches
    with statement_time_limit(0):  # the scan of millions of rows may take its time
        closing = batch_bounds(declaration.queryset(subject), batch_size)
    # The last batch is unbounded: it takes the rest, rows stored since the bounds included.
    bounds: list[int | None] = [*closing, None]
    after = None
    for upto in bounds:
        _erase_range(declaration, subject, request, after=after, upto=upto, on_progress=on_progress)
        after = upto


def _erase_together(
    declarations: list[PersonalData],
    subject: Subject,
    request: DataSubjectRequest,
    *,
    on_progress: Progress | None,
) -> tuple[list[PersonalData], bool]:
    """Erase models one statement each in one transaction, with one progress write.

    Returns the models left and whether it went through. The transaction ends early once it
    has run for the time limit, so that it holds its row locks no longer. A statement cancelled
    by the limit, or refused because rows stored meanwhile still refer to the ones it deletes,
    rolls the whole transaction back: its models are then left to `_erase_model`, one by one.
    """
    before = copy.deepcopy(request.progress)  # what is stored again if the transaction fails
    started = time.monotonic()
    erased: list[str] = []
    try:
        with transaction.atomic():
            for declaration in declarations:
                label = declaration.model._meta.label
                count = erase_batch(declaration, subject, after=None, upto=None)
                counts = request.progress["counts"]
                counts[label] = counts.get(label, 0) + count
                request.progress["done"].append(label)
                erased.append(label)
                if time.monotonic() - started > ERASE_STATEMENT_TIMEOUT_MS / 1000:
                    break
            request.save(update_fields=["progress"])
    except (OperationalError, IntegrityError) as exc:
        request.progress = before
        if isinstance(exc, OperationalError) and not statement_cancelled(exc):
            raise
        return declarations, False
    except BaseException:
        request.progress = before
        raise
    if on_progress is not None:
        for label in erased:
            on_progress(label, request.progress["counts"][label])
    return declarations[len(erased) :], True


def _erase_all(
    subject: Subject,
    request: DataSubjectRequest,
    *,
    batch_size: int | None,
    on_progress: Progress | None,
) -> None:
    """Erase every model not done yet: together while that goes through, then one by one."""
    done = request.progress["done"]
    pending = [d for d in declarations() if d.model._meta.label not in done]
    with statement_time_limit(ERASE_STATEMENT_TIMEOUT_MS):
        went_through = batch_size is None
        while pending and went_through:
            pending, went_through = _erase_together(
                pending, subject, request, on_progress=on_progress
            )
        for declaration in pending:
            _erase_model(
                declaration, subject, request, batch_size=batch_size, on_progress=on_progress
            )


def subject_erase(
    *,
    request_id: int,
    batch_size: int | None = None,
    actor: Actor = TASK,
    on_progress: Progress | None = None,
) -> dict[str, int]:
    """Erase the subject of an erasure request; returns rows erased per model. Idempotent.

    `batch_size`: erase each model in batches of this many rows (None: in one statement, in
    batches only when that runs past the time limit).
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    request = DataSubjectRequest.objects.get(pk=request_id)
    if request.type != DataSubjectRequest.Type.ERASURE:
        raise ErasureError(f"request #{request.pk} is not an erasure request")
    if request.status in (Status.DONE, Status.REJECTED):
        return dict(request.progress.get("counts", {}))
    subject = _plan(request)
    if subject is None:
        # Nothing of this subject is stored (any more): the request is fulfilled as it is.
        request.progress = {"plan": None, "done": [], "counts": {}}
    else:
        _erase_all(subject, request, batch_size=batch_size, on_progress=on_progress)
        cache.delete_many(cache_keys(subject))
    counts = dict(request.progress["counts"])
    with transaction.atomic():
        request.status = Status.DONE
        request.completed_at = timezone.now()
        request.save(update_fields=["progress", "status", "completed_at"])
        audit_log(
            action=Action.ERASED, actor=actor, subject_hash=request.subject_hash,
            request=request, detail={"counts": counts, "found": subject is not None},
        )  # fmt: skip
    return counts
