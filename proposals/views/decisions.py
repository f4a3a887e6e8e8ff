"""Decisions: the committee's awards within the budget; the applicant's answer. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


manage_decisions = decisions_suggest = decision_detail = decision_respond = _todo
