from django.db import models
from django.utils.translation import gettext_lazy as _


class ChargeRule(models.TextChoices):
    """How a Slurm job is charged against an award (PRODUCT §2)."""

    GPU = "gpu", _("GPUs × elapsed hours (gres/gpu)")
    BILLING = "billing", _("Slurm billing TRES × elapsed hours")
    NONE = "none", _("Not charged from jobs (e.g. storage)")
