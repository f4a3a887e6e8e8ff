import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from allocations.services.usage_directory import import_usage_directory as _import_usage_directory

log = logging.getLogger(__name__)


@shared_task(name="allocations.import_usage_directory")
def import_usage_directory() -> int:
    """Usage import from ``USAGE_IMPORT_DIR``, every 15 minutes (CELERY_BEAT_SCHEDULE).

    Does nothing when the setting is empty. Returns the number of files imported."""
    if not settings.USAGE_IMPORT_DIR:
        return 0
    return len(_import_usage_directory(directory=Path(settings.USAGE_IMPORT_DIR)))


@shared_task(name="allocations.quota_evaluate")
def quota_evaluate() -> int:
    """Quota evaluation (PRODUCT §7), hourly (CELERY_BEAT_SCHEDULE): emails and forfeits."""
    from allocations.services.quota import quota_evaluate as evaluate

    summary = evaluate()
    return summary.emails
