"""Permission predicates about reviews, conflicts and the right of reply (PRODUCT §1.1,
§5)."""

from datetime import datetime

from accounts.models import User
from accounts.request_memo import remembered
from proposals.calls.enums import ReviewVisibility
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.review.enums import ACTIVE_REVIEW_STATES, BLOCKING_CONFLICTS, ReviewState
from proposals.submission.models import Proposal
from proposals.submission.rules import is_in_competition, is_team_member


@remembered
def has_blocking_conflict(user: User, proposal: Proposal) -> bool:
    """A confirmed or declared conflict of interest with the proposal (PRODUCT §5.1)."""
    if not user.is_authenticated:
        return False
    return proposal.conflicts.filter(reviewer=user, status__in=BLOCKING_CONFLICTS).exists()


@remembered
def _own_review_states(user: User, proposal: Proposal) -> frozenset[str]:
    """The states of ``user``'s invited, accepted or submitted reviews of the proposal: what
    both questions below read (one query for the two)."""
    if not user.is_authenticated:
        return frozenset()
    reviews = proposal.reviews.filter(reviewer=user, state__in=ACTIVE_REVIEW_STATES)
    return frozenset(reviews.values_list("state", flat=True))


def is_assigned_reviewer(user: User, proposal: Proposal) -> bool:
    """Invited to, accepted or submitted a review of the proposal, and not in conflict."""
    if not _own_review_states(user, proposal):
        return False
    return not has_blocking_conflict(user, proposal)


def can_see_other_reviews(user: User, proposal: Proposal) -> bool:
    """Whether an assigned reviewer may read the other reviews of the proposal: the call's
    setting never / after submitting their own / always (PRODUCT §1.1)."""
    # The setting first: it costs no query, and most readers of a proposal are no reviewer.
    setting = proposal.call.review_visibility
    if setting == ReviewVisibility.NEVER or not user.is_authenticated:
        return False
    if setting == ReviewVisibility.AFTER_OWN and not has_submitted_review(user, proposal):
        return False
    return is_assigned_reviewer(user, proposal)


def has_submitted_review(user: User, proposal: Proposal) -> bool:
    return ReviewState.SUBMITTED in _own_review_states(user, proposal)


def can_read_all_reviews(user: User, proposal: Proposal) -> bool:
    """Managers, and committee members not in conflict: every review with its reviewer."""
    if can_manage_call(user, proposal.call):
        return True
    return (
        is_in_competition(proposal)
        and is_committee_member(user, proposal.call)
        and not has_blocking_conflict(user, proposal)
    )


def reply_opened(call: Call, now: datetime) -> bool:
    """A call manager has opened the call's right of reply by ``now`` (it may have closed
    since). The window opens when a manager opens it, not by the planned date alone."""
    return call.right_of_reply and call.reply_opened_at is not None and now >= call.reply_opened_at


def reviews_shared_with_team(call: Call, now: datetime) -> bool:
    """Whether a proposal's team may read the comments to the applicant: once the right of
    reply has opened, or once the decisions are published.

    Comments shared when the window opened stay readable after it closes: the team has read
    them already, and the reply they wrote refers to them.
    """
    return call.decisions_published_at is not None or reply_opened(call, now)


def can_read_reviews(user: User, proposal: Proposal, now: datetime) -> bool:
    """Whether ``user`` may read the reviews of ``proposal`` now, in whichever view is theirs
    (``proposals.review.selectors.shown_reviews.proposal_reviews``): its team once the reviews
    are shared with it (someone on the team gets the team's view whatever other role they hold
    in the call); managers, and committee members not in conflict; an assigned reviewer as the
    call's setting allows."""
    if is_team_member(user, proposal):
        return reviews_shared_with_team(proposal.call, now)
    return can_read_all_reviews(user, proposal) or can_see_other_reviews(user, proposal)


def can_see_reply(user: User, proposal: Proposal, now: datetime) -> bool:
    """The proposal's team reads its right-of-reply page once a manager has opened the
    window: the PI answers there while it is open, and the team reads the reply after."""
    return reply_opened(proposal.call, now) and is_team_member(user, proposal)


def reads_proposal(user: User, proposal: Proposal) -> bool:
    """Whether someone off the team and not a manager reads a proposal in competition: the
    call's committee unless in conflict, the assigned reviewers unless in conflict (PRODUCT
    §1.1). Registered with ``proposals.submission.hooks`` for ``can_view_proposal``."""
    if is_committee_member(user, proposal.call):
        return not has_blocking_conflict(user, proposal)
    return is_assigned_reviewer(user, proposal)
