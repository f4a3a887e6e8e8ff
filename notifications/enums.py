from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.lifecycle import Lifecycle


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


RETRYABLE = {MessageStatus.FAILED}


# PRODUCT §7: a worker claims a queued message and sends it; a temporary failure queues it
# again, a permanent one (or the last attempt) fails it until a manager retries; the upkeep
# job returns a message stuck in sending (a killed worker) to the queue.
MESSAGE_LIFECYCLE = Lifecycle(
    "outbox message",
    "status",
    {
        MessageStatus.QUEUED: frozenset({MessageStatus.SENDING}),
        MessageStatus.SENDING: frozenset(
            {MessageStatus.SENT, MessageStatus.QUEUED, MessageStatus.FAILED}
        ),
        MessageStatus.FAILED: frozenset({MessageStatus.QUEUED}),
    },
)
