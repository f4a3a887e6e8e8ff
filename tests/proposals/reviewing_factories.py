"""Builders for the reviewer's pages' tests: submitted proposals and their reviews.

Assignments are written as ``Review`` rows directly (the assignment services are tested on
their own); accepting goes through ``review_accept``, the real path.
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import review_accept
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit
from tests.proposal_factories import add_call_role, complete_proposal

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A due date the pages print: "1 Mar 2099, 17:00 CET (Europe/Berlin)".
DUE = datetime(2099, 3, 1, 17, 0, tzinfo=BERLIN)
DUE_TEXT = "1 Mar 2099, 17:00 CET (Europe/Berlin)"


def submitted_proposal(call: Call, pi: User, **fields) -> Proposal:
    """A complete proposal submitted by ``pi`` through ``proposal_submit``."""
    proposal = complete_proposal(call, pi, **fields)
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


def assign(
    proposal: Proposal,
    reviewer: User,
    *,
    kind: str = ReviewKind.SCIENTIFIC,
    due_at: datetime | None = None,
) -> Review:
    """An invitation of ``reviewer`` (put in the call's pool) to review ``proposal``."""
    role = CallRoleKind.TECHNICAL if kind == ReviewKind.TECHNICAL else CallRoleKind.REVIEWER
    if not proposal.call.roles.filter(user=reviewer, role=role).exists():
        add_call_role(proposal.call, reviewer, role)
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=kind,
        state=ReviewState.INVITED,
        due_at=due_at or DUE,
    )


def accepted(proposal: Proposal, reviewer: User, **fields) -> Review:
    """An invitation ``reviewer`` accepted through ``review_accept``."""
    review = assign(proposal, reviewer, **fields)
    review_accept(review=review, by=reviewer)
    return review


def scores_of(review: Review) -> dict[str, int]:
    """The review's saved scores by criterion name."""
    return dict(review.scores.values_list("criterion__name", "value"))


def criteria_ids(call: Call) -> tuple[int, int]:
    """The ids of the two criteria ``make_call`` creates: excellence, feasibility."""
    excellence = call.criteria.get(name="Scientific excellence")
    feasibility = call.criteria.get(name="Feasibility")
    return excellence.pk, feasibility.pk


def scientific_post(review: Review, **fields: str) -> dict[str, str]:
    """The scientific form, complete, as a browser posts it with "Save draft"; ``fields``
    replace values (``None`` leaves the field out, as an unchecked radio group)."""
    excellence, feasibility = criteria_ids(review.proposal.call)
    data = {
        "lock_version": str(review.lock_version),
        f"score-{excellence}": "4",
        f"score-{feasibility}": "3",
        "comment_to_applicant": "A clear plan; the scaling runs are convincing.",
        "confidential_comment": "Strong team, but the request is generous.",
        "recommendation": "fund_reduced",
        "save": "draft",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def recommended_amounts(review: Review) -> dict[str, Decimal]:
    """The technical review's recommended amounts by resource code."""
    return dict(review.recommended.values_list("call_resource__resource__code", "amount"))


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def soon(**delta: float) -> datetime:
    return timezone.now() + timedelta(**delta)
