"""Notifications: what a person should know about, in the app's notification centre and by e-mail.

Every app tells people things through `notification_send` (routing: a lead was assigned; the SLA sweep: a clock
breached; scoring: a version awaits approval or was decided); a caller that tells several people at once (the SLA
sweep) uses `notifications_send`, with the same rules, one insert and one mail connection for the lot. The kinds are
a registry: core kinds are listed here, and an app adds its own with `notification_kind_register` (from its
AppConfig.ready). Each kind has a label, shown on the settings page and as the e-mail subject, and says whether
e-mail is on until the person chooses otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from leadops.models import Notification, NotificationPreference

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationKind:
    kind: str
    label: str
    email_default: bool


NOTIFICATION_KINDS: dict[str, NotificationKind] = {
    kind.kind: kind
    for kind in (
        NotificationKind("lead_assigned", "A lead was assigned to you", True),
        NotificationKind("lead_reassigned", "A lead was reassigned to or from you", True),
        NotificationKind("sla_breach", "A service-level clock was breached", True),
        NotificationKind("approval_requested", "A scoring version awaits your approval", True),
        NotificationKind("version_decided", "A scoring version you worked on was decided", True),
        NotificationKind("dispute_opened", "An ownership dispute was opened", True),
        NotificationKind("dispute_resolved", "An ownership dispute was resolved", True),
    )
}


def notification_kind_register(kind: str, label: str, email_default: bool = True) -> NotificationKind:
    """Add a kind of notification. Registering the same kind again with the same label and default is harmless
    (an AppConfig.ready that runs twice); a different label or default for a taken name is refused."""
    if not kind or len(kind) > Notification._meta.get_field("kind").max_length:
        raise ValueError(f"A notification kind needs a name of 1 to 64 characters, not {kind!r}.")
    new = NotificationKind(kind, label, bool(email_default))
    existing = NOTIFICATION_KINDS.get(kind)
    if existing is not None and existing != new:
        raise ValueError(f"Notification kind {kind!r} is already registered as {existing}.")
    NOTIFICATION_KINDS[kind] = new
    return new


def notification_kind_get(kind: str) -> NotificationKind:
    try:
        return NOTIFICATION_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(NOTIFICATION_KINDS))
        raise ValueError(f"Unknown notification kind {kind!r}; known kinds: {known}.") from None


def notification_email_wanted(*, user, kind: str) -> bool:
    """Whether `user` gets e-mail for `kind`: their saved choice, else the kind's default."""
    choice = NotificationPreference.objects.filter(user=user, kind=kind).values_list("email", flat=True).first()
    return notification_kind_get(kind).email_default if choice is None else choice


def notification_email_choices(*, user) -> dict[str, bool]:
    """Whether `user` gets e-mail, for every registered kind (one query)."""
    saved = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: saved.get(kind, info.email_default) for kind, info in NOTIFICATION_KINDS.items()}


def notification_email_choices_of(*, user_ids, kinds) -> dict[tuple[int, str], bool]:
    """Whether each of `user_ids` gets e-mail for each of `kinds`, keyed (user id, kind), in one query: for callers
    that send many notifications (the SLA sweep reads them once per run)."""
    user_ids, kinds = sorted(set(user_ids)), sorted(set(kinds))
    defaults = {kind: notification_kind_get(kind).email_default for kind in kinds}
    if not user_ids:
        return {}
    saved = {
        (user_id, kind): email
        for user_id, kind, email in NotificationPreference.objects.filter(
            user_id__in=user_ids, kind__in=kinds
        ).values_list("user_id", "kind", "email")
    }
    return {(user_id, kind): saved.get((user_id, kind), defaults[kind]) for user_id in user_ids for kind in kinds}


def notification_send(
    *,
    recipient,
    kind: str,
    message: str,
    lead=None,
    link: str = "",
    actor=None,
    dedupe_key: str = "",
) -> Notification:
    """Store a notification for `recipient` and, once the caller's transaction commits, e-mail it unless they muted
    the kind or have no e-mail address. With a `dedupe_key`, a second call with the same key for the same person
    (a task that ran twice) returns the first notification and sends nothing. E-mail failures are logged, never
    raised: a notification is not worth undoing the caller's work."""
    kind_info = notification_kind_get(kind)
    if not link and lead is not None:
        link = reverse("lead_detail", args=[lead.pk])
    fields = {"recipient": recipient, "kind": kind, "message": message, "lead": lead, "link": link, "actor": actor}
    with transaction.atomic():
        if dedupe_key:
            existing = Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).first()
            if existing is not None:
                return existing
            try:
                with transaction.atomic():  # a concurrent twin may win the unique constraint
                    notification = Notification.objects.create(dedupe_key=dedupe_key, **fields)
            except IntegrityError:
                return Notification.objects.get(recipient=recipient, dedupe_key=dedupe_key)
        else:
            notification = Notification.objects.create(**fields)
        if recipient.email and recipient.is_active and notification_email_wanted(user=recipient, kind=kind):
            transaction.on_commit(
                lambda: _notification_email(notification=notification, label=kind_info.label), robust=True
            )
    return notification


@dataclass(frozen=True)
class NotificationDraft:
    """One notification for `notifications_send`; the fields mean what notification_send's arguments mean."""

    recipient: Any
    kind: str
    message: str
    lead: Any = None
    link: str = ""
    actor: Any = None
    dedupe_key: str = ""


def notifications_send(drafts, *, email_choices: dict[tuple[int, str], bool] | None = None) -> list[Notification]:
    """Store several notifications with one insert and, once the caller's transaction commits, e-mail them over one
    mail connection. The rules are notification_send's: every notification is stored (only e-mail can be muted),
    nobody muted, inactive or without an address is e-mailed, and a dedupe key already used for that person returns
    the first notification and sends nothing again. `email_choices` (from notification_email_choices_of) spares the
    preference query when the caller sends many batches; people missing from it are looked up."""
    drafts = list(drafts)
    labels = {draft.kind: notification_kind_get(draft.kind).label for draft in drafts}
    if not drafts:
        return []
    leads = {draft.lead.pk for draft in drafts if draft.lead is not None}
    lead_links = {lead_id: reverse("lead_detail", args=[lead_id]) for lead_id in leads}
    rows = [
        Notification(
            recipient=draft.recipient,
            kind=draft.kind,
            message=draft.message,
            lead=draft.lead,
            link=draft.link or (lead_links[draft.lead.pk] if draft.lead is not None else ""),
            actor=draft.actor,
            dedupe_key=draft.dedupe_key,
        )
        for draft in drafts
    ]
    stored = _notifications_insert(rows)
    choices = dict(email_choices or {})
    unknown = {(row.recipient_id, row.kind) for row in stored} - set(choices)
    if unknown:
        choices.update(
            notification_email_choices_of(
                user_ids={user_id for user_id, _ in unknown}, kinds={kind for _, kind in unknown}
            )
        )
    outgoing = [
        (row, labels[row.kind])
        for row in stored
        if row.recipient.email and row.recipient.is_active and choices[(row.recipient_id, row.kind)]
    ]
    if outgoing:
        transaction.on_commit(lambda: _notifications_email(outgoing), robust=True)
    if len(stored) == len(rows):
        return rows
    # A dedupe key the person had already: their first notification stands in, and nothing was sent again.
    return [
        row
        if row.pk is not None
        else Notification.objects.get(recipient_id=row.recipient_id, dedupe_key=row.dedupe_key)
        for row in rows
    ]


def _notifications_insert(rows: list[Notification]) -> list[Notification]:
    """Store `rows` with one INSERT and give each stored row its id; returns those stored. A row whose dedupe key its
    recipient already has (or that repeats one of the batch) is skipped by ON CONFLICT DO NOTHING, which keeps to the
    partial unique index in PostgreSQL and SQLite alike: no savepoint, and no error for the caller's transaction to
    recover from. Both return the inserted rows in the order of VALUES (as Django's bulk_create relies on), so the
    ids are matched to the rows in order, a skipped row being one whose recipient and key the next id does not show."""
    meta = Notification._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    params = []
    for row in rows:
        row.created_at = now
        params.extend(field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields)
    quote = connection.ops.quote_name
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = [meta.pk, meta.get_field("recipient"), meta.get_field("dedupe_key")]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([one_row] * len(rows))} ON CONFLICT DO NOTHING "
        f"RETURNING {', '.join(quote(field.column) for field in returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = iter(cursor.fetchall())
    stored = []
    pending = next(inserted, None)
    for row in rows:
        if pending is not None and (pending[1], pending[2]) == (row.recipient_id, row.dedupe_key):
            row.pk = pending[0]
            row._state.adding, row._state.db = False, connection.alias
            stored.append(row)
            pending = next(inserted, None)
    return stored


def _notifications_email(outgoing: list[tuple[Notification, str]]) -> None:
    """E-mail each notification over one connection to the mail server; each failure is logged on its own."""
    connection = get_connection()
    try:
        connection.open()
    except Exception:  # the server is down: each message below tries again and logs its own failure
        connection = None
    try:
        for notification, label in outgoing:
            _notification_email(notification=notification, label=label, connection=connection)
    finally:
        if connection is not None:
            connection.close()


def _notification_email(*, notification: Notification, label: str, connection=None) -> None:
    body = notification.message
    if notification.link:
        body += f"\n\n{getattr(settings, 'LEADOPS_BASE_URL', '')}{notification.link}"
    body += "\n\nYou can turn off e-mail for this kind of notification on the LeadOps notification settings page."
    try:
        send_mail(
            subject=f"[LeadOps] {label}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
            connection=connection,
        )
    except Exception:  # any backend failure (SMTP down, bad address) must not reach the committed caller
        logger.exception("Could not e-mail notification %s to user %s", notification.pk, notification.recipient_id)


def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read; someone else's raises Notification.DoesNotExist."""
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user) -> int:
    """Mark all of `user`'s unread notifications read in one UPDATE; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def notification_unread_count(*, user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user):
    """The person's own notifications, newest first, with the lead each is about."""
    return Notification.objects.filter(recipient=user).select_related("lead").order_by("-created_at", "-id")


def notification_preferences_save(*, user, email_by_kind: dict[str, bool]) -> None:
    """Store the person's e-mail choice for each kind given (unknown kinds refused)."""
    for kind in email_by_kind:
        notification_kind_get(kind)
    with transaction.atomic():
        for kind, email in email_by_kind.items():
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": bool(email)})
