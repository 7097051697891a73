"""Webhook secrets (made, encrypted at rest, masked) and Standard Webhooks signatures.

A secret is `whsec_` + base64 of 32 random bytes, as the Standard Webhooks convention has it.
Tailor must sign with it, so it cannot be hashed: it is stored encrypted (Fernet, a key derived
from `TAILOR_WEBHOOK_SECRET_KEY`, else `SECRET_KEY`; the `SECRET_KEY_FALLBACKS` still decrypt
after a key rotation) and shown in full once, when it is made.

Signatures come from the `standardwebhooks` package, the convention's reference library: the
headers `webhook-id` (the delivery's id, the same on every retry), `webhook-timestamp` (epoch
seconds of this attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under the secret's bytes).
"""

import base64
import hashlib
import secrets
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from config.errors import ApplicationError

PREFIX = "whsec_"
HINT_LENGTH = 10


class SecretError(ApplicationError):
    """A stored secret that no configured key decrypts (the key changed without a fallback)."""


def secret_new() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_hint(secret: str) -> str:
    """The first characters of a secret: enough to recognise it, far too few to use it."""
    return secret[:HINT_LENGTH]


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(f"tailor.webhook-secret:{key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    primary = settings.TAILOR_WEBHOOK_SECRET_KEY or settings.SECRET_KEY
    fallbacks = [] if settings.TAILOR_WEBHOOK_SECRET_KEY else settings.SECRET_KEY_FALLBACKS
    return MultiFernet([_fernet(key) for key in (primary, *fallbacks)])


def secret_encrypt(secret: str) -> str:
    return _keys().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(
            "the endpoint's secret cannot be decrypted: the key changed; rotate the secret"
        ) from exc


def signed_headers(*, secret: str, webhook_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt at sending `body`."""
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
