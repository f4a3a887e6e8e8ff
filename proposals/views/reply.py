"""The right of reply: managers open the window, applicants answer once. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


reply_window_open = proposal_reply = _todo
