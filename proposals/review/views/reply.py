"""The right of reply (PRODUCT §5.4): a call manager opens the window, the PI answers once.

Views fetch-and-check, call one service and render or redirect.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import manager_required
from proposals.calls.selectors import get_call_for_manager
from proposals.review.forms import ReplyForm
from proposals.review.selectors.reply import ReplyWindow, reply_window
from proposals.review.selectors.shown_reviews import ReviewsNotShown, proposal_reviews
from proposals.review.services import reply as services
from proposals.submission.models import Proposal
from proposals.submission.rules import is_team_member
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.views.common import proposal_page_context


@require_POST
@manager_required
def reply_window_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A call manager opens the right of reply; back to the ranking with what happened."""
    call = get_call_for_manager(user=request.user, pk=pk)
    try:
        told = services.reply_window_open(call=call, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            ngettext(
                "The right of reply is open until %(closes)s. %(count)d principal investigator "
                "is told by email.",
                "The right of reply is open until %(closes)s. %(count)d principal investigators "
                "are told by email.",
                told,
            )
            % {"closes": services.call_local(call.reply_closes_at, call), "count": told},
        )
    return redirect("call_ranking", pk=call.pk)


def _render(
    request: HttpRequest,
    proposal: Proposal,
    *,
    text: str = "",
    error: str = "",
) -> HttpResponse:
    """The reply page: the comments to the applicant, and the reply or, for the PI while the
    window is open, the form. A refused reply comes back with its text and the reason."""
    context = proposal_page_context(request, proposal, section="reply")
    now = context["now"]
    try:
        reviews = proposal_reviews(proposal=proposal, user=request.user, now=now)
    except ReviewsNotShown as refusal:
        context.update(refusal=str(refusal), reviews=None)
        return render(request, "proposals/reply.html", context, status=403)
    state = reply_window(proposal.call, now)
    context.update(
        refusal="",
        reviews=reviews,
        reply=reviews.reply,
        reply_state=state,
        can_reply=(reviews.reply is None and state == ReplyWindow.OPEN and context["is_pi"]),
        text=text,
        error=error,
        limit=proposal.call.reply_length_limit,
        length=len(services.normalised_reply(text)),
    )
    return render(request, "proposals/reply.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def proposal_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The team reads the comments to the applicant; the PI sends the one reply."""
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    if not is_team_member(request.user, proposal):
        raise PermissionDenied(
            _("Only the proposal's team replies; the committee reads the reply with the reviews.")
        )
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if not form.is_valid():
            return _render(
                request, proposal, text=form.data.get("text", ""), error=form.errors["text"][0]
            )
        text = form.cleaned_data["text"]
        try:
            services.reply_submit(proposal=proposal, by=request.user, text=text)
        except ValidationError as error:
            return _render(request, proposal, text=text, error=" ".join(error.messages))
        messages.success(
            request, _("Your reply is sent. The committee reads it beside the reviews.")
        )
        return redirect("proposal_reply", pk=proposal.pk)
    return _render(request, proposal)
