"""Managers' allocation pages: filters, adjustments, requests, the audit trail. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


manage_allocations = manage_allocation = allocation_adjust = request_decide = call_audit = _todo
