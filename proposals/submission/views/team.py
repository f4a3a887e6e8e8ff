"""The team: the PI invites co-investigators by email; they accept or decline through the link.

Proposal pages fetch-and-check with ``get_proposal_for_user`` (404 for anyone who may not know
the proposal exists) and answer 403 to a reader who may not act. The invitation page is opened
by its secret token instead, and works without an account for declining.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from proposals.submission.enums import ProposalSection, TeamStatus
from proposals.submission.forms.team import TeamInviteForm
from proposals.submission.models import Proposal
from proposals.submission.rules import can_manage_team, is_pi
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.selectors.team import get_invitation, get_team_member, team_of
from proposals.submission.services import team as services
from proposals.submission.views.common import proposal_page_context


def _render_team(
    request: HttpRequest, proposal: Proposal, form: TeamInviteForm, *, status: int = 200
) -> HttpResponse:
    context = proposal_page_context(request, proposal, section=ProposalSection.TEAM)
    context.update(
        members=team_of(proposal=proposal),
        form=form if context["can_manage_team"] else None,
    )
    return render(request, "proposals/proposal/team.html", context, status=status)


def _check_team_manager(request: HttpRequest, proposal: Proposal) -> HttpResponse | None:
    """403 for anyone but the PI; for the PI, a message once the team is frozen."""
    if not is_pi(request.user, proposal):
        raise PermissionDenied(_("Only the principal investigator can change the team."))
    if not can_manage_team(request.user, proposal, timezone.now()):
        messages.error(
            request,
            _("The team can change only while the proposal is a draft and the call is open."),
        )
        return redirect("proposal_team", pk=proposal.pk)
    return None


@require_safe
@login_required
def proposal_team(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    return _render_team(request, proposal, TeamInviteForm())


@require_POST
@login_required
def team_invite(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    refused = _check_team_manager(request, proposal)
    if refused is not None:
        return refused
    form = TeamInviteForm(request.POST)
    if form.is_valid():
        try:
            member = services.team_invite(
                proposal=proposal, by=request.user, email=form.cleaned_data["email"]
            )
        except ValidationError as error:
            form.add_error("email" if not hasattr(error, "error_dict") else None, error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. They join once they accept it.")
                % {"email": member.email},
            )
            return redirect("proposal_team", pk=proposal.pk)
    return _render_team(request, proposal, form)


@require_POST
@login_required
def team_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    refused = _check_team_manager(request, proposal)
    if refused is not None:
        return refused
    member = get_team_member(proposal=proposal, pk=member_pk)
    try:
        services.team_remove(member=member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if member.status == TeamStatus.ACCEPTED:
            message = _("%(who)s is no longer on the team and can no longer open the proposal.")
        else:
            message = _("The invitation to %(who)s is withdrawn; the link no longer works.")
        who = member.user.display_name if member.status == TeamStatus.ACCEPTED else member.email
        messages.success(request, message % {"who": who})
    return redirect("proposal_team", pk=proposal.pk)


def _with_next(url_name: str, path: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': path}, safe='/')}"


@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: who invites whom to what; accept (signed in) or decline (anyone).

    Someone not signed in who accepts is sent to sign in, and back here afterwards.
    """
    member = get_invitation(token=token)
    proposal = member.proposal
    path = reverse("invitation", args=[token])
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in {"accept", "decline"}:
            return HttpResponseBadRequest(_("Say whether you accept or decline the invitation."))
        accept = action == "accept"
        if accept and not request.user.is_authenticated:
            return redirect_to_login(path)
        user = request.user if request.user.is_authenticated else None
        try:
            services.team_respond(member=member, user=user, accept=accept)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(path)
        name = proposal.acronym or proposal.title or proposal.call.code
        if accept:
            messages.success(
                request, _("Welcome to the team of %(proposal)s.") % {"proposal": name}
            )
            return redirect("proposal_detail", pk=proposal.pk)
        messages.success(
            request,
            _("You declined the invitation to %(proposal)s. Thank you for answering.")
            % {"proposal": name},
        )
        return redirect(path)
    user = request.user
    context = {
        "member": member,
        "proposal": proposal,
        "call": proposal.call,
        "pi": proposal.pi,
        "refusal": services.join_refusal(proposal, timezone.now()),
        "login_url": _with_next("account_login", path),
        "signup_url": _with_next("account_signup", path),
        "other_address": user.is_authenticated and user.email.lower() != member.email.lower(),
        "is_member": user.is_authenticated and member.user_id == user.pk,
    }
    return render(request, "proposals/invitation.html", context)
