"""Reading reviews, scores and the committee's ranking with its CSV export. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


proposal_reviews = call_ranking = call_ranking_csv = _todo
