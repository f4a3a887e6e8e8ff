"""Reads for the right of reply (PRODUCT §5.4): where a call's window stands, and whether its
reviews are complete enough to open it."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db.models import Exists, OuterRef

from proposals.calls.models import Call
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import Review
from proposals.review.rules import reply_opened
from proposals.submission.enums import IN_COMPETITION
from proposals.submission.models import Proposal


class ReplyWindow(StrEnum):
    NOT_OFFERED = "not_offered"
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"


def reply_window(call: Call, now: datetime) -> ReplyWindow:
    """Where the call's right of reply stands at ``now`` (PRODUCT §5.4).

    It opens when a manager opens it (``reply_opened_at``, see ``reply_opened``), not by
    the planned date alone, and closes at ``reply_closes_at``.
    """
    if not call.right_of_reply:
        return ReplyWindow.NOT_OFFERED
    if not reply_opened(call, now):
        return ReplyWindow.NOT_OPEN
    if call.reply_closes_at is not None and now >= call.reply_closes_at:
        return ReplyWindow.CLOSED
    return ReplyWindow.OPEN


@dataclass(frozen=True)
class ReviewProgress:
    """Whether the reviews of a call are complete enough to open the right of reply."""

    pending: int
    without_review: int

    @property
    def complete(self) -> bool:
        return self.pending == 0 and self.without_review == 0


def review_progress(*, call: Call) -> ReviewProgress:
    """Assigned reviews not yet submitted, and proposals in competition without a single
    submitted scientific review. Two queries."""
    in_competition = Proposal.objects.filter(call=call, status__in=IN_COMPETITION)
    pending = Review.objects.filter(
        proposal__in=in_competition, state__in=[ReviewState.INVITED, ReviewState.ACCEPTED]
    ).count()
    reviewed = Review.objects.filter(
        proposal=OuterRef("pk"), kind=ReviewKind.SCIENTIFIC, state=ReviewState.SUBMITTED
    )
    without = in_competition.exclude(Exists(reviewed)).count()
    return ReviewProgress(pending=pending, without_review=without)
