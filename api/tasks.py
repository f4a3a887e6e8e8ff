import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="api.usage_push_import")
def usage_push_import(*, push_id: int) -> str:
    """Import a usage file pushed through the API (``api.services.usage_push_run``)."""
    from api.services import usage_push_run

    push = usage_push_run(push_id=push_id)
    if push is None:
        log.warning("usage push gone", extra={"ctx_push": push_id})
        return "gone"
    return push.state
