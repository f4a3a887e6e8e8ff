"""Starting, following, submitting, taking back and withdrawing a proposal (PRODUCT §4.2).

Views parse the request, fetch-and-check through ``get_proposal_for_user`` (404 for anyone
who may not know the proposal exists), check the role with ``rules`` (403), call one service
and render or redirect.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import profile_complete_required
from proposals.calls.hooks import continuable
from proposals.calls.models import Call
from proposals.submission.forms.start import ProposalStartForm
from proposals.submission.models import Proposal
from proposals.submission.rules import can_withdraw_proposal, is_pi
from proposals.submission.selectors.lists import my_proposals as my_proposals_selector
from proposals.submission.selectors.lists import proposal_overview, readable_snapshot
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.services import lifecycle as services
from proposals.submission.views.common import proposal_page_context


@require_POST
@profile_complete_required
def proposal_start(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    form = ProposalStartForm(request.POST, choices=continuable(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["continues"]))
        return redirect("call_detail", pk=call.pk)
    try:
        proposal = services.proposal_start(
            call=call, by=request.user, continues_id=form.cleaned_data["continues"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("call_detail", pk=call.pk)
    messages.success(
        request,
        _("Your draft proposal to %(call)s is started. Nothing is sent until you submit it.")
        % {"call": call.code},
    )
    return redirect("proposal_edit", pk=proposal.pk, section="general")


@require_safe
@login_required
def my_proposals(request: HttpRequest) -> HttpResponse:
    data = my_proposals_selector(user=request.user)
    return render(
        request,
        "proposals/my_proposals.html",
        {"rows": data.rows, "invitations": data.invitations, "now": timezone.now()},
    )


def _render_detail(
    request: HttpRequest,
    proposal: Proposal,
    *,
    refused: services.SubmissionRefused | None = None,
    error: str = "",
    confirm_withdraw: bool = False,
) -> HttpResponse:
    context = proposal_page_context(request, proposal)
    context.update(
        overview=proposal_overview(proposal=proposal),
        refused=refused,
        error=error,
        confirm_withdraw=confirm_withdraw,
    )
    return render(request, "proposals/proposal/detail.html", context)


@require_safe
@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    return _render_detail(request, proposal)


def _pi_only(request: HttpRequest, pk: int) -> Proposal:
    """The proposal (404 for those who may not see it), 403 unless the reader leads it."""
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    if not is_pi(request.user, proposal):
        raise PermissionDenied(_("Only the principal investigator can do this."))
    return proposal


@require_POST
@login_required
def proposal_submit(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _pi_only(request, pk)
    try:
        version = services.proposal_submit(proposal=proposal, by=request.user)
    except services.SubmissionRefused as refused:
        return _render_detail(request, proposal, refused=refused)
    except ValidationError as error:
        return _render_detail(request, proposal, error=" ".join(error.messages))
    snapshot = version.snapshot
    recipients = [snapshot["pi"]["email"], *(member["email"] for member in snapshot["team"])]
    messages.success(
        request,
        _("Submitted. Reference %(reference)s. A receipt is on its way to %(recipients)s.")
        % {
            "reference": proposal.reference,
            "recipients": get_text_list(recipients, _("and")),
        },
    )
    return redirect("proposal_detail", pk=proposal.pk)


@require_POST
@login_required
def proposal_unsubmit(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _pi_only(request, pk)
    try:
        services.proposal_unsubmit(proposal=proposal, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "Your proposal is a draft again. Its reference and earlier versions are kept. "
                "Submit it again before the deadline, or it will not be reviewed."
            ),
        )
    return redirect("proposal_detail", pk=proposal.pk)


@require_POST
@login_required
def proposal_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _pi_only(request, pk)
    if request.POST.get("confirm") != "yes":
        if not can_withdraw_proposal(request.user, proposal):
            messages.error(request, _("This proposal can no longer be withdrawn."))
            return redirect("proposal_detail", pk=proposal.pk)
        return _render_detail(request, proposal, confirm_withdraw=True)
    try:
        services.proposal_withdraw(proposal=proposal, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Your proposal is withdrawn. It will not be reviewed; your team has been told."),
        )
    return redirect("proposal_detail", pk=proposal.pk)


@require_safe
@login_required
def proposal_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    version = get_object_or_404(proposal.versions.select_related("submitted_by"), number=number)
    context = proposal_page_context(request, proposal)
    snapshot = readable_snapshot(version.snapshot, with_exclusions=context["can_read_exclusions"])
    context.update(version=version, snapshot=snapshot)
    return render(request, "proposals/proposal/version.html", context)
