"""Data-subject requests: received, handled (export or erasure) and logged, whatever the path."""

from django.db import transaction
from django.utils import timezone
from rest_framework import status

from config.errors import ApplicationError
from consent.gdpr.audit import Action, Actor, audit_log
from consent.gdpr.erase import erasure_staff_check
from consent.gdpr.export import export_text
from consent.gdpr.subjects import subject_resolve
from consent.models import DataSubjectRequest
from consent.registry import Subject
from consent.services import proof_hash

Status = DataSubjectRequest.Status
Type = DataSubjectRequest.Type


class SubjectNotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"

    def __init__(self) -> None:
        super().__init__(
            "No visitor has this id.",
            {"visitor_id": ["no visitor with this external or cookie id"]},
        )


class RequestStateError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


def subject_request_create(
    *, type: str, identifier: str, actor: Actor, notes: str = "", include_staff: bool = False
) -> DataSubjectRequest:
    """Record a request received now (due in 30 days) and log it."""
    request = DataSubjectRequest(
        type=type, subject=identifier, notes=notes, include_staff=include_staff
    )
    return subject_request_record(request=request, actor=actor)


@transaction.atomic
def subject_request_record(*, request: DataSubjectRequest, actor: Actor) -> DataSubjectRequest:
    """Save a new request (e.g. from the admin form) with its subject's hash, and log it."""
    request.subject_hash = proof_hash(request.subject)
    request.save()
    audit_log(
        action=Action.REQUESTED, actor=actor, subject_hash=request.subject_hash, request=request,
        detail={"type": request.type},
    )  # fmt: skip
    return request


def _handled(request: DataSubjectRequest, actor: Actor) -> list[str]:
    """Note the handler (a signed-in user) on the request; returns the fields changed."""
    if actor.staff_user is None or request.handled_by_id is not None:
        return []
    request.handled_by = actor.staff_user
    return ["handled_by"]


def _open_check(request: DataSubjectRequest, type: str) -> None:
    if request.type != type:
        raise RequestStateError(f"request #{request.pk} is not an {type} request")
    if request.status == Status.REJECTED:
        raise RequestStateError(f"request #{request.pk} was rejected")


def access_request_open(*, identifier: str, actor: Actor) -> tuple[DataSubjectRequest, Subject]:
    """An access request answered now (command line, API): the request and its subject."""
    subject = subject_resolve(identifier)
    if subject is None:
        raise SubjectNotFound()
    request = subject_request_create(type=Type.ACCESS, identifier=identifier, actor=actor)
    return request, subject


@transaction.atomic
def access_request_close(
    *, request: DataSubjectRequest, actor: Actor, counts: dict[str, int] | None
) -> DataSubjectRequest:
    """Mark an access request answered and log the export (rows per model when known)."""
    request.status = Status.DONE
    request.completed_at = timezone.now()
    request.save(update_fields=["status", "completed_at", *_handled(request, actor)])
    detail = {"counts": counts} if counts is not None else {}
    audit_log(
        action=Action.EXPORTED, actor=actor, subject_hash=request.subject_hash, request=request,
        detail=detail,
    )  # fmt: skip
    return request


def access_request_fulfil(*, request: DataSubjectRequest, actor: Actor) -> DataSubjectRequest:
    """Export the request's subject into the request, for download, and log it.

    Memory holds the whole export once (it is stored in one row); use the command or the API
    for subjects with very many events.
    """
    _open_check(request, Type.ACCESS)
    subject = subject_resolve(request.subject)
    if subject is None:
        raise SubjectNotFound()
    request.result, counts = export_text(subject=subject)
    request.save(update_fields=["result"])
    return access_request_close(request=request, actor=actor, counts=counts)


def erasure_request_queue(*, request: DataSubjectRequest, actor: Actor) -> DataSubjectRequest:
    """Queue the erasure task for a request (after commit) and log who asked for it."""
    from consent.tasks import erase_subject

    _open_check(request, Type.ERASURE)
    if request.status == Status.DONE:
        return request
    subject = subject_resolve(request.subject) if request.subject else None
    if subject is not None:
        erasure_staff_check(user_ids=subject.user_ids, include_staff=request.include_staff)
    with transaction.atomic():
        if fields := _handled(request, actor):
            request.save(update_fields=fields)
        audit_log(
            action=Action.ERASURE_QUEUED, actor=actor, subject_hash=request.subject_hash,
            request=request,
        )  # fmt: skip
        transaction.on_commit(lambda: erase_subject.delay(request_id=request.pk))
    return request


def erasure_request_submit(
    *, identifier: str, actor: Actor, include_staff: bool = False
) -> DataSubjectRequest:
    """Receive an erasure request for a known subject and queue its erasure.

    A subject whose account is staff is refused (ErasureRefused) unless `include_staff`, and the
    last active superuser always; nothing is recorded then.
    """
    if subject_resolve(identifier) is None:
        raise SubjectNotFound()
    with transaction.atomic():
        request = subject_request_create(
            type=Type.ERASURE, identifier=identifier, actor=actor, include_staff=include_staff
        )
        return erasure_request_queue(request=request, actor=actor)


@transaction.atomic
def subject_request_reject(
    *, request: DataSubjectRequest, actor: Actor, reason: str
) -> DataSubjectRequest:
    """Reject an open request (e.g. identity not verified); the reason goes to its notes."""
    if request.status not in DataSubjectRequest.OPEN:
        raise RequestStateError(f"request #{request.pk} is {request.get_status_display()}")
    request.status = Status.REJECTED
    request.completed_at = timezone.now()
    request.notes = f"{request.notes}\n{reason}".strip()
    request.save(update_fields=["status", "completed_at", "notes", *_handled(request, actor)])
    audit_log(
        action=Action.REJECTED, actor=actor, subject_hash=request.subject_hash, request=request
    )
    return request
