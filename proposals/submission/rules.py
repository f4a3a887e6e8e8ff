"""Permission predicates about proposals (PRODUCT §1.1, §4.2)."""

from datetime import datetime

from accounts.models import User
from accounts.request_memo import remembered
from proposals.calls.rules import call_accepts_submissions, can_manage_call
from proposals.submission.enums import EDITABLE, WITHDRAWABLE, ProposalStatus, TeamStatus
from proposals.submission.hooks import proposal_readers
from proposals.submission.models import Proposal


def is_pi(user: User, proposal: Proposal) -> bool:
    return user.is_authenticated and proposal.pi_id == user.pk


@remembered
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


def can_view_proposal(user: User, proposal: Proposal) -> bool:
    """PRODUCT §1.1: the team and call managers always; once submitted, whoever a feature
    above registered as a reader (review: the call's committee unless in conflict, and the
    reviewers assigned to it unless in conflict; ``proposals.review.rules.reads_proposal``)."""
    if is_team_member(user, proposal) or can_manage_call(user, proposal.call):
        return True
    if not is_in_competition(proposal):
        return False
    return any(reader(user, proposal) for reader in proposal_readers)


def can_read_exclusions(user: User, proposal: Proposal) -> bool:
    """The reviewers the applicant asked to exclude, names and reasons: call managers and the
    proposal's own team only, never its reviewers or the committee (PRODUCT §1.1)."""
    return is_team_member(user, proposal) or can_manage_call(user, proposal.call)


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
