"""A researcher's allocations: the list, one allocation (figures, quota, chart, use per member),
members, requests for more, the final report (PRODUCT §8).

Every view fetches-and-checks through ``selectors_researcher``: the PI, current members and
call managers see an allocation, anyone else gets 404; only the PI acts (403 for the others).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.files import declared_length, private_file_download
from accounts.rules import is_call_manager
from allocations.chart import render_usage_chart, series_from_quota
from allocations.forms.researcher import (
    AllocationRequestForm,
    FinalReportForm,
    MemberAddForm,
    RequestDecisionForm,
)
from allocations.models import Allocation, FinalReport
from allocations.rules import is_allocation_pi
from allocations.selectors import researcher as selectors
from allocations.selectors.ledger import ResourceLedger
from allocations.selectors.researcher import (
    allocation_page,
    allocation_summary,
    get_allocation_for_user,
    pending_requests,
)
from allocations.services import members, reports
from allocations.services.requests import allocation_request_create
from proposals.submission.forms.attachments import SizeCappedUploadHandler
from proposals.submission.selectors.proposals import get_proposal_for_user

# Room for the CSRF token and the multipart headers around the file.
FORM_OVERHEAD = 64 * 1024


def _require_pi(request: HttpRequest, allocation: Allocation, message: str) -> None:
    if not is_allocation_pi(request.user, allocation):
        raise PermissionDenied(message)


def _chart(allocation: Allocation, ledger: ResourceLedger, id_prefix: str) -> str:
    return render_usage_chart(
        months=series_from_quota(ledger.quota.months),
        awarded=ledger.quota.awarded,
        unit=ledger.resource.unit,
        title=_("Use of %(resource)s on %(account)s")
        % {"resource": ledger.resource.name, "account": allocation.account},
        id_prefix=id_prefix,
    )


@require_safe
@login_required
def my_allocations(request: HttpRequest) -> HttpResponse:
    """The allocations the user leads or is a member of; for call managers, also the requests
    waiting for a decision."""
    manager = is_call_manager(request.user)
    return render(
        request,
        "allocations/my_allocations.html",
        {
            "rows": selectors.my_allocations(user=request.user),
            "pending": pending_requests() if manager else None,
        },
    )


def _render_detail(
    request: HttpRequest,
    allocation: Allocation,
    *,
    member_form: MemberAddForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = allocation_page(allocation=allocation, user=request.user)
    summary = page.summary
    is_pi = is_allocation_pi(request.user, allocation)
    charts: list[tuple[ResourceLedger, SafeString]] = [
        # The SVG escapes every text it holds (see allocations.chart).
        (ledger, mark_safe(_chart(summary.allocation, ledger, f"chart-{ledger.resource.pk}")))
        for ledger in summary.lines
    ]
    manager = is_call_manager(request.user)
    return render(
        request,
        "allocations/detail.html",
        {
            "page": page,
            "summary": summary,
            "allocation": summary.allocation,
            "call": summary.allocation.proposal.call,
            "charts": charts,
            "is_pi": is_pi,
            "is_manager": manager,
            "member_form": (member_form or MemberAddForm()) if is_pi else None,
            "decision_form": RequestDecisionForm() if manager else None,
        },
        status=status,
    )


@require_safe
@login_required
def allocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    return _render_detail(request, allocation)


@require_safe
@login_required
def allocation_chart(request: HttpRequest, pk: int) -> HttpResponse:
    """The chart of one resource (``?resource=<code>``, else the first) as an SVG image."""
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    summary = allocation_summary(allocation=allocation, user=request.user)
    code = request.GET.get("resource")
    ledgers = [x for x in summary.lines if code is None or x.resource.code == code]
    if not ledgers:
        raise Http404("No such resource on this allocation.")
    response = HttpResponse(
        _chart(summary.allocation, ledgers[0], "chart"), content_type="image/svg+xml"
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_cache=True)
    return response


@require_POST
@login_required
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    _require_pi(request, allocation, _("Only the principal investigator can add members."))
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = members.allocation_member_add(
                allocation=allocation, email=form.cleaned_data["email"], by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s is now a member of %(account)s.")
                % {"name": membership.user.display_name, "account": allocation.account},
            )
            return redirect("allocation_detail", pk=allocation.pk)
    return _render_detail(request, allocation, member_form=form)


@require_POST
@login_required
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    _require_pi(request, allocation, _("Only the principal investigator can remove members."))
    membership = get_object_or_404(
        allocation.members.select_related("user", "allocation"), pk=member_pk
    )
    try:
        members.allocation_member_remove(membership=membership, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s is no longer a member of %(account)s.")
            % {"name": membership.user.display_name, "account": allocation.account},
        )
    return redirect("allocation_detail", pk=allocation.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def request_more(request: HttpRequest, pk: int) -> HttpResponse:
    """The requests of an allocation; the PI asks for more hours or a longer period here."""
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    is_pi = is_allocation_pi(request.user, allocation)
    form = None
    if request.method == "POST":
        _require_pi(request, allocation, _("Only the principal investigator can ask for more."))
        form = AllocationRequestForm(request.POST, allocation=allocation)
        if form.is_valid():
            data = form.cleaned_data
            try:
                allocation_request_create(
                    allocation=allocation,
                    by=request.user,
                    kind=data["kind"],
                    reason=data["reason"],
                    resource=data.get("resource"),
                    amount=data.get("amount"),
                    new_end=data.get("new_end"),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "Your request is sent to the call managers. You will get an email "
                        "when it is decided."
                    ),
                )
                return redirect("allocation_request", pk=allocation.pk)
    elif is_pi:
        form = AllocationRequestForm(allocation=allocation)
    page = allocation_page(allocation=allocation, user=request.user)
    return render(
        request,
        "allocations/requests.html",
        {
            "page": page,
            "allocation": page.allocation,
            "call": page.allocation.proposal.call,
            "summary": page.summary,
            "is_pi": is_pi,
            "form": form,
            "decision_form": RequestDecisionForm() if is_call_manager(request.user) else None,
        },
    )


def _render_report(
    request: HttpRequest, allocation: Allocation, form: FinalReportForm | None, status: int = 200
) -> HttpResponse:
    summary = allocation_summary(allocation=allocation, user=request.user)
    is_pi = is_allocation_pi(request.user, allocation)
    if form is None and is_pi and summary.report.can_upload_now:
        form = FinalReportForm(max_bytes=reports.FINAL_REPORT_MAX_BYTES)
    return render(
        request,
        "allocations/final_report.html",
        {
            "summary": summary,
            "allocation": summary.allocation,
            "call": summary.allocation.proposal.call,
            "report": summary.report,
            "is_pi": is_pi,
            "form": form,
        },
        status=status,
    )


@csrf_exempt  # the upload handler must be in place before anything reads the body (see below)
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def final_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The final report: its due date and state; the PI uploads it here from the period's last
    day on. A body over the size limit is refused before it is read; a file that passes the
    limit on the way in is skipped by ``SizeCappedUploadHandler``. The CSRF check runs in
    ``_upload``, once the handler is in place (as on the proposal's attachments page)."""
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    if request.method != "POST":
        return _render_report(request, allocation, None)
    _require_pi(
        request, allocation, _("Only the principal investigator can upload the final report.")
    )
    max_bytes = reports.FINAL_REPORT_MAX_BYTES
    if declared_length(request) > max_bytes + FORM_OVERHEAD:
        # Nothing of the body is read, so nothing is stored: no CSRF check is needed to say no.
        form = FinalReportForm(max_bytes=max_bytes)
        form.refuse_unread()
        return _render_report(request, allocation, form, status=413)
    handler = SizeCappedUploadHandler(request, max_bytes)
    request.upload_handlers.insert(0, handler)
    return _upload(request, allocation, handler)


@csrf_protect
def _upload(
    request: HttpRequest, allocation: Allocation, handler: SizeCappedUploadHandler
) -> HttpResponse:
    form = FinalReportForm(
        request.POST,
        request.FILES,
        max_bytes=reports.FINAL_REPORT_MAX_BYTES,
        too_large="file" in handler.too_large,
    )
    if form.is_valid():
        try:
            report = reports.final_report_upload(
                allocation=allocation, by=request.user, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Final report %(name)s uploaded (%(pages)s, %(size)s). Thank you.")
                % {
                    "name": report.original_name,
                    "pages": ngettext("%(count)d page", "%(count)d pages", report.pages)
                    % {"count": report.pages},
                    "size": filesizeformat(report.size),
                },
            )
            return redirect("allocation_report", pk=allocation.pk)
    return _render_report(request, allocation, form)


@require_safe
@login_required
def final_report_download(request: HttpRequest, pk: int) -> FileResponse:
    """The final report as a download, for whoever may see the allocation."""
    allocation = get_allocation_for_user(user=request.user, pk=pk)
    return _report_download(FinalReport.objects.filter(allocation=allocation).first())


def _report_download(report: FinalReport | None) -> FileResponse:
    if report is None:
        raise Http404("No final report.")
    return private_file_download(
        report.file,
        filename=report.original_name,
        what="final report",
        log_extra={"ctx_report": report.pk},
    )


@require_safe
@login_required
def earlier_final_report_download(request: HttpRequest, pk: int) -> FileResponse:
    """The final report of the allocation proposal ``pk`` continues, for whoever reads that
    proposal (its team, managers, the committee and its reviewers unless in conflict)."""
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    report = (
        FinalReport.objects.filter(allocation__proposal_id=proposal.continues_id).first()
        if proposal.continues_id
        else None
    )
    return _report_download(report)
