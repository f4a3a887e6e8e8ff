"""Reads of proposals, with permission checks (STYLE: fetch-and-check in one step)."""

from django.http import Http404

from accounts.models import User
from proposals.submission.models import Proposal
from proposals.submission.rules import can_view_proposal


def get_proposal_for_user(*, user: User, pk: int) -> Proposal:
    """The proposal, or 404 for anyone who may not know it exists (PRODUCT §1.1).

    Acting on it (editing, submitting) is checked by the caller with the ``can_*`` rules,
    which answer 403.
    """
    proposal = (
        Proposal.objects.select_related("call", "pi").filter(pk=pk).first()
        if user.is_authenticated
        else None
    )
    if proposal is None or not can_view_proposal(user, proposal):
        raise Http404("No such proposal.")
    return proposal
