"""Conflicts of interest: managers confirm or dismiss; reviewers declare. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


manage_conflicts = conflict_decide = conflict_declare = _todo
