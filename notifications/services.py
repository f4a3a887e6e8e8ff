"""The outbox (PRODUCT §7): queue messages in the caller's transaction, send them after commit.

Every email of Allot is queued here. ``outbox_queue`` renders a kind of email from
``templates/emails/<kind>/`` (subject.txt, body.txt, body.html); ``outbox_queue_rendered`` takes
text rendered elsewhere (django-allauth's account emails). Both are idempotent per event and
recipient: queueing the same event for the same person again returns the existing row.

A message of a kind that carries a secret (``EmailKind.carries_secret``, allauth's resets and
confirmations) is marked ``secret``: its body is erased when it is sent or fails for good
(``outbox_deliver``), and a retry builds a fresh link or is refused (``outbox_retry``).
"""

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template import Context
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.redaction import redact_secret_links
from notifications import hooks
from notifications.enums import MESSAGE_LIFECYCLE, EmailKind, MessageStatus, SecretLink
from notifications.models import OutboxMessage

log = logging.getLogger(__name__)


class TemporaryDeliveryError(Exception):
    """The SMTP server could not take the message now; try again later."""


def _render_plain(template_name: str, context: dict) -> str:
    """Render a plain-text part unescaped: ``O'Brien`` must not become ``O&#x27;Brien``."""
    template = get_template(template_name)
    assert isinstance(template, DjangoTemplate)  # settings.TEMPLATES has the Django engine only
    return template.template.render(Context(context, autoescape=False))


def outbox_queue(
    *, kind: EmailKind, event: str, recipient: str, context: dict, user=None
) -> OutboxMessage:
    """Render ``templates/emails/<kind>/`` for ``recipient`` and queue it once for ``event``.

    The subject and text body are rendered without HTML escaping, the HTML body with it. A
    kind that carries a secret is queued ``secret`` (see the module's docstring).

    Side effects: one OutboxMessage row (unless one exists for event and recipient); after the
    surrounding transaction commits, the ``notifications.send_message`` task.
    """
    recipient = recipient.strip()
    subject, body_text, body_html = _render(kind, recipient, user, context)
    return outbox_queue_rendered(
        kind=kind,
        event=event,
        recipient=recipient,
        user=user,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        secret=EmailKind(kind).carries_secret,
    )


def outbox_queue_each(*, kind: EmailKind, event: str, people: Iterable, context: dict) -> int:
    """Queue ``kind`` once for ``event`` to each of ``people`` (users), each with themselves as
    ``person`` in the context: the event and the recipient's address are the key, so running
    it again queues nobody twice. Returns how many people it was given.

    Side effects: those of ``outbox_queue``, per person.
    """
    count = 0
    for person in people:
        outbox_queue(
            kind=kind,
            event=event,
            recipient=person.email,
            user=person,
            context={**context, "person": person},
        )
        count += 1
    return count


def _header_line(subject: str) -> str:
    """The subject folded to one line (a header cannot hold a line break), at most 300
    characters."""
    return " ".join(subject.split())[:300]


def _render(kind: str, recipient: str, user, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML body of ``templates/emails/<kind>/``.

    Raises ImproperlyConfigured for a ``SecretLink`` in the context of a kind that does not
    declare it carries a secret: such an email would be readable on the outbox pages.
    """
    if not EmailKind(kind).carries_secret and any(
        isinstance(value, SecretLink) for value in context.values()
    ):
        raise ImproperlyConfigured(
            f"The email kind {kind!r} is given a secret link but is not in SECRET_KINDS."
        )
    context = {"site_url": settings.SITE_URL, "recipient": recipient, "user": user, **context}
    # In the recipient's language (their profile's), never in the language of whoever's
    # request happened to queue it; without one, the site's.
    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        return (
            _render_plain(f"emails/{kind}/subject.txt", context),
            _render_plain(f"emails/{kind}/body.txt", context),
            render_to_string(f"emails/{kind}/body.html", context),
        )


def outbox_queue_rendered(
    *,
    kind: str,
    event: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    secret: bool,
    user=None,
) -> OutboxMessage:
    """Queue an already rendered message once per ``event`` and ``recipient``.

    ``secret``, which every caller states, marks a body holding a link that acts for the
    recipient: shown to nobody, erased once sent or failed (PRODUCT §1.1).

    The recipient is compared case-insensitively; the subject is folded to one line (a header
    cannot hold a line break) and cut to 300 characters. Returns the existing row when the
    event was already queued for this address, and then does nothing else.

    Side effects: one OutboxMessage row; after the surrounding transaction commits, the
    ``notifications.send_message`` task. If the task cannot be enqueued (broker down) the
    error is logged, the caller's commit stands, and ``outbox_requeue_stuck`` enqueues it later.
    """
    recipient = recipient.strip()
    subject = _header_line(subject)
    with transaction.atomic():
        existing = OutboxMessage.objects.filter(event=event, recipient__iexact=recipient).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(
                    kind=kind,
                    event=event,
                    recipient=recipient,
                    user=user,
                    subject=subject,
                    body_text=body_text,
                    body_html=body_html,
                    secret=secret,
                )
        except IntegrityError:
            # A concurrent transaction queued the same event for the same person first.
            return OutboxMessage.objects.get(event=event, recipient__iexact=recipient)
        _enqueue_on_commit(message.pk)
    return message


@dataclass(frozen=True)
class Outgoing:
    """One email for ``outbox_queue_many``: the arguments of ``outbox_queue``."""

    kind: EmailKind
    event: str
    recipient: str
    context: dict
    user: User | None = None


BULK_CHUNK = 2000  # × 9 columns: within SQLite's and PostgreSQL's parameter limits


def outbox_queue_many(messages: Iterable[Outgoing]) -> list[OutboxMessage]:
    """``outbox_queue`` for many emails at once, for the periodic jobs: the same rendering and
    the same once-per-event-and-recipient rule, in a number of queries that grows with the
    chunks of ``BULK_CHUNK`` messages, not with each message.

    Per chunk: one query for the (event, recipient) pairs already queued, then one INSERT of
    the others. Should a concurrent run insert one of them in between (the unique key refuses
    the chunk), that chunk is queued one by one instead. Returns the rows created (not those
    found); their send tasks are enqueued after commit.
    """
    created: list[OutboxMessage] = []
    pending = list(messages)
    with transaction.atomic():
        for start in range(0, len(pending), BULK_CHUNK):
            created += _queue_chunk(pending[start : start + BULK_CHUNK])
        ids = [message.pk for message in created]
        if ids:
            transaction.on_commit(lambda: _enqueue_many(ids), robust=True)
    return created


def _queue_chunk(chunk: list[Outgoing]) -> list[OutboxMessage]:
    events = {message.event for message in chunk}
    seen = {
        (event, recipient.lower())
        for event, recipient in OutboxMessage.objects.filter(event__in=events).values_list(
            "event", "recipient"
        )
    }
    rows = []
    for message in chunk:
        recipient = message.recipient.strip()
        key = (message.event, recipient.lower())
        if key in seen:
            continue
        seen.add(key)
        rows.append(_rendered(message, recipient))
    if not rows:
        return []
    try:
        with transaction.atomic():
            return OutboxMessage.objects.bulk_create(rows)
    except IntegrityError:
        # A concurrent run queued some of them first: one by one, each checked again.
        created = []
        for row in rows:
            with transaction.atomic():
                if not OutboxMessage.objects.filter(
                    event=row.event, recipient__iexact=row.recipient
                ).exists():
                    row.save()
                    created.append(row)
        return created


def _rendered(message: Outgoing, recipient: str) -> OutboxMessage:
    subject, body_text, body_html = _render(message.kind, recipient, message.user, message.context)
    return OutboxMessage(
        kind=message.kind,
        event=message.event,
        recipient=recipient,
        user=message.user,
        subject=_header_line(subject),
        body_text=body_text,
        body_html=body_html,
        secret=EmailKind(message.kind).carries_secret,
    )


def _enqueue_many(message_ids: list[int]) -> None:
    """The send tasks of many messages; at the first failure (broker down) the rest is left
    to ``outbox_requeue_stuck`` rather than waiting on the broker once per message."""
    for done, message_id in enumerate(message_ids):
        try:
            _enqueue(message_id)
        except Exception:
            log.exception(
                "outbox enqueue failed; upkeep will enqueue the rest",
                extra={"ctx_message": message_id, "ctx_left": len(message_ids) - done},
            )
            return


def _enqueue_on_commit(message_id: int) -> None:
    # robust: a broker outage must not turn the caller's committed change into an error page;
    # the message stays queued and the periodic upkeep enqueues it again.
    transaction.on_commit(lambda: _enqueue(message_id), robust=True)


def _enqueue(message_id: int) -> None:
    from notifications.tasks import send_message

    send_message.apply_async(kwargs={"message_id": message_id})


def outbox_claim(*, message_id: int) -> OutboxMessage | None:
    """Move a queued message to ``sending``; None when it is gone or not ours to send.

    A single conditional UPDATE, so that of two workers given the same message only one wins,
    on every database. Side effects: status sending, sending_since now, attempts + 1.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = MESSAGE_LIFECYCLE.move_from(
            OutboxMessage.objects.filter(pk=message_id),
            MessageStatus.QUEUED,
            MessageStatus.SENDING,
            sending_since=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        if not claimed:
            return None
        return OutboxMessage.objects.get(pk=message_id)


def _is_temporary(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        # e.g. SMTPNotSupportedError (no STARTTLS): configuration, not a passing condition.
        # Checked before OSError because every SMTPException is an OSError.
        return False
    # Connection refused, reset or timed out.
    return isinstance(exc, OSError)


def outbox_deliver(*, message: OutboxMessage) -> None:
    """Send a claimed message over the configured backend and record the outcome.

    Side effects: the email; status sent (sent_at, last_error cleared) on success. Raises
    TemporaryDeliveryError (after putting the message back to ``queued`` with last_error) when
    the server refused it for now and attempts remain; a permanent refusal or the last attempt
    leaves the message ``failed`` with the error for managers to see. A secret message's body
    is erased in the same UPDATE that makes it sent or failed.
    """
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"X-Allot-Event": message.event},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the message
        # A server's refusal may quote the message (a blocked link): never its secret part.
        error = redact_secret_links(f"{type(exc).__name__}: {exc}")[:2000]
        temporary = _is_temporary(exc) and message.attempts < settings.OUTBOX_MAX_ATTEMPTS
        status = MessageStatus.QUEUED if temporary else MessageStatus.FAILED
        MESSAGE_LIFECYCLE.move_from(
            OutboxMessage.objects.filter(pk=message.pk),
            MessageStatus.SENDING,
            status,
            last_error=error,
            sending_since=None,
            updated_at=timezone.now(),
            **({} if temporary else _erased(message)),
        )
        log.warning("outbox delivery failed", extra={"ctx_message": message.pk, "ctx_error": error})
        if temporary:
            raise TemporaryDeliveryError(error) from exc
        return
    now = timezone.now()
    MESSAGE_LIFECYCLE.move_from(
        OutboxMessage.objects.filter(pk=message.pk),
        MessageStatus.SENDING,
        MessageStatus.SENT,
        sent_at=now,
        sending_since=None,
        last_error="",
        updated_at=now,
        **_erased(message),
    )


def _erased(message: OutboxMessage) -> dict[str, str]:
    """The columns that erase a secret message's body once it leaves the queue for good."""
    return {"body_text": "", "body_html": ""} if message.secret else {}


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2×base, 4×base … capped at one hour."""
    return min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600)


def outbox_retry(*, message: OutboxMessage) -> bool:
    """A manager's retry of a failed message: back to the queue with fresh attempts.

    Returns False, changing nothing, when the message is not ``failed``. A secret message lost
    its body when it failed: it is rendered again with a fresh link by the hook its kind
    registered (``notifications.hooks``); without one, or when the hook cannot make one, the
    retry is refused with a ``ValidationError`` that says how the person gets a new link.

    Side effects: status queued, attempts reset (last_error kept until a delivery succeeds), a
    secret message's new body (and whatever its hook changes, e.g. a new invitation token);
    the send task after commit.
    """
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
        if locked is None or locked.status != MessageStatus.FAILED:
            return False
        body = _fresh_body(locked) if locked.secret else {}
        updated = MESSAGE_LIFECYCLE.move_from(
            OutboxMessage.objects.filter(pk=message.pk),
            MessageStatus.FAILED,
            MessageStatus.QUEUED,
            attempts=0,
            updated_at=timezone.now(),
            **body,
        )
        if updated:
            _enqueue_on_commit(message.pk)
    return bool(updated)


def _fresh_body(message: OutboxMessage) -> dict[str, str]:
    """The subject and bodies of a failed secret message, rendered again with a new link."""
    build = hooks.secret_contexts.get(message.kind)
    if build is None:
        raise ValidationError(
            _(
                "This email carried a private link, and its text was erased when it failed, so "
                "it cannot be sent again. %(recipient)s gets a new link by asking again: "
                "“Forgot your password?” on the sign-in page for a password reset; signing in "
                "sends a new link to confirm an address."
            )
            % {"recipient": message.recipient},
            code="secret_not_renewable",
        )
    subject, body_text, body_html = _render(
        message.kind, message.recipient, message.user, build(message)
    )
    return {"subject": _header_line(subject), "body_text": body_text, "body_html": body_html}


def outbox_requeue_stuck(
    *, older_than: timedelta = timedelta(minutes=15), now: datetime | None = None
) -> int:
    """Outbox upkeep: recover messages whose send task died or never ran.

    - ``sending`` since before ``now - older_than`` (a worker died mid-send): back to ``queued``.
    - ``queued`` and untouched for ``older_than`` beyond their retry delay (the task was lost:
      broker down at commit, broker restarted without persistence): left queued, touched.

    Both get a fresh send task after commit. Returns how many messages were moved back from
    ``sending``. Running it twice in a row changes nothing the second time.
    """
    now = now or timezone.now()
    cutoff = now - older_than
    with transaction.atomic():
        stuck = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SENDING, sending_since__lt=cutoff)
            .values_list("pk", flat=True)
        )
        # The status condition again: on databases without row locks a send may have finished
        # in between, and a sent message must not be sent twice.
        MESSAGE_LIFECYCLE.move_from(
            OutboxMessage.objects.filter(pk__in=stuck),
            MessageStatus.SENDING,
            MessageStatus.QUEUED,
            sending_since=None,
            updated_at=now,
        )
        lost = [
            pk
            for pk, attempts, updated_at in OutboxMessage.objects.filter(
                status=MessageStatus.QUEUED, updated_at__lt=cutoff
            ).values_list("pk", "attempts", "updated_at")
            if updated_at + timedelta(seconds=retry_delay(attempts)) < cutoff
        ]
        OutboxMessage.objects.filter(pk__in=lost, status=MessageStatus.QUEUED).update(
            updated_at=now
        )
        for pk in stuck + lost:
            _enqueue_on_commit(pk)
    if stuck or lost:
        log.info("outbox upkeep", extra={"ctx_requeued": len(stuck), "ctx_reenqueued": len(lost)})
    return len(stuck)
