"""What every proposal page shows: the proposal, its call, its sections, what the reader may do."""

from django.http import HttpRequest
from django.utils import timezone

from proposals import rules
from proposals.enums import ProposalSection
from proposals.models import Proposal


def proposal_page_context(
    request: HttpRequest, proposal: Proposal, *, section: str | None = None
) -> dict:
    now = timezone.now()
    user = request.user
    return {
        "proposal": proposal,
        "call": proposal.call,
        "section": section,
        "sections": ProposalSection,
        "now": now,
        "is_pi": rules.is_pi(user, proposal),
        "is_team_member": rules.is_team_member(user, proposal),
        "can_edit": rules.can_edit_proposal(user, proposal, now),
        "can_submit": rules.can_submit_proposal(user, proposal, now),
        "can_unsubmit": rules.can_unsubmit_proposal(user, proposal, now),
        "can_withdraw": rules.can_withdraw_proposal(user, proposal),
        "can_manage_team": rules.can_manage_team(user, proposal, now),
        "call_open": rules.call_accepts_submissions(proposal.call, now),
    }
