"""Allocations and usage as CSV or XLSX (PRODUCT §9): the tables are built in
``allocations.selectors.exports`` and written by ``accounts.exports``."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from accounts.decorators import manager_required
from accounts.exports import table_response
from allocations.forms.manage import AllocationFilter
from allocations.selectors import manage as selectors
from allocations.selectors.exports import allocations_table, usage_table
from allocations.selectors.researcher import get_allocation_for_user

# Every allocation the filters keep, in one file (5,000 at the scale of PRODUCT §10).
EXPORT_ROWS = 20_000


@require_safe
@manager_required
def allocations_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The managers' allocation list with its filters (``?call=…&state=…``), every page."""
    filters = AllocationFilter(request.GET)
    _page, rows = selectors.manager_allocations(**filters.filters(), per_page=EXPORT_ROWS)
    return table_response(allocations_table(rows), fmt)


@require_safe
@login_required
def usage_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """An allocation's ledger, for its readers (404 for anyone else)."""
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    return table_response(usage_table(allocation=allocation), fmt, stream=fmt == "csv")
