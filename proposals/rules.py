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
    if not is_assigned_reviewer(user, proposal):
        return False
    setting = proposal.call.review_visibility
    if setting == ReviewVisibility.ALWAYS:
        return True
    if setting == ReviewVisibility.AFTER_OWN:
        return proposal.reviews.filter(reviewer=user, state=ReviewState.SUBMITTED).exists()
    return False


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
