"""Builders shared by the bad-input tests (issue 11): a proposal whose PI may reply now, and a
reviewer invited to review it (who may answer or declare a conflict)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ReviewKind
from proposals.review.models import Review
from proposals.review.services.reply import reply_window_open
from proposals.submission.models import Proposal
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.test_ranking import in_review, scientific, submitted_proposal


def open_for_reply(pi: User, reviewer: User, manager: User) -> Proposal:
    """``pi``'s proposal in review with ``reviewer``'s submitted review, the right of reply
    open (400 characters)."""
    call = make_call(right_of_reply=True, reply_length_limit=400)
    proposal = submitted_proposal(call, pi, "MINE")
    in_review(call)
    scientific(proposal, reviewer, 4, 4, comment="Fine work.", confidential="Ok.")
    reply_window_open(call=call, by=manager)
    return proposal


def invited_review(proposal: Proposal, reviewer: User) -> Review:
    """``reviewer``, put in the call's pool, invited to review ``proposal``."""
    add_call_role(proposal.call, reviewer, role=CallRoleKind.REVIEWER)
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=ReviewKind.SCIENTIFIC,
        due_at=timezone.now() + timedelta(days=20),
    )
