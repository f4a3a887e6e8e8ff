from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from notifications.enums import MessageStatus

# The states in which a message still has to be sent, and so still holds its body.
UNSENT = [MessageStatus.QUEUED, MessageStatus.SENDING]


class OutboxMessage(models.Model):
    """One email to one recipient, rendered when queued so that every retry sends the same text.

    ``event`` names what caused it (e.g. ``proposal-submitted:42``); the unique key on event and
    recipient (case-insensitive, as ``outbox_queue_rendered`` compares them) is what guarantees
    that the same event never emails the same person twice.

    A ``secret`` message carries a link that acts for its recipient (a password reset, an
    address confirmation, a team invitation; PRODUCT §1.1). Its body is shown to nobody, and
    it is erased in the same UPDATE that marks the message sent or failed: the check
    constraint ``outbox_secret_body_erased`` refuses a sent or failed secret message with a
    body, so no page, export, API or query of the database finds the link afterwards.
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
    secret = models.BooleanField(
        _("carries a private link"),
        default=False,
        help_text=_("Only its recipient reads it; the text is erased once sent or failed."),
    )
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
            models.CheckConstraint(
                condition=models.Q(secret=False)
                | models.Q(status__in=UNSENT)
                | models.Q(body_text="", body_html=""),
                name="outbox_secret_body_erased",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
