"""Managers' allocation pages: the list with filters, one allocation with its ledger and quota,
and adjustments (PRODUCT §8); the audit trail is in ``views.audit``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import manager_required
from accounts.formatting import amount as format_amount
from allocations.forms.manage import AdjustmentForm, AllocationFilter
from allocations.models import Allocation
from allocations.selectors import manage as selectors
from allocations.selectors.audit import allocation_audit
from allocations.selectors.ledger import allocation_ledgers, ledger_entries, today_for
from allocations.services.ledger import allocation_adjust as adjust


@require_safe
@manager_required
def manage_allocations(request: HttpRequest) -> HttpResponse:
    filters = AllocationFilter(request.GET)
    page_obj, rows = selectors.manager_allocations(
        **filters.filters(), page=request.GET.get("page")
    )
    return render(
        request,
        "allocations/manage/allocation_list.html",
        {"filters": filters, "page_obj": page_obj, "rows": rows},
    )


def _detail(
    request: HttpRequest, allocation: Allocation, form: AdjustmentForm | None, status: int = 200
) -> HttpResponse:
    ledgers = allocation_ledgers(allocation=allocation)
    if form is None:
        form = AdjustmentForm(resources=[x.resource for x in ledgers])
    today = today_for(allocation)
    context = {
        "allocation": allocation,
        "call": allocation.proposal.call,
        "period": selectors.Period.LABELS[selectors.period_of(allocation, today)],
        "ledgers": ledgers,
        "entries": list(ledger_entries(allocation=allocation)),
        "members": selectors.allocation_members(allocation=allocation),
        "requests": list(allocation.requests.select_related("resource", "requested_by")),
        "audit": allocation_audit(allocation=allocation, zone=timezone.get_current_timezone()),
        "form": form,
    }
    return render(request, "allocations/manage/allocation_detail.html", context, status=status)


@require_safe
@manager_required
def manage_allocation(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.allocation_for_manager(pk=pk), None)


@require_POST
@manager_required
def allocation_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = selectors.allocation_for_manager(pk=pk)
    resources = [row.resource for row in allocation.resources.select_related("resource")]
    form = AdjustmentForm(request.POST, resources=resources)
    if form.is_valid():
        try:
            entry = adjust(allocation=allocation, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Adjusted %(resource)s by %(amount)s %(unit)s.")
                % {
                    "resource": entry.resource.name,
                    "amount": format_amount(entry.amount),
                    "unit": entry.resource.unit,
                },
            )
            return redirect("manage_allocation", pk=allocation.pk)
    return _detail(request, allocation, form, status=400)
