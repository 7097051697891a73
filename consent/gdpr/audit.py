"""The privacy audit log: every export and erasure, whoever ran it and however."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from config.models import ApiKey
from consent.models import DataSubjectRequest, PrivacyAuditEntry

Channel = PrivacyAuditEntry.Channel
Action = PrivacyAuditEntry.Action


@dataclass(frozen=True)
class Actor:
    """Who acts: a channel (admin, API, command line, task) and the user or API key if any."""

    channel: str
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None

    @property
    def staff_user(self) -> AbstractBaseUser | None:
        return self.user if self.user is not None and self.user.is_authenticated else None


COMMAND = Actor(channel=Channel.COMMAND)
TASK = Actor(channel=Channel.TASK)


def audit_log(
    *,
    action: str,
    actor: Actor,
    subject_hash: str,
    request: DataSubjectRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> PrivacyAuditEntry:
    """Append one audit entry; `detail` holds counts and reasons, never identifiers."""
    return PrivacyAuditEntry.objects.create(
        action=action, channel=actor.channel, actor=actor.staff_user, api_key=actor.api_key,
        request=request, subject_hash=subject_hash, detail=detail or {},
    )  # fmt: skip
