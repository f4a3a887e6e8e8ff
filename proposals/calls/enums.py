"""States and choices of calls (PRODUCT §3): derived from the clock but for archiving."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    """Derived from the clock (PRODUCT §3); only ARCHIVED is set by hand."""

    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed (in review)")
    DECIDED = "decided", _("Decided")
    ARCHIVED = "archived", _("Archived")


PUBLIC_LISTED = {CallStatus.UPCOMING, CallStatus.OPEN}


class ReviewVisibility(models.TextChoices):
    """Whether a reviewer sees the other reviews of a proposal (PRODUCT §1.1)."""

    NEVER = "never", _("Never")
    AFTER_OWN = "after_own", _("After submitting their own")
    ALWAYS = "always", _("Always")


class CallRoleKind(models.TextChoices):
    COMMITTEE = "committee", _("Committee member")
    REVIEWER = "reviewer", _("Reviewer")
    TECHNICAL = "technical", _("Technical reviewer (centre staff)")


class QuotaPolicy(models.TextChoices):
    """PRODUCT §8: the whole award for the whole period, or monthly shares as at JSC."""

    WHOLE_PERIOD = "whole_period", _("Whole period")
    MONTHLY = "monthly", _("Monthly (carry over one month, borrow one month ahead)")
