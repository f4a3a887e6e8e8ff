"""The final report of an allocation (PRODUCT §8): a PDF the PI uploads from the period's
last day on."""

import logging
import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from allocations.models import (
    Allocation,
    FinalReport,
)
from allocations.selectors.researcher import final_report_due, local_today
from allocations.services.common import day_text, lock_allocation, require_pi
from proposals.calls.audit import audit_record
from proposals.submission.pdfcheck import download_name, inspect_pdf, sha256_of

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
FINAL_REPORT_MAX_BYTES = 20 * MEGABYTE


def final_report_upload(
    *, allocation: Allocation, by: User, upload: UploadedFile, now: datetime | None = None
) -> FinalReport:
    """Check ``upload`` as a PDF of at most 20 MB (any number of pages) and store it as the
    allocation's final report, replacing an earlier one.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError before the period's
    last day (with the date it will be due) and, on ``file``, for a file that is not a
    readable, unencrypted PDF within the size limit. Nothing is stored on a refusal. A report
    after the due date is accepted; the pages show it as late.

    Side effects: the file under ``MEDIA_ROOT/final-reports/<allocation id>/``; the
    FinalReport row (an earlier one is deleted, and its file after commit); an audit entry
    ``allocation.final_report_uploaded`` (late or not, the SHA-256); a log entry.
    """
    now = now or timezone.now()
    require_pi(by, allocation, _("Only the principal investigator can upload the final report."))
    _check_report_window(allocation, now)
    # Parsing happens before any lock is taken: a large PDF takes a moment to read.
    try:
        info = inspect_pdf(upload, max_pages=None, max_bytes=FINAL_REPORT_MAX_BYTES)
    except ValidationError as error:
        raise ValidationError({"file": error.error_list}) from error
    report = FinalReport(
        original_name=download_name(upload.name, fallback="final-report.pdf"),
        size=info.size,
        pages=info.pages,
        sha256=sha256_of(upload),
        uploaded_by=by,
    )
    stored = False
    replaced: tuple | None = None
    try:
        with transaction.atomic():
            locked = lock_allocation(allocation)
            require_pi(
                by, locked, _("Only the principal investigator can upload the final report.")
            )
            _check_report_window(locked, now)
            earlier = FinalReport.objects.filter(allocation=locked).first()
            if earlier is not None:
                replaced = (earlier.file.storage, earlier.file.name, earlier.sha256)
                earlier.delete()
            report.allocation = locked
            report.file.save(
                f"final-reports/{locked.pk}/{uuid.uuid4().hex}.pdf", upload, save=False
            )
            stored = True
            report.save()
            late = local_today(locked, now) > final_report_due(locked)
            audit_record(
                subject=locked,
                action="allocation.final_report_uploaded",
                actor=by,
                call=locked.proposal.call,
                before={"sha256": replaced[2]} if replaced else None,
                after={
                    "name": report.original_name,
                    "pages": report.pages,
                    "size": report.size,
                    "sha256": report.sha256,
                    "late": late,
                },
            )
            if replaced is not None:
                storage, name = replaced[0], replaced[1]
                transaction.on_commit(lambda: storage.delete(name))
    except BaseException:
        if stored:
            assert report.file.name is not None  # file.save() above gave it its name
            report.file.storage.delete(report.file.name)
        raise
    log.info(
        "final report uploaded",
        extra={"ctx_allocation": allocation.pk, "ctx_report": report.pk, "ctx_by": by.pk},
    )
    return report


def _check_report_window(allocation: Allocation, now: datetime) -> None:
    if local_today(allocation, now) < allocation.end:
        raise ValidationError(
            _(
                "The final report can be uploaded from the period's last day, %(end)s. It is "
                "due by %(due)s."
            )
            % {"end": day_text(allocation.end), "due": day_text(final_report_due(allocation))},
            code="too_early",
        )
