"""What every proposal page shows: the proposal, its call, its sections, what the reader may do."""

from django.http import HttpRequest
from django.utils import timezone

from proposals.calls.rules import call_accepts_submissions
from proposals.submission.enums import ProposalSection
from proposals.submission.hooks import page_contexts
from proposals.submission.models import Proposal
from proposals.submission.rules import (
    can_edit_proposal,
    can_manage_team,
    can_read_exclusions,
    can_submit_proposal,
    can_unsubmit_proposal,
    can_withdraw_proposal,
    is_pi,
    is_team_member,
)


def proposal_page_context(
    request: HttpRequest, proposal: Proposal, *, section: str | None = None
) -> dict:
    now = timezone.now()
    user = request.user
    team = is_team_member(user, proposal)
    context = {
        "proposal": proposal,
        "call": proposal.call,
        "section": section,
        "sections": ProposalSection,
        "now": now,
        "is_pi": is_pi(user, proposal),
        "is_team_member": team,
        "can_edit": can_edit_proposal(user, proposal, now),
        "can_submit": can_submit_proposal(user, proposal, now),
        "can_unsubmit": can_unsubmit_proposal(user, proposal, now),
        "can_withdraw": can_withdraw_proposal(user, proposal),
        "can_manage_team": can_manage_team(user, proposal, now),
        "call_open": call_accepts_submissions(proposal.call, now),
        "can_read_exclusions": team or can_read_exclusions(user, proposal),
    }
    # The sidebar's links to the reviews, the right of reply and the reader's own review
    # (``proposals.review.views.page_links``, registered in ``proposals.apps``).
    for provider in page_contexts:
        context.update(provider(user, proposal, now, team))
    return context
