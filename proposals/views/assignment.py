"""Reviewer assignment: the optimal suggestion, applying it, manual changes. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


manage_assignment = assignment_suggest = assignment_apply = review_assign_manual = review_remove = (
    _todo
)
