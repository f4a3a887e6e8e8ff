"""Managers: every proposal of a call, with filters. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


manage_call_proposals = _todo
