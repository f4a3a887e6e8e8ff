import logging

from celery import shared_task
from celery.exceptions import Retry

from notifications import services

log = logging.getLogger(__name__)


@shared_task(name="notifications.send_message", bind=True, max_retries=None)
def send_message(self, *, message_id: int) -> Retry | None:
    """Send one outbox message; a temporary SMTP refusal is retried with backoff.

    The number of attempts is bounded by OUTBOX_MAX_ATTEMPTS in ``outbox_deliver``, hence no
    Celery limit. Enqueued twice for the same message, only the first claim sends.
    """
    message = services.outbox_claim(message_id=message_id)
    if message is None:
        log.info("outbox message not sendable", extra={"ctx_message": message_id})
        return None
    try:
        services.outbox_deliver(message=message)
    except services.TemporaryDeliveryError as exc:
        countdown = services.retry_delay(message.attempts)
        if self.request.is_eager:
            # Inline (no broker): with task_eager_propagates on, a raised Retry escapes to the
            # caller instead of being run; returned, Celery's apply() runs the next attempt now.
            return self.retry(exc=exc, countdown=countdown, throw=False)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return None


@shared_task(name="notifications.requeue_stuck")
def requeue_stuck() -> int:
    """Outbox upkeep, every five minutes (CELERY_BEAT_SCHEDULE)."""
    return services.outbox_requeue_stuck()
