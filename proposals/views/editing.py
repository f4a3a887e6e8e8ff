"""Editing the sections of a proposal. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


proposal_edit = _todo
