"""Publishing a call's decisions, creating allocations; the waitlist. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


decisions_publish = waitlist_promote = _todo
