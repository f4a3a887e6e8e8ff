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
from proposals.review.services import conflicts as services
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
        created = services.conflicts_detect(call=call, by=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)d new conflict detected.", "%(count)d new conflicts detected.", created
            )
            % {"count": created},
        )
        return _conflicts_page(call.pk)
    status = _status_filter(request.GET.get("status"))
    listing = selectors.call_conflicts(call=call, status=status)
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
    """Confirm or dismiss a detected conflict (``decision`` = confirm | dismiss)."""
    conflict = selectors.get_conflict_for_manager(user=request.user, pk=conflict_pk)
    back = _conflicts_page(conflict.proposal.call_id, _status_filter(request.POST.get("status")))
    confirm = DECISIONS.get(request.POST.get("decision", ""))
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


@require_POST
@login_required
def conflict_declare(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer declares a conflict with a proposal they were asked to review (``detail``:
    why). Anyone without a review of it gets 404."""
    review = selectors.get_review_for_declaring(user=request.user, pk=pk)
    form = ConflictDeclareForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, review, conflict_form=form)
    try:
        services.conflict_declare(
            proposal=review.proposal, reviewer=request.user, detail=form.cleaned_data["detail"]
        )
    except ValidationError as error:
        form.add_error("detail", error)
        return _render_detail(request, review, conflict_form=form)
    messages.success(
        request,
        _(
            "You declared a conflict of interest with %(proposal)s. You will not review it, "
            "and it is no longer shown to you."
        )
        % {"proposal": review.proposal.reference or review.proposal.acronym},
    )
    return redirect("my_reviews")
