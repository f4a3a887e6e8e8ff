"""What every proposal page shows: the proposal, its call, its sections, what the reader may do."""

from django.http import HttpRequest
from django.utils import timezone

from proposals import rules
from proposals.enums import ProposalSection
from proposals.models import Proposal
from proposals.selectors.reviewing import own_review


def proposal_page_context(
    request: HttpRequest, proposal: Proposal, *, section: str | None = None
) -> dict:
    now = timezone.now()
    user = request.user
    team = rules.is_team_member(user, proposal)
    return {
        "proposal": proposal,
        "call": proposal.call,
        "section": section,
        "sections": ProposalSection,
        "now": now,
        "is_pi": rules.is_pi(user, proposal),
        "is_team_member": team,
        "can_edit": rules.can_edit_proposal(user, proposal, now),
        "can_submit": rules.can_submit_proposal(user, proposal, now),
        "can_unsubmit": rules.can_unsubmit_proposal(user, proposal, now),
        "can_withdraw": rules.can_withdraw_proposal(user, proposal),
        "can_manage_team": rules.can_manage_team(user, proposal, now),
        "call_open": rules.call_accepts_submissions(proposal.call, now),
        # The sidebar's links to the reviews, the right of reply and the reader's own review
        # (someone on the team gets the team's pages, never a reviewer's: no query for them).
        "can_read_reviews": rules.can_read_reviews(user, proposal, now),
        "can_see_reply": rules.can_see_reply(user, proposal, now),
        "own_review": None if team else own_review(user=user, proposal=proposal),
    }
