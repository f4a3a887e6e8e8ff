"""The outbox (PRODUCT §7): queue messages in the caller's transaction, send them after commit.

Every email of Allot is queued here. ``outbox_queue`` renders a kind of email from
``templates/emails/<kind>/`` (subject.txt, body.txt, body.html); ``outbox_queue_rendered`` takes
text rendered elsewhere (django-allauth's account emails). Both are idempotent per event and
recipient: queueing the same event for the same person again returns the existing row.
"""

import logging
import smtplib
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage

log = logging.getLogger(__name__)


class TemporaryDeliveryError(Exception):
    """The SMTP server could not take the message now; try again later."""


def outbox_queue(
    *, kind: str, event: str, recipient: str, context: dict, user=None
) -> OutboxMessage:
    """Render ``templates/emails/<kind>/`` for ``recipient`` and queue it once for ``event``.

    Side effects: one OutboxMessage row (unless one exists for event and recipient); after the
    surrounding transaction commits, the ``notifications.send_message`` task.
    """
    context = {"site_url": settings.SITE_URL, "recipient": recipient, "user": user, **context}
    subject = render_to_string(f"emails/{kind}/subject.txt", context)
    return outbox_queue_rendered(
        kind=kind,
        event=event,
        recipient=recipient,
        user=user,
        subject=" ".join(subject.split()),
        body_text=render_to_string(f"emails/{kind}/body.txt", context),
        body_html=render_to_string(f"emails/{kind}/body.html", context),
    )


def outbox_queue_rendered(
    *,
    kind: str,
    event: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    user=None,
) -> OutboxMessage:
    recipient = recipient.strip()
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
                    subject=subject[:300],
                    body_text=body_text,
                    body_html=body_html,
                )
        except IntegrityError:
            # A concurrent transaction queued the same event for the same person first.
            return OutboxMessage.objects.get(event=event, recipient__iexact=recipient)
        transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int, countdown: int = 0) -> None:
    from notifications.tasks import send_message

    send_message.apply_async(kwargs={"message_id": message_id}, countdown=countdown)


def outbox_claim(*, message_id: int) -> OutboxMessage | None:
    """Move a queued message to ``sending``; None when it is gone or not ours to send."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != MessageStatus.QUEUED:
            return None
        message.status = MessageStatus.SENDING
        message.sending_since = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "sending_since", "attempts", "updated_at"])
    return message


def _is_temporary(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return all(400 <= code < 500 for code in codes)
    return isinstance(
        exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError, socket.timeout)
    )


def outbox_deliver(*, message: OutboxMessage) -> None:
    """Send a claimed message over the configured backend and record the outcome.

    Raises TemporaryDeliveryError (after putting the message back to ``queued``) when the
    server refused it for now and attempts remain; a permanent refusal or the last attempt
    leaves the message ``failed`` with the error for managers to see.
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
        error = f"{type(exc).__name__}: {exc}"[:2000]
        temporary = _is_temporary(exc) and message.attempts < settings.OUTBOX_MAX_ATTEMPTS
        status = MessageStatus.QUEUED if temporary else MessageStatus.FAILED
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=status, last_error=error, sending_since=None, updated_at=timezone.now()
        )
        log.warning("outbox delivery failed", extra={"ctx_message": message.pk, "ctx_error": error})
        if temporary:
            raise TemporaryDeliveryError(error) from exc
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        sending_since=None,
        last_error="",
        updated_at=timezone.now(),
    )


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2×base, 4×base … capped at one hour."""
    return min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600)


def outbox_retry(*, message: OutboxMessage) -> bool:
    """A manager's retry of a failed message: back to the queue with fresh attempts.

    Side effects: status queued, attempts reset; the send task after commit.
    """
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
            status=MessageStatus.QUEUED, attempts=0, updated_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: _enqueue(message.pk))
    return bool(updated)


def outbox_requeue_stuck(
    *, older_than: timedelta = timedelta(minutes=15), now: datetime | None = None
) -> int:
    """Put messages stuck in ``sending`` (a worker died mid-send) back in the queue."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SENDING, sending_since__lt=now - older_than)
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=MessageStatus.QUEUED, sending_since=None, updated_at=now
        )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: _enqueue(pk))
    return len(ids)
