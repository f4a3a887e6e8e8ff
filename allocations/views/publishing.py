"""Publishing a call's decisions, the PI's answer to an award, and the waitlist (PRODUCT §6).

These create allocations and ledger entries, so they live here: ``allocations`` may import
``proposals`` (its selectors, forms and the decisions page), never the other way round.
Views fetch-and-check, call one service from ``allocations.publishing`` and redirect.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.decorators import manager_required
from allocations.services import publishing as services
from proposals.calls.selectors import get_call_for_manager
from proposals.decisions.forms import PromoteForm, PublishForm
from proposals.decisions.models import Decision
from proposals.decisions.selectors import deciding
from proposals.decisions.services.publishing import PublishNeedsReason
from proposals.decisions.views import decisions_url, render_decisions
from proposals.submission.rules import is_pi
from proposals.submission.selectors.proposals import get_proposal_for_user


@require_POST
@manager_required
def decisions_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """First the confirm step (the decisions page with what publishing will do), then, with
    ``confirm=yes``, publish: every decision email and every award's allocation at once.
    Publishing early (reviews missing, or before their due date) comes back to the confirm
    step asking for the reason, beside its field (PRODUCT §6)."""
    call = get_call_for_manager(user=request.user, pk=pk)
    if request.POST.get("confirm") != "yes":
        if call.decisions_published_at is not None:
            messages.info(request, _("The decisions of this call are already published."))
            return redirect(decisions_url(call))
        return render_decisions(request, call, confirm_publish=True)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return render_decisions(request, call, confirm_publish=True, publish_form=form, status=400)
    try:
        result = services.decisions_publish(
            call=call, by=request.user, reason=form.cleaned_data["reason"]
        )
    except PublishNeedsReason as early:
        form.add_error("reason", early)
        return render_decisions(request, call, confirm_publish=True, publish_form=form, status=400)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(decisions_url(call))
    if result.already:
        messages.info(request, _("The decisions of this call were already published."))
    else:
        parts = [
            ngettext(
                "%(count)d decision is published.",
                "%(count)d decisions are published.",
                result.decisions,
            )
            % {"count": result.decisions},
            ngettext(
                "%(count)d allocation was created.",
                "%(count)d allocations were created.",
                result.allocations,
            )
            % {"count": result.allocations},
            ngettext(
                "%(count)d email is on its way.",
                "%(count)d emails are on their way.",
                result.emails,
            )
            % {"count": result.emails},
        ]
        messages.success(request, " ".join(parts))
    return redirect(decisions_url(call))


@require_POST
@manager_required
def waitlist_promote(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    """Award a waitlisted proposal within what the budgets have left; a refusal comes back
    on the decisions page beside the proposal's form, with the amounts typed."""
    call = get_call_for_manager(user=request.user, pk=pk)
    proposal = deciding.get_waitlisted_for_manager(
        user=request.user, call=call, proposal_pk=proposal_pk
    )
    sheet = deciding.decision_sheet(call=call, user=request.user, page=1)
    row = next((r for r in sheet.waitlist if r.proposal_id == proposal.pk), None)
    if row is None:
        messages.error(
            request, _("%(proposal)s is not on the waitlist.") % {"proposal": proposal.reference}
        )
        return redirect(decisions_url(call, anchor="waitlist"))
    form = PromoteForm(request.POST, row=row, remaining=sheet.remaining)
    errors: list[str] = []
    if form.is_valid():
        try:
            allocation = services.waitlist_promote(
                call=call, proposal=proposal, by=request.user, amounts=form.amounts()
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(
                request,
                _(
                    "%(proposal)s is awarded from the waitlist; its allocation %(account)s is "
                    "created and its team is told by email."
                )
                % {"proposal": proposal.reference, "account": allocation.account},
            )
            return redirect(decisions_url(call, anchor="waitlist"))
    return render_decisions(
        request, call, sheet=sheet, errors=errors, promote_forms={proposal.pk: form}
    )


@require_POST
@login_required
def decision_respond(request: HttpRequest, pk: int) -> HttpResponse:
    """The PI accepts or declines a published award (``action`` = accept or decline)."""
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    if not is_pi(request.user, proposal):
        raise PermissionDenied(_("Only the principal investigator answers an award."))
    decision = Decision.objects.filter(proposal=proposal, published_at__isnull=False).first()
    if decision is None:
        raise Http404("No published decision.")
    action = request.POST.get("action")
    if action not in {"accept", "decline"}:
        return HttpResponseBadRequest(_("Choose to accept or to decline the award."))
    try:
        services.award_respond(decision=decision, by=request.user, accept=action == "accept")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if action == "accept":
            messages.success(
                request,
                _("You accepted the award. Your allocation is listed under My allocations."),
            )
        else:
            messages.success(
                request, _("You declined the award. Its hours go back to the call's budget.")
            )
    return redirect("decision_detail", pk=proposal.pk)
