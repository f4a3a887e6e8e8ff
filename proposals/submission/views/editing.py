"""Editing the sections of a draft: general, resources, technical data (PRODUCT §4.1, §4.2).

One view serves the three pages. It fetches the proposal through ``get_proposal_for_user``
(404 for anyone who may not know it exists), renders the section's editor read-only for those
who may see but not change it (and answers their POST with 403), and hands a valid form to
the section's service. A save based on an older version goes through on top of the newer one
when the other person changed nothing that was also changed on this page, keeping both; when
they did, it comes back with the typed values kept and theirs beside the fields both changed
(409). A save after the deadline comes back read-only with the deadline message (403).
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from proposals.calls.rules import call_accepts_submissions
from proposals.submission.enums import EDITABLE, ProposalSection
from proposals.submission.forms.editors import EDITORS
from proposals.submission.forms.section_editor import SectionEditor
from proposals.submission.models import Proposal
from proposals.submission.rules import can_edit_proposal, is_team_member
from proposals.submission.selectors.completeness import Problem, proposal_problems
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.services import editing as services
from proposals.submission.services.lifecycle import DeadlinePassed
from proposals.submission.views.common import proposal_page_context

# Saves crossing this one more often than this are refused rather than merged without end.
MERGE_ATTEMPTS = 3

SERVICES: dict[str, Callable[..., Proposal]] = {
    ProposalSection.GENERAL.value: services.proposal_update,
    ProposalSection.RESOURCES.value: services.proposal_set_requests,
    ProposalSection.TECHNICAL.value: services.proposal_update_technical,
}


def _next_url(proposal: Proposal, section: str) -> str:
    """Where "Save and continue" leads: the next page in the sidebar's order."""
    pk = proposal.pk
    return {
        ProposalSection.GENERAL.value: reverse("proposal_team", args=[pk]),
        ProposalSection.RESOURCES.value: reverse("proposal_edit", args=[pk, "technical"]),
        ProposalSection.TECHNICAL.value: reverse("proposal_attachments", args=[pk]),
    }[section]


def _section_problems(proposal: Proposal, section: str) -> list[Problem]:
    """After a refused submission, what still stops it, on this page."""
    if proposal.submit_attempted_at is None:
        return []
    return [problem for problem in proposal_problems(proposal) if problem.section == section]


def _kept_for_team(request: HttpRequest, proposal: Proposal) -> bool:
    """A draft its team may read but no longer change, because the call closed."""
    return (
        proposal.status in EDITABLE
        and is_team_member(request.user, proposal)
        and not call_accepts_submissions(proposal.call, timezone.now())
    )


def _save(request: HttpRequest, proposal: Proposal, editor: SectionEditor) -> Proposal:
    """Hand the editor's changes to the section's service. When someone saved the proposal
    after the page was loaded, the editor merges their changes into the form if nothing they
    changed was also changed here, and the save is made again on their version; otherwise the
    ``EditConflict`` goes up."""
    attempts = 0
    while True:
        try:
            return SERVICES[editor.section.value](
                proposal=proposal,
                by=request.user,
                expected_version=editor.expected_version,
                **editor.changes(),
            )
        except services.EditConflict as conflict:
            attempts += 1
            if attempts == MERGE_ATTEMPTS or not editor.merge(conflict):
                raise


def _saved_message(request: HttpRequest, saved: Proposal, editor: SectionEditor) -> str:
    """The "Saved at …" message; after a merge, it also names whose changes were kept."""
    values = {"time": time_format(timezone.localtime(saved.updated_at), "H:i:s")}
    merged, comparison = editor.merged_over, editor.comparison
    if merged is None or comparison is None:
        message = _("Saved at %(time)s.")
    elif merged.updated_by is not None and merged.updated_by.pk == request.user.pk:
        message = _(
            "Saved at %(time)s, keeping what you had meanwhile saved in another window or tab."
        )
    else:
        values["name"] = merged.updated_by.display_name if merged.updated_by else _("Someone")
        if comparison.theirs:
            message = _(
                "Saved at %(time)s, together with the changes %(name)s had meanwhile made on "
                "this page."
            )
        else:
            message = _(
                "Saved at %(time)s. %(name)s had meanwhile saved another part of the proposal; "
                "their changes are kept."
            )
    return message % values


def _render(
    request: HttpRequest,
    proposal: Proposal,
    editor: SectionEditor,
    *,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    context = proposal_page_context(request, proposal, section=editor.section.value)
    context.update(editor=editor, form=editor.form, refusal=refusal)
    return render(request, editor.template_name, context, status=status)


def _refuse_after_deadline(
    request: HttpRequest, proposal: Proposal, editor_class: type[SectionEditor], error: str
) -> HttpResponse:
    """The typed values, read-only, under the deadline message; nothing was saved."""
    editor = editor_class(proposal, request.POST, read_only=True)
    return _render(request, proposal, editor, refusal=error, status=403)


@require_http_methods(["GET", "POST"])
@login_required
def proposal_edit(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    editor_class = EDITORS.get(section)
    if editor_class is None:
        raise Http404("No such section.")
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    can_edit = can_edit_proposal(request.user, proposal, timezone.now())
    problems = _section_problems(proposal, section) if can_edit else []

    if request.method == "GET":
        editor = editor_class(proposal, problems=problems, read_only=not can_edit)
        return _render(request, proposal, editor)

    if not can_edit:
        if _kept_for_team(request, proposal):
            message = services.deadline_passed_error(proposal.call).messages[0]
            return _refuse_after_deadline(request, proposal, editor_class, message)
        raise PermissionDenied(_("Only the team of a draft can change it."))

    editor = editor_class(proposal, request.POST, problems=problems)
    if "add_row" in request.POST:
        editor.add_row()
        return _render(request, proposal, editor)
    if not editor.is_valid():
        return _render(request, proposal, editor)
    try:
        saved = _save(request, proposal, editor)
    except services.EditConflict as conflict:
        editor.show_conflict(conflict)
        # The page's header and "last saved by" show the proposal as it is now.
        return _render(request, conflict.proposal, editor, status=409)
    except DeadlinePassed as error:
        return _refuse_after_deadline(request, proposal, editor_class, error.messages[0])
    except ValidationError as error:
        editor.add_error(error)
        return _render(request, proposal, editor)

    messages.success(request, _saved_message(request, saved, editor))
    if "continue" in request.POST:
        return redirect(_next_url(proposal, section))
    return redirect("proposal_edit", pk=proposal.pk, section=section)
