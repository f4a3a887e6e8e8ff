"""Managers' allocation pages: the list with filters, one allocation with its ledger and quota,
adjustments and the members' cluster logins (PRODUCT §8); the audit trail is in
``views.audit``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.decorators import manager_required
from accounts.formatting import amount as format_amount
from accounts.rules import is_call_manager
from allocations.forms.manage import AdjustmentForm, AllocationFilter, ClusterLoginForm
from allocations.models import Allocation
from allocations.selectors import manage as selectors
from allocations.selectors.audit import allocation_audit
from allocations.selectors.ledger import allocation_ledgers, ledger_entries, today_for
from allocations.selectors.logins import allocation_clusters, allocation_logins
from allocations.selectors.researcher import get_allocation_for_user
from allocations.services.ledger import allocation_adjust as adjust
from allocations.services.logins import cluster_login_set


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


def _logins_page(
    request: HttpRequest, allocation: Allocation, form: ClusterLoginForm | None, status: int = 200
) -> HttpResponse:
    clusters = allocation_clusters(allocation=allocation)
    rows = allocation_logins(allocation=allocation, clusters=clusters)
    if form is None:
        form = _login_form(None, rows, clusters)
    context = {"allocation": allocation, "rows": rows, "clusters": clusters, "form": form}
    return render(request, "allocations/manage/cluster_logins.html", context, status=status)


def _login_form(data, rows: list, clusters: list[str]) -> ClusterLoginForm:
    members = {row.member.user_id: row.member.user for row in rows}
    choices = [(pk, f"{user.display_name} <{user.email}>") for pk, user in members.items()]
    return ClusterLoginForm(data, members=choices, clusters=clusters)


@require_http_methods(["GET", "POST"])
@login_required
def cluster_logins(request: HttpRequest, pk: int) -> HttpResponse:
    """The members' login names on the allocation's clusters: centre staff set them (PRODUCT
    §8). Who may see the allocation but is not staff gets 403; anyone else 404."""
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    if not is_call_manager(request.user):
        raise PermissionDenied(_("Only centre staff set cluster logins."))
    if request.method == "GET":
        return _logins_page(request, allocation, None)
    clusters = allocation_clusters(allocation=allocation)
    rows = allocation_logins(allocation=allocation, clusters=clusters)
    form = _login_form(request.POST, rows, clusters)
    if form.is_valid():
        member = next(r.member for r in rows if r.member.user_id == form.cleaned_data["member"])
        try:
            cluster_login_set(
                user=member.user,
                cluster=form.cleaned_data["cluster"],
                login=form.cleaned_data["login"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The login of %(name)s on %(cluster)s is saved.")
                % {"name": member.user.display_name, "cluster": form.cleaned_data["cluster"]},
            )
            return redirect("allocation_cluster_logins", pk=allocation.pk)
    return _logins_page(request, allocation, form, status=400)
