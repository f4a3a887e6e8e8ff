"""Whether a call's review is complete enough to decide on (PRODUCT §6): proposals with fewer
submitted scientific reviews than the call asks for. One query."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext as _

from proposals.calls.models import Call
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import Review
from proposals.submission.models import Proposal


@dataclass(frozen=True)
class ReviewGap:
    """A proposal with fewer submitted scientific reviews than its call asks for."""

    proposal_id: int
    reference: str
    submitted: int
    needed: int

    @property
    def label(self) -> str:
        return _("%(proposal)s (%(submitted)d of %(needed)d reviews)") % {
            "proposal": self.reference,
            "submitted": self.submitted,
            "needed": self.needed,
        }


def review_gaps(*, call: Call, proposals: Iterable[Proposal]) -> list[ReviewGap]:
    """The ``proposals`` of ``call`` lacking submitted scientific reviews, in the given order."""
    proposals = list(proposals)
    counts = dict(
        Review.objects.filter(
            proposal__in=proposals, kind=ReviewKind.SCIENTIFIC, state=ReviewState.SUBMITTED
        )
        .values("proposal_id")
        .annotate(n=Count("pk"))
        .values_list("proposal_id", "n")
    )
    return [
        ReviewGap(p.pk, p.reference or str(p.pk), counts.get(p.pk, 0), call.reviewers_per_proposal)
        for p in proposals
        if counts.get(p.pk, 0) < call.reviewers_per_proposal
    ]
