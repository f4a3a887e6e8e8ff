"""Reads of the outbox for the managers' pages.

No read here returns the body of a secret message (PRODUCT §1.1): the list and the message
defer the bodies, and ``outbox_message_body`` gives a placeholder for a secret one.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage


def outbox_message_list(*, status: str = "", search: str = "") -> QuerySet[OutboxMessage]:
    """Messages newest first, optionally of one status and matching a recipient or event.

    The bodies are deferred: a page of the list never needs them.
    """
    messages = OutboxMessage.objects.defer("body_text", "body_html")
    if status:
        messages = messages.filter(status=status)
    if search:
        messages = messages.filter(Q(recipient__icontains=search) | Q(event__icontains=search))
    return messages.order_by("-created_at", "-id")


def outbox_status_counts() -> list[tuple[MessageStatus, int]]:
    """How many messages are in each status, every status listed (zero included); one query."""
    counts = dict(
        OutboxMessage.objects.order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [(status, counts.get(status.value, 0)) for status in MessageStatus]


def outbox_message_get(*, message_id: int) -> OutboxMessage:
    """One message with its user, without its bodies, or 404. Only call managers reach the
    views that call this."""
    return get_object_or_404(
        OutboxMessage.objects.select_related("user").defer("body_text", "body_html"),
        pk=message_id,
    )


# What the outbox pages and the admin say instead of a secret message's text.
PRIVATE_TEXT = _(
    "This email carries a private link (a password reset, an address confirmation or an "
    "invitation). Only its recipient can read it: its text is shown to nobody here and is "
    "erased once it is sent."
)


@dataclass(frozen=True)
class ShownBody:
    text: str
    has_html: bool = False
    private: bool = False


def outbox_message_body(*, message: OutboxMessage) -> ShownBody:
    """The text a manager may read of ``message``; for a secret message, whose link only its
    recipient reads (and whose body is erased once sent), ``PRIVATE_TEXT`` instead: its body
    is never loaded."""
    if message.secret:
        return ShownBody(text=str(PRIVATE_TEXT), private=True)
    text, html = (
        OutboxMessage.objects.filter(pk=message.pk, secret=False)
        .values_list("body_text", "body_html")
        .get()
    )
    return ShownBody(text=text, has_html=bool(html))
