"""Permission predicates about calls (STYLE: named, combined explicitly, tested one by one).

A role counts only once it is linked to a user: a pending role (an email nobody has verified
yet) gives nobody anything.
"""

from datetime import datetime

from accounts.models import User
from accounts.rules import is_call_manager
from proposals.enums import (
    ACTIVE_REVIEW_STATES,
    BLOCKING_CONFLICTS,
    EDITABLE,
    WITHDRAWABLE,
    CallRoleKind,
    CallStatus,
    ProposalStatus,
    ReviewState,
    ReviewVisibility,
    TeamStatus,
)
from proposals.models import Call, Proposal


def _has_call_role(user: User, call: Call, role: CallRoleKind) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return call.roles.filter(user=user, role=role).exists()


def is_committee_member(user: User, call: Call) -> bool:
    return _has_call_role(user, call, CallRoleKind.COMMITTEE)


def is_call_reviewer(user: User, call: Call) -> bool:
    """In the call's reviewer pool (assignment to a proposal is a separate, later question)."""
    return _has_call_role(user, call, CallRoleKind.REVIEWER)


def can_manage_call(user: User, call: Call) -> bool:
    """Call managers manage every call; there are no per-call managers yet."""
    return is_call_manager(user)


# --- Proposals (PRODUCT §1.1, §4.2) ---------------------------------------------------------


def call_accepts_submissions(call: Call, now: datetime) -> bool:
    """Open, to the second: from ``opens_at`` (inclusive) to ``closes_at`` (exclusive)."""
    return call.status_at(now) == CallStatus.OPEN


def is_pi(user: User, proposal: Proposal) -> bool:
    return user.is_authenticated and proposal.pi_id == user.pk


def is_team_member(user: User, proposal: Proposal) -> bool:
    """The PI or a co-investigator who accepted the invitation."""
    if is_pi(user, proposal):
        return True
    if not user.is_authenticated:
        return False
    return proposal.team.filter(user=user, status=TeamStatus.ACCEPTED).exists()


def is_in_competition(proposal: Proposal) -> bool:
    """Submitted at least once and not back in draft: what a committee gets to read."""
    return proposal.reference is not None and proposal.status != ProposalStatus.DRAFT


def has_blocking_conflict(user: User, proposal: Proposal) -> bool:
    """A confirmed or declared conflict of interest with the proposal (PRODUCT §5.1)."""
    if not user.is_authenticated:
        return False
    return proposal.conflicts.filter(reviewer=user, status__in=BLOCKING_CONFLICTS).exists()


def is_assigned_reviewer(user: User, proposal: Proposal) -> bool:
    """Invited to, accepted or submitted a review of the proposal, and not in conflict."""
    if not user.is_authenticated:
        return False
    active = proposal.reviews.filter(reviewer=user, state__in=ACTIVE_REVIEW_STATES).exists()
    return active and not has_blocking_conflict(user, proposal)


def can_view_proposal(user: User, proposal: Proposal) -> bool:
    """PRODUCT §1.1: the team and call managers always; once submitted, the call's committee
    unless in conflict, and the reviewers assigned to it unless in conflict."""
    if is_team_member(user, proposal) or can_manage_call(user, proposal.call):
        return True
    if not is_in_competition(proposal):
        return False
    if is_committee_member(user, proposal.call):
        return not has_blocking_conflict(user, proposal)
    return is_assigned_reviewer(user, proposal)


def can_see_other_reviews(user: User, proposal: Proposal) -> bool:
    """Whether an assigned reviewer may read the other reviews of the proposal: the call's
    setting never / after submitting their own / always (PRODUCT §1.1)."""
    # The setting first: it costs no query, and most readers of a proposal are no reviewer.
    setting = proposal.call.review_visibility
    if setting == ReviewVisibility.NEVER or not user.is_authenticated:
        return False
    if setting == ReviewVisibility.AFTER_OWN:
        own = proposal.reviews.filter(reviewer=user, state=ReviewState.SUBMITTED)
        if not own.exists():
            return False
    return is_assigned_reviewer(user, proposal)


def can_read_all_reviews(user: User, proposal: Proposal) -> bool:
    """Managers, and committee members not in conflict: every review with its reviewer."""
    if can_manage_call(user, proposal.call):
        return True
    return (
        is_in_competition(proposal)
        and is_committee_member(user, proposal.call)
        and not has_blocking_conflict(user, proposal)
    )


def decisions_published(proposal: Proposal) -> bool:
    return proposal.call.decisions_published_at is not None


# --- Reading reviews and the right of reply (PRODUCT §1.1, §5.4) ------------------------------


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
    (``proposals.selectors.ranking.proposal_reviews``): its team once the reviews are shared
    with it (someone on the team gets the team's view whatever other role they hold in the
    call); managers, and committee members not in conflict; an assigned reviewer as the
    call's setting allows."""
    if is_team_member(user, proposal):
        return reviews_shared_with_team(proposal.call, now)
    return can_read_all_reviews(user, proposal) or can_see_other_reviews(user, proposal)


def can_see_reply(user: User, proposal: Proposal, now: datetime) -> bool:
    """The proposal's team reads its right-of-reply page once a manager has opened the
    window: the PI answers there while it is open, and the team reads the reply after."""
    return reply_opened(proposal.call, now) and is_team_member(user, proposal)


def can_edit_proposal(user: User, proposal: Proposal, now: datetime) -> bool:
    return (
        proposal.status in EDITABLE
        and call_accepts_submissions(proposal.call, now)
        and is_team_member(user, proposal)
    )


def can_submit_proposal(user: User, proposal: Proposal, now: datetime) -> bool:
    return (
        proposal.status in EDITABLE
        and call_accepts_submissions(proposal.call, now)
        and is_pi(user, proposal)
    )


def can_unsubmit_proposal(user: User, proposal: Proposal, now: datetime) -> bool:
    """Before the deadline the PI may take a submitted proposal back to draft."""
    return (
        proposal.status == ProposalStatus.SUBMITTED
        and call_accepts_submissions(proposal.call, now)
        and is_pi(user, proposal)
    )


def can_withdraw_proposal(user: User, proposal: Proposal) -> bool:
    return proposal.status in WITHDRAWABLE and is_pi(user, proposal)


def can_manage_team(user: User, proposal: Proposal, now: datetime) -> bool:
    """Only the PI invites and removes members, while the proposal can still change."""
    return is_pi(user, proposal) and can_edit_proposal(user, proposal, now)
