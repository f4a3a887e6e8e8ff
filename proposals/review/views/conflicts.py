"""Conflicts of interest (PRODUCT §5.1): managers detect, confirm or dismiss them; reviewers
declare them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import manager_required
from proposals.calls import selectors as call_selectors
from proposals.review.enums import ConflictStatus
from proposals.review.forms import ConflictDeclareForm
from proposals.review.models import Conflict
from proposals.review.selectors import conflicts as selectors
from proposals.review.services import conflict_detection as detection
from proposals.review.services import conflicts as services
from proposals.review.views.ranking import render_proposal_reviews
from proposals.review.views.reviewing import _render_detail

DECISIONS = {"confirm": True, "dismiss": False}


def _status_filter(value: str | None) -> str:
    """A ``ConflictStatus`` value, or "" (every status) for anything else."""
    return value if value in ConflictStatus.values else ""


def _conflicts_page(call_pk: int, status: str = "") -> HttpResponseRedirect:
    url = reverse("manage_conflicts", args=[call_pk])
    return redirect(f"{url}?{urlencode({'status': status})}" if status else url)


@require_http_methods(["GET", "HEAD", "POST"])
@manager_required
def manage_conflicts(request: HttpRequest, pk: int) -> HttpResponse:
    """The call's conflicts, to decide; a POST runs the detection."""
    call = call_selectors.get_call_for_manager(user=request.user, pk=pk)
    if request.method == "POST":
        result = detection.conflicts_refresh(call=call, by=request.user)
        message = ngettext(
            "%(count)d new conflict detected.", "%(count)d new conflicts detected.", result.found
        ) % {"count": result.found}
        if result.withdrawn:
            message += " " + ngettext(
                "%(count)d detected conflict withdrawn: its cause is gone.",
                "%(count)d detected conflicts withdrawn: their cause is gone.",
                result.withdrawn,
            ) % {"count": result.withdrawn}
        messages.success(request, message)
        return _conflicts_page(call.pk)
    status = _status_filter(request.GET.get("status"))
    listing = selectors.call_conflicts(call=call, status=status, page=request.GET.get("page"))
    filters = [("", _("All"), listing.total)] + [
        (value, ConflictStatus(value).label, listing.counts[value])
        for value in selectors.STATUS_ORDER
    ]
    return render(
        request,
        "proposals/manage/conflicts.html",
        {"call": call, "listing": listing, "status": status, "filters": filters},
    )


def _decided_message(conflict: Conflict, removed: int) -> str:
    values = {
        "reviewer": conflict.reviewer.display_name,
        "proposal": conflict.proposal.reference or conflict.proposal.acronym,
    }
    if conflict.status == ConflictStatus.DISMISSED:
        return _("Conflict of %(reviewer)s with %(proposal)s dismissed.") % values
    message = _("Conflict of %(reviewer)s with %(proposal)s confirmed.") % values
    if removed:
        message += " " + ngettext(
            "Their active review of this proposal was removed.",
            "Their %(count)d active reviews of this proposal were removed.",
            removed,
        ) % {"count": removed}
    return message


@require_POST
@manager_required
def conflict_decide(request: HttpRequest, conflict_pk: int) -> HttpResponse:
    """Confirm or dismiss a detected conflict (``decision`` = confirm | dismiss), or undo the
    confirmation or dismissal (``decision`` = undo)."""
    conflict = selectors.get_conflict_for_manager(user=request.user, pk=conflict_pk)
    back = _conflicts_page(conflict.proposal.call_id, _status_filter(request.POST.get("status")))
    decision = request.POST.get("decision", "")
    if decision == "undo":
        return _undo(request, conflict, back)
    confirm = DECISIONS.get(decision)
    if confirm is None:
        messages.error(request, _("Choose whether to confirm or dismiss the conflict."))
        return back
    try:
        removed = services.conflict_decide(conflict=conflict, by=request.user, confirm=confirm)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    messages.success(request, _decided_message(conflict, removed))
    return back


def _undo(request: HttpRequest, conflict: Conflict, back: HttpResponse) -> HttpResponse:
    was = conflict.status
    try:
        services.conflict_undo(conflict=conflict, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    values = {
        "reviewer": conflict.reviewer.display_name,
        "proposal": conflict.proposal.reference or conflict.proposal.acronym,
    }
    if was == ConflictStatus.CONFIRMED:
        message = _(
            "The confirmation of the conflict of %(reviewer)s with %(proposal)s is undone: it is "
            "to be decided again."
        )
    else:
        message = _(
            "The dismissal of the conflict of %(reviewer)s with %(proposal)s is undone: it is to "
            "be decided again."
        )
    messages.success(request, message % values)
    return back


@require_POST
@login_required
def conflict_declare(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer declares a conflict with a proposal they were asked to review, or a committee
    member with a proposal of their call (``detail``: why). Anyone else gets 404."""
    proposal, review = selectors.get_proposal_for_declaring(user=request.user, pk=pk)
    form = ConflictDeclareForm(request.POST)

    def again() -> HttpResponse:
        if review is None:
            return render_proposal_reviews(request, proposal, conflict_form=form)
        return _render_detail(request, review, conflict_form=form)

    if not form.is_valid():
        return again()
    try:
        services.conflict_declare(
            proposal=proposal, reviewer=request.user, detail=form.cleaned_data["detail"]
        )
    except ValidationError as error:
        form.add_error("detail", error)
        return again()
    label = proposal.reference or proposal.acronym
    if review is None:
        messages.success(
            request,
            _(
                "You declared a conflict of interest with %(proposal)s. It is no longer shown "
                "to you, nor are its reviews."
            )
            % {"proposal": label},
        )
        return redirect("call_ranking", pk=proposal.call_id)
    messages.success(
        request,
        _(
            "You declared a conflict of interest with %(proposal)s. You will not review it, "
            "and it is no longer shown to you."
        )
        % {"proposal": label},
    )
    return redirect("my_reviews")
