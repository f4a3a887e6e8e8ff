"""The reviewer's side: invitations, accept or decline, the review form. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


my_reviews = review_detail = review_respond = review_edit = review_reopen = _todo
