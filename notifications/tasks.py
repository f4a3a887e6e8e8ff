import logging

from celery import shared_task

from notifications import services

log = logging.getLogger(__name__)


@shared_task(name="notifications.send_message", bind=True, max_retries=None)
def send_message(self, *, message_id: int) -> None:
    message = services.outbox_claim(message_id=message_id)
    if message is None:
        log.info("outbox message not sendable", extra={"ctx_message": message_id})
        return
    try:
        services.outbox_deliver(message=message)
    except services.TemporaryDeliveryError as exc:
        raise self.retry(exc=exc, countdown=services.retry_delay(message.attempts)) from exc


@shared_task(name="notifications.requeue_stuck")
def requeue_stuck() -> int:
    return services.outbox_requeue_stuck()
