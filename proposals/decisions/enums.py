"""The committee's decisions and the PI's answer to an award (PRODUCT §6)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.lifecycle import Lifecycle


class DecisionOutcome(models.TextChoices):
    """The committee's decision on a proposal (PRODUCT §6)."""

    AWARDED = "awarded", _("Awarded")
    PARTIALLY_AWARDED = "partially_awarded", _("Partially awarded")
    WAITLISTED = "waitlisted", _("Waitlisted")
    REJECTED = "rejected", _("Rejected")


AWARDING = frozenset({DecisionOutcome.AWARDED, DecisionOutcome.PARTIALLY_AWARDED})


class AwardResponse(models.TextChoices):
    PENDING = "pending", _("Waiting for the PI's answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


# The PI answers a published award once (PRODUCT §6).
AWARD_RESPONSE_LIFECYCLE = Lifecycle(
    "award response",
    "response",
    {AwardResponse.PENDING: frozenset({AwardResponse.ACCEPTED, AwardResponse.DECLINED})},
)


class BookState(models.TextChoices):
    """A panel book being built by the Celery job, then ready (or failed) (PRODUCT §9)."""

    QUEUED = "queued", _("Being built")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


# A reader's book: queued, then built or failed; asking again queues it again (PRODUCT §9).
BOOK_LIFECYCLE = Lifecycle(
    "panel book",
    "state",
    {
        BookState.QUEUED: frozenset({BookState.READY, BookState.FAILED}),
        BookState.READY: frozenset({BookState.QUEUED}),
        BookState.FAILED: frozenset({BookState.QUEUED}),
    },
)
