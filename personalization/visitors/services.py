"""Writes of visitor profiles: identification from a request, page views, merge on login."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from config.buffers import WriteBuffer
from config.bulk import tuples_insert, tuples_insert_referring
from config.errors import ApplicationError
from consent.models import ConsentRecord
from content.models import ContentItem
from personalization.visitors.models import Event, Impression, Visitor, VisitorMerge
from personalization.visitors.page_views import PageView, page_views_write
from personalization.visitors.selectors import external_id_problem
from personalization.visitors.snapshots import snapshots_invalidate

# What else follows a profile merge, registered by the packages and apps that keep it (from
# their `AppConfig.ready()`): name → function(source_id=, target_id=), run inside the merge.
MergeParticipant = Callable[..., object]
_merge_participants: dict[str, MergeParticipant] = {}


def merge_participant_register(name: str, participant: MergeParticipant) -> None:
    """Have `participant(source_id=, target_id=)` run in every profile merge (idempotent)."""
    _merge_participants[name] = participant


def visitor_cookie_wanted(request: HttpRequest, wanted: bool) -> None:
    """Whether the response sets the visitor cookie: yes for a profile this request made or
    switched to. Kept on the request's personalization state when it has one."""
    state = getattr(request, "tailor", None)
    if state is not None:
        state.set_cookie = wanted


def visitor_cookie_forget(request: HttpRequest) -> None:
    """Have the response delete the visitor cookie: it names no profile this browser may use."""
    state = getattr(request, "tailor", None)
    if state is not None:
        state.set_cookie = False
        state.forget_cookie = True


def visitor_for_request(request: HttpRequest) -> Visitor:
    """The request's visitor, created (and its cookie set on the response) when there is none.

    Call only once the visitor's consent allows storing a profile.
    """
    visitor = getattr(request, "visitor", None)
    if visitor is not None:
        return visitor
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        visitor, _ = Visitor.objects.get_or_create(user=user)
    else:
        visitor = Visitor.objects.create()
    request.visitor = visitor
    visitor_cookie_wanted(request, True)
    return visitor


class ImpressionRow(NamedTuple):
    """An impression waiting in the write buffer."""

    visitor_id: int
    item_id: int
    slot: str
    shown_at: datetime
    rule_id: int | None = None
    reason: str = ""
    counts_for_cap: bool = True


def visitors_lock_existing(ids: Iterable[int]) -> set[int]:
    """Which of these visitors still exist, share-locked by key until the transaction ends.

    Call inside a transaction before inserting rows that point at visitors: an erasure then
    waits for the insert (or the insert sees the visitor gone), and the locks are taken in one
    statement in id order, so that concurrent writers never wait on each other in a cycle. The
    lock (`FOR KEY SHARE`) is the one the foreign key check takes anyway; it does not wait on
    `page_views_write`, which updates counters only (`FOR NO KEY UPDATE`).
    """
    return rows_lock_existing(Visitor, ids)


def rows_lock_existing(model: type[models.Model], ids: Iterable[int]) -> set[int]:
    """Which of these rows of `model` still exist, share-locked as `visitors_lock_existing`."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        return set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",  # noqa: S608
            [ids],
        )
        return {row[0] for row in cursor.fetchall()}


@transaction.atomic
def impressions_write(rows: list[ImpressionRow]) -> int:
    """Store impressions in one insert, in (visitor, item) order.

    Rows of visitors erased or items deleted since they were recorded are dropped (a process
    learns of a deletion within a second, `config.versioning`), the others kept. The rows go in
    as they are when all their visitors and items are there (`tuples_insert_referring`: no
    lookup first); otherwise, or on another database than PostgreSQL, the visitors and items
    still there are share-locked and looked up first.
    """
    rows = sorted(rows, key=lambda row: row[:2])
    if tuples_insert_referring(Impression, ImpressionRow._fields, rows):
        return len(rows)
    existing = visitors_lock_existing(row.visitor_id for row in rows)
    items = rows_lock_existing(ContentItem, (row.item_id for row in rows))
    kept = [row for row in rows if row.visitor_id in existing and row.item_id in items]
    tuples_insert(Impression, ImpressionRow._fields, kept)
    return len(kept)


PAGE_VIEWS: WriteBuffer[PageView] = WriteBuffer("page view", page_views_write)
IMPRESSIONS: WriteBuffer[ImpressionRow] = WriteBuffer("impression", impressions_write)


def page_view_record(
    *, visitor: Visitor, path: str, context: dict[str, Any], item: Any = None
) -> None:
    """Record a server-side page view with the request context (written in bulk, later)."""
    PAGE_VIEWS.add(
        PageView(
            visitor_id=visitor.pk, item_id=getattr(item, "pk", None), path=path,
            context=dict(context), occurred_at=timezone.now(),
        )
    )  # fmt: skip


def impressions_record(*, rows: list[tuple], now: datetime | None = None) -> None:
    """Record impressions, written in bulk; they feed frequency caps and insights.

    Each row is (visitor id, item id, slot) and optionally the rule id, the decision's reason
    and whether the row counts for the slot's frequency cap (by default: it does).
    """
    now = now or timezone.now()
    IMPRESSIONS.add(
        *(ImpressionRow(visitor_id, item_id, slot, now, *extra)
          for visitor_id, item_id, slot, *extra in rows)
    )  # fmt: skip


@transaction.atomic
def visitor_merge(*, source: Visitor, target: Visitor) -> VisitorMerge | None:
    """Merge an anonymous profile into another: events, consent, traits move. Idempotent.

    Only a profile without a user account merges: one that belongs to a user is that person's
    history and consent, never another's, so it is left alone (None). What other packages keep
    about a visitor follows through their merge participants.
    """
    if source.pk == target.pk or source.user_id is not None:
        return None
    existing = VisitorMerge.objects.filter(source_uid=source.uid).first()
    if existing is not None or source.merged_into_id is not None:
        return existing
    moved = Event.objects.filter(visitor=source).update(visitor=target)
    snapshots_invalidate([source.pk, target.pk])
    ConsentRecord.objects.filter(visitor=source).update(visitor=target)
    Impression.objects.filter(visitor=source).update(visitor=target)
    for participant in _merge_participants.values():
        participant(source_id=source.pk, target_id=target.pk)
    target.traits = {**source.traits, **target.traits}  # what the known profile says wins
    target.first_seen = min(target.first_seen, source.first_seen)
    target.last_seen = max(target.last_seen, source.last_seen)
    target.sessions += source.sessions
    target.save(update_fields=["traits", "first_seen", "last_seen", "sessions"])
    source.merged_into = target
    source.traits = {}
    source.save(update_fields=["merged_into", "traits"])
    return VisitorMerge.objects.create(source_uid=source.uid, target=target, events_moved=moved)


def visitor_login(*, request: HttpRequest, user) -> Visitor | None:
    """On login the browser's anonymous profile becomes, or merges into, the user's profile.

    Only an anonymous profile (no user) is taken over. A browser whose profile belongs to
    someone else (another account used this browser) keeps nothing of it: its cookie is deleted
    and the user continues with their own profile, or with a new one once consent allows.
    """
    browser = getattr(request, "visitor", None)
    own = Visitor.objects.filter(user=user).first()
    if browser is not None and browser.user_id is not None and browser.user_id != user.pk:
        browser = None
        visitor_cookie_forget(request)
    if browser is None or browser == own:
        request.visitor = own
        if own is not None:
            visitor_cookie_wanted(request, True)
        return own
    if own is None:
        browser.user = user
        browser.save(update_fields=["user"])
        return browser
    visitor_merge(source=browser, target=own)
    request.visitor = own
    visitor_cookie_wanted(request, True)
    return own


def visitor_logout(*, request: HttpRequest) -> None:
    """On logout the browser stops being the user: no visitor now, and its cookie is deleted."""
    request.visitor = None
    visitor_cookie_forget(request)


class VisitorIdError(ApplicationError):
    """An id that cannot name a visitor the way it is used."""


def visitor_for_external_id(identifier: str) -> Visitor:
    """The visitor with this external id, created when new; an id that reads as a cookie id is
    refused, so that no profile can be found in place of the cookie's owner."""
    if problem := external_id_problem(identifier):
        raise VisitorIdError(f"visitor_id: {problem}", {"visitor_id": [problem]})
    visitor, _ = Visitor.objects.get_or_create(external_id=identifier)
    return visitor
