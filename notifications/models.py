from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from notifications.enums import MessageStatus


class OutboxMessage(models.Model):
    """One email to one recipient, rendered when queued so that every retry sends the same text.

    ``event`` names what caused it (e.g. ``proposal-submitted:42``); the unique key on event and
    recipient (case-insensitive, as ``outbox_queue_rendered`` compares them) is what guarantees
    that the same event never emails the same person twice.
    """

    kind = models.CharField(_("kind"), max_length=64)
    event = models.CharField(_("event"), max_length=200)
    recipient = models.EmailField(_("recipient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "event", Lower("recipient"), name="outbox_once_per_event_recipient"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=MessageStatus.values), name="outbox_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
