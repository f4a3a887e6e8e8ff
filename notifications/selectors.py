"""Reads of the outbox for the managers' pages."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

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
    """One message with its user, or 404. Only call managers reach the views that call this."""
    return get_object_or_404(OutboxMessage.objects.select_related("user"), pk=message_id)
