"""The reviewer's side of peer review (PRODUCT §5.1, §5.2): the list of their reviews, an
invitation to accept or decline, the review form; a manager reopens a submitted review.

Every view fetches the review through ``get_review_for_user``: its reviewer and call
managers see it, anyone else gets 404 (PRODUCT §1.1) — other reviewers of the call, the
applicants and the committee, who read reviews on the proposal's reviews page instead.
Managers see a reviewer's pages read-only: a POST from anyone but the reviewer is 403.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.decorators import manager_required
from proposals.calls.rules import can_manage_call
from proposals.calls.selectors import committee_calls
from proposals.review.enums import ReviewState
from proposals.review.forms import (
    AcceptForm,
    ConflictDeclareForm,
    DeclineForm,
    ReviewForm,
    review_form,
)
from proposals.review.models import Review
from proposals.review.rules import can_read_reviews
from proposals.review.selectors import reviewing as selectors
from proposals.review.selectors.reviewing import (
    can_edit_review,
    get_review_for_user,
    is_review_author,
)
from proposals.review.services import reviewing as services


def _page_context(request: HttpRequest, review: Review) -> dict[str, Any]:
    """What every review page shows about the review and what the reader may do."""
    now = timezone.now()
    return {
        "review": review,
        "proposal": review.proposal,
        "call": review.proposal.call,
        "now": now,
        "overdue": selectors.is_overdue(review, now),
        "late": selectors.is_late(review),
        "is_author": is_review_author(request.user, review),
        "can_reopen": review.state == ReviewState.SUBMITTED
        and can_manage_call(request.user, review.proposal.call),
        # Once the call's setting allows it, the way to the other reviews of the proposal.
        "can_read_reviews": can_read_reviews(request.user, review.proposal, now),
        # The proposal as submitted and its description, beside the form.
        "reading": selectors.proposal_reading(review.proposal),
    }


@require_safe
@login_required
def my_reviews(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    listing = selectors.my_reviews(user=request.user, now=now)
    committees = committee_calls(user=request.user)
    return render(
        request,
        "proposals/reviews/my_reviews.html",
        {"listing": listing, "committees": committees, "now": now},
    )


# --- The invitation --------------------------------------------------------------------------


def _render_detail(
    request: HttpRequest,
    review: Review,
    *,
    accept_form: AcceptForm | None = None,
    decline_form: DeclineForm | None = None,
    conflict_form: ConflictDeclareForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _page_context(request, review)
    context.update(
        accept_form=accept_form or AcceptForm(),
        decline_form=decline_form or DeclineForm(),
        conflict_form=conflict_form or ConflictDeclareForm(),
    )
    return render(request, "proposals/reviews/detail.html", context, status=status)


@require_safe
@login_required
def review_detail(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = get_review_for_user(user=request.user, pk=review_pk)
    return _render_detail(request, review)


@require_POST
@login_required
def review_respond(request: HttpRequest, review_pk: int) -> HttpResponse:
    """``action=accept`` (with the no-conflict box ticked) or ``action=decline`` (with a
    ``reason``)."""
    review = get_review_for_user(user=request.user, pk=review_pk)
    if not is_review_author(request.user, review):
        raise PermissionDenied(_("Only the reviewer it is assigned to can answer an invitation."))
    action = request.POST.get("action")
    if action == "accept":
        form = AcceptForm(request.POST)
        if not form.is_valid():
            return _render_detail(request, review, accept_form=form)
        try:
            services.review_accept(review=review, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("review_detail", review_pk=review.pk)
        messages.success(
            request,
            _("Thank you for accepting. Read the proposal, then write your review here."),
        )
        return redirect("review_edit", review_pk=review.pk)
    if action == "decline":
        form = DeclineForm(request.POST)
        if not form.is_valid():
            return _render_detail(request, review, decline_form=form)
        try:
            services.review_decline(
                review=review, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, error)
                return _render_detail(request, review, decline_form=form)
            messages.error(request, " ".join(error.messages))
            return redirect("review_detail", review_pk=review.pk)
        messages.success(
            request, _("You declined the invitation. The call managers will find someone else.")
        )
        return redirect("my_reviews")
    return HttpResponseBadRequest(_("Choose whether to accept or decline the invitation."))


# --- The review form -------------------------------------------------------------------------


def _render_edit(
    request: HttpRequest,
    review: Review,
    *,
    form: ReviewForm | None = None,
    content: selectors.ReviewContent | None = None,
    conflict: services.ReviewEditConflict | None = None,
    incomplete: services.ReviewIncomplete | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    """The review form, or the review read-only for a submitted one and for everyone but
    its reviewer."""
    content = content or selectors.review_content(review)
    editable = can_edit_review(request.user, review)
    if editable and form is None:
        form = review_form(review, content)
    context = _page_context(request, review)
    context.update(
        content=content,
        form=form if editable else None,
        editable=editable,
        conflict=conflict,
        incomplete=incomplete,
        refusal=refusal,
        differences=form.differences(conflict.review, conflict.content) if conflict else [],
    )
    return render(request, "proposals/reviews/edit.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def review_edit(request: HttpRequest, review_pk: int) -> HttpResponse:
    """GET: the form (read-only once submitted, and for managers). POST: "Save draft"
    (``review_save``) or "Submit review" (``submit`` in the POST, ``review_submit``)."""
    review = get_review_for_user(user=request.user, pk=review_pk)
    author = is_review_author(request.user, review)
    if author and review.state in {ReviewState.INVITED, ReviewState.DECLINED}:
        if review.state == ReviewState.INVITED:
            messages.info(request, _("Accept the invitation first; then you can write the review."))
        return redirect("review_detail", review_pk=review.pk)
    if request.method != "POST":
        return _render_edit(request, review)
    if not author:
        raise PermissionDenied(_("Only the reviewer it is assigned to can change this review."))

    content = selectors.review_content(review)
    form = review_form(review, content, request.POST)
    if not form.is_valid():
        return _render_edit(request, review, form=form, content=content)
    submitting = "submit" in request.POST
    service = services.review_submit if submitting else services.review_save
    try:
        saved = service(
            review=review,
            by=request.user,
            expected_version=form.cleaned_data["lock_version"],
            **form.service_arguments(),
        )
    except services.ReviewEditConflict as conflict:
        form.with_version(conflict.review.lock_version)
        return _render_edit(
            request, conflict.review, form=form, content=content, conflict=conflict, status=409
        )
    except services.ReviewIncomplete as incomplete:
        form.with_version(incomplete.review.lock_version)
        form.add_service_error(incomplete)
        return _render_edit(
            request, incomplete.review, form=form, content=content, incomplete=incomplete
        )
    except services.ReviewLocked as error:
        return _render_edit(request, review, refusal=error.messages[0], status=409)
    except ValidationError as error:
        if getattr(error, "code", None) in {"state", "not_in_review"}:
            messages.error(request, " ".join(error.messages))
            return redirect("review_detail", review_pk=review.pk)
        form.add_service_error(error)
        return _render_edit(request, review, form=form, content=content)

    if submitting:
        messages.success(
            request,
            _(
                "Your review is submitted. Thank you! It is locked now; a call manager can "
                "reopen it."
            ),
        )
        return redirect("my_reviews")
    saved_at = time_format(timezone.localtime(saved.saved_at), "H:i:s")
    messages.success(request, _("Draft saved at %(time)s.") % {"time": saved_at})
    return redirect("review_edit", review_pk=review.pk)


# --- Managers --------------------------------------------------------------------------------


@require_POST
@manager_required
def review_reopen(request: HttpRequest, review_pk: int) -> HttpResponse:
    """A call manager reopens a submitted review; back to the review, read-only for them."""
    review = get_review_for_user(user=request.user, pk=review_pk)
    try:
        services.review_reopen(review=review, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "The review by %(reviewer)s is open again: they can change it and submit it "
                "again. Tell them why; Allot sends no email for this."
            )
            % {"reviewer": review.reviewer.display_name},
        )
    return redirect("review_edit", review_pk=review.pk)
