"""The PDFs of a proposal: the project description and CVs (PRODUCT §4.3).

Every upload is opened with pypdf (``proposals.pdfcheck``) against the call's limits before it
is stored; the file goes under ``MEDIA_ROOT/proposals/<id>/<uuid>.pdf`` and is only ever
served by a view that checks permission. A replaced description is kept (``replaced_at``)
because submitted versions refer to it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.models import Call
from proposals.submission.enums import AttachmentKind
from proposals.submission.models import Attachment, Proposal
from proposals.submission.pdfcheck import download_name, inspect_pdf, sha256_of
from proposals.submission.rules import can_edit_proposal, is_team_member

log = logging.getLogger(__name__)

# CVs are short by custom; the call's page limit is for the project description.
CV_PAGE_LIMIT = 4
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class AttachmentLimits:
    """What a call accepts: pages per kind of file and one size limit for every file."""

    description_pages: int
    cv_pages: int
    max_bytes: int

    def pages_for(self, kind: AttachmentKind | str) -> int:
        return self.description_pages if kind == AttachmentKind.DESCRIPTION else self.cv_pages


def attachment_limits(call: Call) -> AttachmentLimits:
    """The call's page and size limits (the size limit applies to CVs too)."""
    return AttachmentLimits(
        description_pages=call.pdf_page_limit,
        cv_pages=CV_PAGE_LIMIT,
        max_bytes=call.pdf_size_limit_mb * MEGABYTE,
    )


def _require_editor(user: User, proposal: Proposal, now: datetime) -> None:
    if not is_team_member(user, proposal):
        raise PermissionDenied(_("Only the team of a proposal can change its files."))
    if not can_edit_proposal(user, proposal, now):
        raise ValidationError(
            _(
                "The files can change only while the proposal is a draft and the call is open. "
                "To change a submitted proposal before the deadline, take it back to draft first."
            ),
            code="not_editable",
        )


def attachment_upload(
    *,
    proposal: Proposal,
    by: User,
    kind: AttachmentKind | str,
    upload: UploadedFile,
    now: datetime | None = None,
) -> Attachment:
    """Check ``upload`` as a PDF within the call's limits and store it on ``proposal``.

    Only a team member, while the proposal can change. Refusals of the file itself are a
    ValidationError on ``file`` with the reason (not a PDF by its content, encrypted, damaged,
    empty, over the page or size limit); nothing is stored then.

    Side effects: the file under ``MEDIA_ROOT/proposals/<id>/``; one Attachment row (pages,
    size, sha256, the uploader's file name); for a project description, the current one gets
    ``replaced_at`` (it is kept, with its file); a log entry.
    """
    now = now or timezone.now()
    try:
        kind = AttachmentKind(kind)
    except ValueError as exc:
        raise ValidationError({"kind": _("Choose what kind of file this is.")}) from exc
    _require_editor(by, proposal, now)
    limits = attachment_limits(proposal.call)
    # Parsing happens before any lock is taken: a large PDF takes a moment to read.
    try:
        info = inspect_pdf(upload, max_pages=limits.pages_for(kind), max_bytes=limits.max_bytes)
    except ValidationError as error:
        raise ValidationError({"file": error.error_list}) from error
    digest = sha256_of(upload)
    attachment = Attachment(
        kind=kind,
        original_name=download_name(upload.name),
        size=info.size,
        pages=info.pages,
        sha256=digest,
        uploaded_by=by,
    )
    stored = False
    try:
        with transaction.atomic():
            locked = (
                Proposal.objects.select_for_update(of=("self",))
                .select_related("call")
                .get(pk=proposal.pk)
            )
            _require_editor(by, locked, now)
            if kind == AttachmentKind.DESCRIPTION:
                Attachment.objects.filter(
                    proposal=locked, kind=AttachmentKind.DESCRIPTION, replaced_at__isnull=True
                ).update(replaced_at=now)
            attachment.proposal = locked
            attachment.file.save("upload.pdf", upload, save=False)
            stored = True
            attachment.save()
    except BaseException:
        if stored:
            assert attachment.file.name is not None  # file.save() above gave it its name
            attachment.file.storage.delete(attachment.file.name)
        raise
    log.info(
        "attachment uploaded",
        extra={
            "ctx_proposal": proposal.pk,
            "ctx_attachment": attachment.pk,
            "ctx_kind": kind,
            "ctx_by": by.pk,
        },
    )
    return attachment


def attachment_remove(*, attachment: Attachment, by: User, now: datetime | None = None) -> bool:
    """Remove a CV from a proposal that can still change; returns True if the file was deleted.

    Only a team member, while the proposal can change; the project description cannot be
    removed, only replaced. A CV that a submitted version includes (one submitted since it was
    uploaded) is kept with ``replaced_at``, like a replaced description; any other is deleted.

    Side effects: ``replaced_at`` set, or the row deleted and its file deleted after commit;
    a log entry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update()
            .select_related("call")
            .get(pk=attachment.proposal_id)
        )
        _require_editor(by, proposal, now)
        locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if locked.kind != AttachmentKind.CV:
            raise ValidationError(
                _("The project description cannot be removed; upload a new one to replace it."),
                code="description",
            )
        if locked.replaced_at is not None:
            raise ValidationError(_("This CV was removed already."), code="removed")
        in_a_version = proposal.versions.filter(submitted_at__gte=locked.uploaded_at).exists()
        if in_a_version:
            locked.replaced_at = now
            locked.save(update_fields=["replaced_at"])
        else:
            name, storage = locked.file.name, locked.file.storage
            assert name is not None  # an attachment is saved with its file
            locked.delete()
            transaction.on_commit(lambda: storage.delete(name))
    log.info(
        "attachment removed",
        extra={
            "ctx_proposal": proposal.pk,
            "ctx_attachment": attachment.pk,
            "ctx_kept": in_a_version,
            "ctx_by": by.pk,
        },
    )
    return not in_a_version
