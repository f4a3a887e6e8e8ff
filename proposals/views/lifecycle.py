"""Starting, following, submitting, taking back and withdrawing a proposal. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


proposal_start = my_proposals = proposal_detail = proposal_submit = _todo
proposal_unsubmit = proposal_withdraw = proposal_version = _todo
