"""Personal data held by consent: the consent log, data-subject requests and cached state."""

from django.db.models import Q, QuerySet

from consent import registry
from consent.selectors import state_cache_key


def _consent_records_detach(rows: QuerySet, subject: registry.Subject) -> int:
    """Keep the proof of consent, pseudonymized: the visitor link becomes the visitor's hash."""
    detached = 0
    for visitor_id, subject_hash in subject.visitor_hashes.items():
        detached += rows.filter(visitor_id=visitor_id).update(
            visitor=None, subject_hash=subject_hash
        )
    return detached


registry.register(
    "consent.ConsentRecord",
    path="visitor",
    erase=registry.ANONYMIZE,
    eraser=_consent_records_detach,
    exclude=("subject_hash",),
    extra={"purpose_key": "purpose__key", "policy_version": "policy__version"},
    description="Every consent decision, with the policy version and pseudonymous proof.",
)
registry.register(
    "consent.DataSubjectRequest",
    path="",
    subject_filter=lambda subject: Q(subject_hash__in=subject.hashes),
    erase=registry.ANONYMIZE,
    # The request stays as the record that it was handled; what could name the person goes.
    anonymize={"subject": "", "notes": "", "result": ""},
    fields=("type", "status", "received_at", "due_at", "completed_at"),
    order=900,
    description="Your requests to see or erase your data, and how they were handled.",
)
registry.register_cache_keys(lambda subject: [state_cache_key(pk) for pk in subject.visitor_ids])

registry.exempt(
    "consent.DataSubjectRequest.handled_by",
    "the privacy officer who handled the request (accountability, Art. 5(2))",
)
registry.exempt(
    "consent.PrivacyAuditEntry.actor",
    "the staff member who exported or erased; entries hold only hashes of the subject",
)
