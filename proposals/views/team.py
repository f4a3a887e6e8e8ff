"""The team: invitations by email, accept, decline, remove. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


proposal_team = team_invite = team_remove = invitation = _todo
