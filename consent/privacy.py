"""Personal data held by consent, and by Django's own apps, which no Tailor app owns.

Consent: the consent log, data-subject requests and cached state. Django: user accounts linked to
visitors, and the admin log.
"""

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from consent import registry
from consent.gdpr.erase import erasure_staff_check
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

# Django's own apps: user accounts and the admin log.
ERASED_USERNAME = "erased-{pk}"
# Account fields a subject gets in their export (those the user model has); never the password.
USER_EXPORT_FIELDS = ("first_name", "last_name", "date_joined", "last_login", "is_active")


def _users_anonymize(rows: QuerySet, subject: registry.Subject) -> int:
    """Keep the account row (authorship points at it) but nothing that names or admits anyone.

    Erasure has refused staff accounts it was not asked to include; the last active superuser
    is refused here too, with the superusers locked, whatever ran the erasure.
    """
    users = list(rows)
    erasure_staff_check(user_ids=[user.pk for user in users], include_staff=True, lock=True)
    erased = 0
    for user in users:
        setattr(user, user.USERNAME_FIELD, ERASED_USERNAME.format(pk=user.pk))
        setattr(user, user.get_email_field_name(), "")
        for name in ("first_name", "last_name"):
            if hasattr(user, name):
                setattr(user, name, "")
        user.set_unusable_password()  # also ends the account's sessions
        user.is_active = user.is_staff = user.is_superuser = False
        user.last_login = None
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
        erased += 1
    return erased


def _user_export_fields() -> tuple[str, ...]:
    user = get_user_model()
    names = {f.name for f in user._meta.get_fields()}
    own = (user.USERNAME_FIELD, user.get_email_field_name())
    return tuple(dict.fromkeys([*own, *(n for n in USER_EXPORT_FIELDS if n in names)]))


registry.register(
    settings.AUTH_USER_MODEL,
    path="visitor",
    # By the pks noted when erasure starts: the link from the visitor goes with the visitor.
    subject_filter=lambda subject: Q(pk__in=subject.user_ids),
    erase=registry.ANONYMIZE,
    eraser=_users_anonymize,
    fields=_user_export_fields(),
    order=500,
    description="Your user account: user name, email address and name.",
)


def _log_entries(subject: registry.Subject) -> Q:
    """Admin log entries about the subject's visitors and user account (their names)."""
    from django.contrib.contenttypes.models import ContentType

    of = ContentType.objects.get_for_model
    visitors = [str(pk) for pk in subject.visitor_ids]
    users = [str(pk) for pk in subject.user_ids]
    return Q(content_type=of(apps.get_model(registry.VISITOR)), object_id__in=visitors) | Q(
        content_type=of(get_user_model()), object_id__in=users
    )


if apps.is_installed("django.contrib.admin"):
    registry.register(
        "admin.LogEntry",
        path="",
        subject_filter=_log_entries,
        erase=registry.ANONYMIZE,
        anonymize={"object_repr": "(erased)", "change_message": ""},
        exported=False,  # staff's record of their work; it only names the subject
        order=800,
        description="Admin history entries naming the subject.",
    )
    registry.exempt(
        "admin.LogEntry.user",
        "the staff member who acted; entries about the subject are erased by `admin.LogEntry`",
    )
