"""Erasure (Art. 17): delete or anonymize every registered record of a subject, in batches.

`subject_erase` works through the registry in erasure order. Each batch (a range of at most
`batch_size` of the subject's rows by primary key) is erased in its own transaction together
with the progress it writes to the DataSubjectRequest, so a run that dies half-way leaves a
consistent state that the next run finishes: the plan (visitor and user pks, salted hashes; no
identifier) is stored when the run starts, finished models are skipped and every step is
idempotent.

Cost per model: one select of the pks closing the batches (every `batch_size`-th of the
subject's rows by pk: one scan of them, a row per batch back), then per batch one delete or
update of its pk range and one progress write when it changed anything; a model without rows
of the subject costs two statements. Memory holds a pk per batch (and a batch of rows when
something cascades from the model); events go in the database. 100,000 events at 50,000 a
batch are 3 deletes (the last one finds the rest, maybe nothing): about 1.5 plain deletes.
"""

from collections.abc import Callable, Collection

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value, Window
from django.db.models.functions import Mod, RowNumber
from django.utils import timezone
from rest_framework import status

from config.errors import ApplicationError
from consent.gdpr.audit import TASK, Action, Actor, audit_log
from consent.gdpr.subjects import subject_resolve
from consent.models import DataSubjectRequest
from consent.registry import DELETE, PersonalData, Subject, cache_keys, declarations

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
    declaration: PersonalData, subject: Subject, *, after: int | None, upto: int | None
) -> int:
    """Erase the subject's rows of one model with `after` < pk <= `upto` (None: unbounded).

    A pk range rather than a list of pks: the same rows, in a statement the database plans
    and runs in a fraction of the time. Returns how many rows of the model changed.
    """
    model = declaration.model
    rows = declaration.queryset(subject)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    if upto is not None:
        rows = rows.filter(pk__lte=upto)
    if declaration.erase == DELETE:
        _, per_model = rows.delete()
        return per_model.get(model._meta.label, 0)
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


def _erase_model(
    declaration: PersonalData,
    subject: Subject,
    request: DataSubjectRequest,
    *,
    batch_size: int,
    on_progress: Progress | None,
) -> None:
    label = declaration.model._meta.label
    counts = request.progress["counts"]
    # The last batch is unbounded: it takes the rest, rows stored since the bounds included.
    bounds: list[int | None] = [*batch_bounds(declaration.queryset(subject), batch_size), None]
    after = None
    for upto in bounds:
        with transaction.atomic():
            erased = erase_batch(declaration, subject, after=after, upto=upto)
            counts[label] = counts.get(label, 0) + erased
            if upto is None:
                request.progress["done"].append(label)
            if erased:  # nothing changed: a later run would find nothing either
                request.save(update_fields=["progress"])
        if on_progress is not None:
            on_progress(label, counts[label])
        after = upto


def subject_erase(
    *,
    request_id: int,
    batch_size: int = ERASE_BATCH_SIZE,
    actor: Actor = TASK,
    on_progress: Progress | None = None,
) -> dict[str, int]:
    """Erase the subject of an erasure request; returns rows erased per model. Idempotent."""
    if batch_size < 1:
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
        for declaration in declarations():
            if declaration.model._meta.label not in request.progress["done"]:
                _erase_model(
                    declaration, subject, request, batch_size=batch_size, on_progress=on_progress
                )
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
