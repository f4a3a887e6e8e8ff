"""States and choices of the API's tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TokenScope(models.TextChoices):
    """What a token may do (PRODUCT §9). ``usage`` includes ``read``."""

    READ = "read", _("Read")
    USAGE = "usage", _("Read and push usage (centre staff)")


class PushState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED_PUSH_STATES = frozenset({PushState.DONE, PushState.FAILED})

# How long a new token lives, in days: the profile's choices.
EXPIRY_DAYS = (7, 30, 90, 365)
