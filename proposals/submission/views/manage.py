"""Managers: every proposal of a call, with filters and the requests against the budget."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.decorators import manager_required
from proposals.calls import selectors as call_selectors
from proposals.submission.forms.manage import CallProposalFilter
from proposals.submission.selectors import manage as selectors


@require_safe
@manager_required
def manage_call_proposals(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_selectors.get_call_for_manager(user=request.user, pk=pk)
    offers = selectors.call_offers(call=call)
    filters = CallProposalFilter(request.GET, offers=offers)
    listing = selectors.call_proposals(
        call=call, offers=offers, **filters.filters(), page=request.GET.get("page")
    )
    return render(
        request,
        "proposals/manage/call_proposals.html",
        {"call": call, "filters": filters, "listing": listing},
    )
