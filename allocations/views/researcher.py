"""A researcher's allocations: balance, quota, chart, members, requests, report. (In progress.)"""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not built yet.")


my_allocations = allocation_detail = allocation_chart = member_add = member_remove = _todo
request_more = final_report = final_report_download = _todo
