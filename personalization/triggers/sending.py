"""Sending one delivery: claim it, respect the endpoint's circuit and rate, POST, log, decide.

A worker claims a due delivery with one conditional update (pending and due, or claimed by a
worker that was lost), so two messages for the same delivery send it once; a worker that dies
mid-request leaves a claim that expires and the delivery is sent again with the same id
(at least once). What an answer means:

- 2xx: succeeded.
- 410 Gone: failed, and the endpoint is disabled (the receiver said it is gone).
- 429, 5xx, a timeout or no connection: tried again after an exponential backoff with jitter
  (from 5 s, doubling to an hour; at least `Retry-After`) until `TAILOR_WEBHOOK_RETRY_HOURS`
  after it was made, then failed. Each counts towards the endpoint's circuit breaker: after
  `CIRCUIT_FAILURES` in a row nothing is sent
  to it for 30 s, doubling to an hour; then one request probes, and a success closes it.
- Any other answer (3xx, 4xx): failed at once, not retried.

Before each request the visitor's consent for the trigger's purpose is checked again: a
delivery whose visitor withdrew it is deleted unsent.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from consent.selectors import consent_states
from personalization.triggers.models import Delivery, DeliveryAttempt, WebhookEndpoint
from personalization.triggers.selectors import triggers_cache_bump
from personalization.triggers.signing import SecretError, secret_decrypt, signed_headers
from personalization.triggers.transport import Answer, UnsafeEndpoint, post

logger = logging.getLogger(__name__)
BACKOFF_BASE = 5.0  # seconds before the first retry (half of it fixed, half random)
MAX_BACKOFF = 3600.0
CIRCUIT_FAILURES = 5  # failures in a row that open an endpoint's circuit
CIRCUIT_BASE = 30.0
Status = Delivery.Status


@dataclass(frozen=True)
class Outcome:
    """Where a delivery stands after a try: its status and, while pending, seconds to wait."""

    status: str
    retry_in: float | None = None


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Wait before the next try after `attempts` failed ones: half fixed, half random."""
    ceiling = min(BACKOFF_BASE * 2 ** (attempts - 1), MAX_BACKOFF)
    wait = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy
    return min(max(wait, retry_after or 0.0), MAX_BACKOFF)


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    lease = now + timedelta(seconds=settings.TAILOR_WEBHOOK_TIMEOUT_SECONDS + 30)
    claimed = (
        Delivery.objects.filter(pk=delivery_id, next_attempt_at__lte=now)
        .filter(Q(status=Status.PENDING) | Q(status=Status.SENDING, claimed_until__lt=now))
        .update(status=Status.SENDING, claimed_until=lease)
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("endpoint", "trigger").get(pk=delivery_id)


def _release(delivery: Delivery, wait: float, now: datetime) -> Outcome:
    """Back to pending without a try (circuit open, rate reached)."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.PENDING, next_attempt_at=now + timedelta(seconds=wait), claimed_until=None
    )
    return Outcome(Status.PENDING, wait)


def _circuit_wait(endpoint: WebhookEndpoint, now: datetime) -> float:
    """Seconds until the endpoint may be sent to again (0: now; this worker probes)."""
    until = endpoint.circuit_open_until
    if until is None:
        return 0.0
    if until > now:
        return (until - now).total_seconds()
    probe = settings.TAILOR_WEBHOOK_TIMEOUT_SECONDS + 5
    won = WebhookEndpoint.objects.filter(pk=endpoint.pk, circuit_open_until=until).update(
        circuit_open_until=now + timedelta(seconds=probe)
    )
    return 0.0 if won else probe


def _rate_allows(endpoint: WebhookEndpoint, now: datetime) -> bool:
    """One more request this second within the endpoint's rate (a counter in the cache)."""
    key = f"tailor:webhook-rate:{endpoint.pk}:{int(now.timestamp())}"
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # the first request of this second
            count = 1 if cache.add(key, 1, timeout=5) else cache.incr(key)
        return count <= endpoint.rate_per_second
    except Exception:  # the cache is down: sending matters more than the limit
        logger.warning("Webhook rate limit not applied: the cache did not answer")
        return True


def _consent_withdrawn(delivery: Delivery) -> bool:
    if delivery.visitor_id is None or delivery.trigger is None:
        return False
    state = consent_states([delivery.visitor_id])[delivery.visitor_id]
    return not state.get(delivery.trigger.purpose, False)


def _request(delivery: Delivery) -> Answer:
    body = delivery.body.encode()
    try:
        headers = signed_headers(
            secret=secret_decrypt(delivery.endpoint.secret_encrypted),
            webhook_id=delivery.webhook_id, body=body, at=timezone.now(),
        )  # fmt: skip
        return post(
            url=delivery.endpoint.url, body=body, headers=headers,
            timeout=settings.TAILOR_WEBHOOK_TIMEOUT_SECONDS,
        )  # fmt: skip
    except (UnsafeEndpoint, SecretError) as exc:
        return Answer(None, error=f"refused: {exc.message}"[:300])


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> Outcome | None:
    """Try to send one delivery now; None when it is not due or another worker has it."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return _finish(delivery, Status.FAILED, now, error="the endpoint is disabled")
    if _consent_withdrawn(delivery):
        delivery.delete()
        return Outcome("deleted")
    if wait := _circuit_wait(endpoint, now):
        return _release(delivery, wait, now)
    if not _rate_allows(endpoint, now):
        return _release(delivery, 1.0 + random.uniform(0, 1), now)  # noqa: S311 - jitter
    answer = _request(delivery)
    DeliveryAttempt.objects.create(
        delivery=delivery, attempted_at=now, status_code=answer.status,
        duration_ms=round(answer.seconds * 1000), response_excerpt=answer.excerpt[:500],
        error=answer.error,
    )  # fmt: skip
    delivery.attempts += 1
    return _judge(delivery, answer, now)


def _judge(delivery: Delivery, answer: Answer, now: datetime) -> Outcome:
    status, endpoint = answer.status, delivery.endpoint
    if status is not None and 200 <= status < 300:
        if endpoint.failure_streak or endpoint.circuit_open_until:  # close the circuit
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                failure_streak=0, circuit_open_until=None
            )
        return _finish(delivery, Status.SUCCEEDED, now, code=status)
    if status == 410:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False, disabled_reason=f"answered 410 Gone at {now:%Y-%m-%d %H:%M} UTC"
        )
        triggers_cache_bump()
        return _finish(delivery, Status.FAILED, now, code=status, error="410 Gone: disabled")
    refused = answer.error.startswith("refused:")
    if refused or (status is not None and status < 500 and status != 429):
        return _finish(delivery, Status.FAILED, now, code=status, error=answer.error)
    _circuit_count(endpoint, now)
    wait = backoff_seconds(delivery.attempts, answer.retry_after)
    if now + timedelta(seconds=wait) > delivery.give_up_at:
        error = f"gave up after {delivery.attempts} attempts: {answer.error or status}"
        return _finish(delivery, Status.FAILED, now, code=status, error=error)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.PENDING, attempts=delivery.attempts, last_status_code=status,
        last_error=answer.error, next_attempt_at=now + timedelta(seconds=wait),
        claimed_until=None,
    )  # fmt: skip
    return Outcome(Status.PENDING, wait)


def _circuit_count(endpoint: WebhookEndpoint, now: datetime) -> None:
    """One more failure in a row; past the limit the circuit opens for longer each time."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_streak=F("failure_streak") + 1)
    streak = WebhookEndpoint.objects.values_list("failure_streak", flat=True).get(pk=endpoint.pk)
    over = streak - CIRCUIT_FAILURES
    if over >= 0:
        wait = min(CIRCUIT_BASE * 2 ** min(over, 20), MAX_BACKOFF)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            circuit_open_until=now + timedelta(seconds=wait)
        )


def _finish(
    delivery: Delivery, status: str, now: datetime, *, code: int | None = None, error: str = ""
) -> Outcome:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=delivery.attempts, last_status_code=code, last_error=error[:300],
        finished_at=now, claimed_until=None,
    )  # fmt: skip
    return Outcome(status)
