from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.lifecycle import Lifecycle


class ChargeRule(models.TextChoices):
    """How a Slurm job is charged against an award (PRODUCT §2)."""

    GPU = "gpu", _("GPUs × elapsed hours (gres/gpu)")
    BILLING = "billing", _("Slurm billing TRES × elapsed hours")
    NONE = "none", _("Not charged from jobs (e.g. storage)")


class LedgerKind(models.TextChoices):
    """What may change an allocation's balance (PRODUCT §8). Signs: award +, usage −,
    forfeit −, adjustment either way."""

    AWARD = "award", _("Award")
    ADJUSTMENT = "adjustment", _("Adjustment")
    USAGE = "usage", _("Usage")
    FORFEIT = "forfeit", _("Forfeit")


class LoginSource(models.TextChoices):
    """Who set a cluster login name (PRODUCT §8)."""

    STAFF = "staff", _("Centre staff")
    IDENTITY_PROVIDER = "idp", _("Identity provider")


class RequestKind(models.TextChoices):
    MORE_HOURS = "more_hours", _("More hours")
    EXTENSION = "extension", _("A longer period")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


# A manager approves or declines a request for more once (PRODUCT §8).
REQUEST_LIFECYCLE = Lifecycle(
    "allocation request",
    "status",
    {RequestStatus.PENDING: frozenset({RequestStatus.APPROVED, RequestStatus.DECLINED})},
)
