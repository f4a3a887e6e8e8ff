"""Reads about the team of a proposal and about invitations (fetch-and-check in one step)."""

from django.shortcuts import get_object_or_404

from proposals.submission.models import Proposal, TeamMember


def team_of(*, proposal: Proposal) -> list[TeamMember]:
    """The invitations of ``proposal`` in the order they were sent, with their accounts."""
    return list(proposal.team.select_related("user").order_by("invited_at", "id"))


def get_team_member(*, proposal: Proposal, pk: int) -> TeamMember:
    """A member of ``proposal`` (404 if the id belongs to another proposal or is gone).

    The caller has fetched ``proposal`` through ``get_proposal_for_user`` already.
    """
    return get_object_or_404(TeamMember.objects.select_related("user"), proposal=proposal, pk=pk)


def get_invitation(*, token: str) -> TeamMember:
    """The invitation that ``token`` opens, with its proposal, call and PI; 404 if unknown.

    The token is the secret of the emailed link: whoever holds it may see who invites them to
    what, and answer.
    """
    return get_object_or_404(
        TeamMember.objects.select_related("proposal__call", "proposal__pi", "user"), token=token
    )
