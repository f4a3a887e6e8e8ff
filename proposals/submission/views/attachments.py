"""Attachments: the PDF upload page, downloads through a permission check, removing a CV.

Files are never reachable under a static or media URL: the only way to one is
``attachment_download``, which fetches-and-checks the proposal first (PRODUCT §4.3).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.files import declared_length, private_file_download
from proposals.submission.enums import AttachmentKind, ProposalSection
from proposals.submission.forms.attachments import (
    AttachmentForm,
    SizeCappedUploadHandler,
    too_large_message,
)
from proposals.submission.models import Proposal
from proposals.submission.rules import can_edit_proposal, is_team_member
from proposals.submission.selectors.attachments import attachments_of, get_attachment_for_user
from proposals.submission.selectors.completeness import proposal_problems
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.services import attachments as services
from proposals.submission.services.attachments import AttachmentLimits, attachment_limits
from proposals.submission.views.common import proposal_page_context

# Room for the other form fields and the multipart headers around the file.
FORM_OVERHEAD = 64 * 1024


def _render(
    request: HttpRequest, proposal: Proposal, form: AttachmentForm, *, status: int = 200
) -> HttpResponse:
    context = proposal_page_context(request, proposal, section=ProposalSection.ATTACHMENTS)
    problems = []
    if context["can_edit"] and proposal.submit_attempted_at:
        problems = [
            problem
            for problem in proposal_problems(proposal)
            if problem.section == ProposalSection.ATTACHMENTS
        ]
    context.update(
        form=form if context["can_edit"] else None,
        attachments=attachments_of(proposal=proposal),
        limits=form.limits,
        problems=problems,
    )
    return render(request, "proposals/proposal/attachments.html", context, status=status)


def _check_editor(request: HttpRequest, proposal: Proposal) -> HttpResponse | None:
    """403 for anyone outside the team; for the team, a message when the files are frozen."""
    if not is_team_member(request.user, proposal):
        raise PermissionDenied(_("Only the team of a proposal can change its files."))
    if not can_edit_proposal(request.user, proposal, timezone.now()):
        messages.error(
            request,
            _("The files can change only while the proposal is a draft and the call is open."),
        )
        return redirect("proposal_attachments", pk=proposal.pk)
    return None


@csrf_exempt  # the upload handler must be in place before anything reads the body (see below)
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def proposal_attachments(request: HttpRequest, pk: int) -> HttpResponse:
    """The files of a proposal; the team uploads here while the proposal can change.

    An upload body larger than the call's size limit is refused before it is read; a file that
    passes the limit on the way in is skipped by ``SizeCappedUploadHandler``. Either way the
    page says why. The CSRF check runs in ``_upload``, once the handler is in place.
    """
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    limits = attachment_limits(proposal.call)
    if request.method != "POST":
        return _render(request, proposal, AttachmentForm(limits=limits))
    refused = _check_editor(request, proposal)
    if refused is not None:
        return refused
    if declared_length(request) > limits.max_bytes + FORM_OVERHEAD:
        # Nothing of the body is read (so nothing is stored and no state changes: no CSRF
        # check is needed to say no).
        form = AttachmentForm(limits=limits)
        form.refuse_unread(too_large_message(limits))
        return _render(request, proposal, form, status=413)
    handler = SizeCappedUploadHandler(request, limits.max_bytes)
    request.upload_handlers.insert(0, handler)
    return _upload(request, proposal, limits, handler)


@csrf_protect
def _upload(
    request: HttpRequest,
    proposal: Proposal,
    limits: AttachmentLimits,
    handler: SizeCappedUploadHandler,
) -> HttpResponse:
    form = AttachmentForm(
        request.POST, request.FILES, limits=limits, too_large="file" in handler.too_large
    )
    if form.is_valid():
        replaces = form.cleaned_data["kind"] == AttachmentKind.DESCRIPTION and any(
            row.kind == AttachmentKind.DESCRIPTION
            for row in attachments_of(proposal=proposal).current
        )
        try:
            attachment = services.attachment_upload(
                proposal=proposal,
                by=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            values = {
                "name": attachment.original_name,
                "pages": ngettext("%(count)d page", "%(count)d pages", attachment.pages)
                % {"count": attachment.pages},
                "size": filesizeformat(attachment.size),
            }
            if attachment.kind == AttachmentKind.DESCRIPTION and replaces:
                message = _(
                    "Project description %(name)s uploaded (%(pages)s, %(size)s). It replaces "
                    "the earlier one, which is kept under “Earlier files” for the submitted "
                    "versions."
                )
            elif attachment.kind == AttachmentKind.DESCRIPTION:
                message = _("Project description %(name)s uploaded (%(pages)s, %(size)s).")
            else:
                message = _("CV %(name)s uploaded (%(pages)s, %(size)s).")
            messages.success(request, message % values)
            return redirect("proposal_attachments", pk=proposal.pk)
    return _render(request, proposal, form)


@require_safe
@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """The PDF as a download, for whoever may see the proposal (replaced files included)."""
    attachment = get_attachment_for_user(user=request.user, proposal_pk=pk, pk=attachment_pk)
    return private_file_download(
        attachment.file,
        filename=attachment.original_name,
        what="attachment",
        log_extra={"ctx_attachment": attachment.pk},
    )


@require_POST
@login_required
def attachment_remove(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    attachment = get_attachment_for_user(user=request.user, proposal_pk=pk, pk=attachment_pk)
    proposal = attachment.proposal
    refused = _check_editor(request, proposal)
    if refused is not None:
        return refused
    try:
        services.attachment_remove(attachment=attachment, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("CV %(name)s removed.") % {"name": attachment.original_name})
    return redirect("proposal_attachments", pk=proposal.pk)
