"""Writes of a researcher's allocation (PRODUCT §8): members, requests for more, final reports.

Each service runs in one transaction, locks the allocation (or the request) it changes, and
records an audit entry (subject: the allocation) in the same transaction. Refusals a researcher
can act on are ``ValidationError``; acting in the wrong role is ``PermissionDenied``.
"""

import logging
import uuid
from datetime import date, datetime
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.rules import is_call_manager
from allocations.enums import RequestKind, RequestStatus
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationRequest,
    FinalReport,
    Resource,
)
from allocations.rules import is_allocation_pi
from allocations.selectors.researcher import final_report_due, local_today
from allocations.services.ledger import allocation_adjust
from notifications.enums import EmailKind
from notifications.services import outbox_queue, outbox_queue_each
from proposals.calls.services import audit_record
from proposals.submission.pdfcheck import download_name, inspect_pdf, sha256_of

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
FINAL_REPORT_MAX_BYTES = 20 * MEGABYTE


def _lock(allocation: Allocation) -> Allocation:
    return (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("proposal__call", "pi")
        .get(pk=allocation.pk)
    )


def _require_pi(user: User, allocation: Allocation, message: str) -> None:
    if not is_allocation_pi(user, allocation):
        raise PermissionDenied(message)


def _day(value: date) -> str:
    return dateformat.format(value, "j M Y")


# --- Members -------------------------------------------------------------------------------


def allocation_member_add(*, allocation: Allocation, email: str, by: User) -> AllocationMember:
    """Add the person whose account has the verified address ``email`` as a member.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError (on ``email``) when no
    active account has that verified address, or when that person is a member already.

    Side effects: one AllocationMember row (``added_by``); an audit entry
    ``allocation.member_added``.
    """
    email = email.strip()
    with transaction.atomic():
        locked = _lock(allocation)
        _require_pi(by, locked, _("Only the principal investigator can add members."))
        address = (
            EmailAddress.objects.filter(email__iexact=email, verified=True, user__is_active=True)
            .select_related("user")
            .first()
        )
        if address is None:
            raise ValidationError(
                {
                    "email": _(
                        "No Allot account has the confirmed address %(email)s. Ask them to sign "
                        "up (or confirm this address in their account) and try again."
                    )
                    % {"email": email}
                },
                code="unknown_email",
            )
        user = address.user
        if locked.members.filter(user=user, removed_at__isnull=True).exists():
            raise ValidationError(
                {
                    "email": _("%(name)s is already a member of %(account)s.")
                    % {"name": user.display_name, "account": locked.account}
                },
                code="already_member",
            )
        membership = AllocationMember.objects.create(allocation=locked, user=user, added_by=by)
        audit_record(
            subject=locked,
            action="allocation.member_added",
            actor=by,
            call=locked.proposal.call,
            after={"member": user.email},
        )
    return membership


def allocation_member_remove(
    *, membership: AllocationMember, by: User, now: datetime | None = None
) -> None:
    """End ``membership``: the person may no longer run jobs on the account.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError for the PI's own
    membership or one that has ended already.

    Side effects: ``removed_at`` set (the row stays, for the usage it explains); an audit entry
    ``allocation.member_removed``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        allocation = _lock(membership.allocation)
        _require_pi(by, allocation, _("Only the principal investigator can remove members."))
        locked = (
            AllocationMember.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=membership.pk, allocation=allocation)
        )
        if locked.user_id == allocation.pi_id:
            raise ValidationError(
                _("The principal investigator stays a member of the allocation."), code="pi"
            )
        if locked.removed_at is not None:
            raise ValidationError(
                _("%(name)s is no longer a member.") % {"name": locked.user.display_name},
                code="removed",
            )
        locked.removed_at = now
        locked.save(update_fields=["removed_at"])
        audit_record(
            subject=allocation,
            action="allocation.member_removed",
            actor=by,
            call=allocation.proposal.call,
            before={"member": locked.user.email},
        )
    membership.removed_at = now


# --- Requests for more ---------------------------------------------------------------------


def _managers() -> list[User]:
    return list(
        User.objects.filter(groups__name=settings.CALL_MANAGERS_GROUP, is_active=True)
        .distinct()
        .order_by("email", "pk")
    )


def allocation_request_create(
    *,
    allocation: Allocation,
    by: User,
    kind: RequestKind | str,
    reason: str,
    resource: Resource | None = None,
    amount: Decimal | None = None,
    new_end: date | None = None,
    now: datetime | None = None,
) -> AllocationRequest:
    """The PI asks for ``amount`` more of ``resource`` (``more_hours``) or for the period to end
    on ``new_end`` (``extension``), with a ``reason``.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError when the period has
    ended, when a request of the same kind is pending, or when what is asked is not possible
    (a resource the allocation does not have, an amount not above zero, a new end not after
    the current one). Field errors are keyed by field name.

    Side effects: one AllocationRequest (pending); an audit entry
    ``allocation.request_created``; the ``allocation-request-new`` email (event
    ``allocation-request-new:<id>``) to every active call manager.
    """
    now = now or timezone.now()
    kind = RequestKind(kind)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need it.")}, code="no_reason")
    with transaction.atomic():
        locked = _lock(allocation)
        _require_pi(by, locked, _("Only the principal investigator can ask for more."))
        today = local_today(locked, now)
        if today > locked.end:
            raise ValidationError(
                _("The period ended on %(end)s; it can no longer be extended or topped up.")
                % {"end": _day(locked.end)},
                code="ended",
            )
        if locked.requests.filter(kind=kind, status=RequestStatus.PENDING).exists():
            raise ValidationError(
                _(
                    "A request for %(what)s is already waiting for a decision. You can ask "
                    "again once it is decided."
                )
                % {"what": kind.label.lower()},
                code="pending",
            )
        if kind == RequestKind.MORE_HOURS:
            if resource is None or not locked.resources.filter(resource=resource).exists():
                raise ValidationError(
                    {"resource": _("Choose one of the allocation's resources.")},
                    code="resource",
                )
            if amount is None or amount <= 0:
                raise ValidationError({"amount": _("Ask for an amount above zero.")}, code="amount")
            new_end = None
        else:
            if new_end is None or new_end <= locked.end:
                raise ValidationError(
                    {
                        "new_end": _("Choose a date after the current end, %(end)s.")
                        % {"end": _day(locked.end)}
                    },
                    code="new_end",
                )
            resource, amount = None, None
        request = AllocationRequest.objects.create(
            allocation=locked,
            kind=kind,
            resource=resource,
            amount=amount,
            new_end=new_end,
            reason=reason,
            requested_by=by,
        )
        audit_record(
            subject=locked,
            action="allocation.request_created",
            actor=by,
            call=locked.proposal.call,
            after=_request_state(request),
        )
        context = {"request": request, "allocation": locked, "by": by}
        outbox_queue_each(
            kind=EmailKind.ALLOCATION_REQUEST_NEW,
            event=f"allocation-request-new:{request.pk}",
            people=_managers(),
            context=context,
        )
    return request


def _request_state(request: AllocationRequest) -> dict[str, str | int | None]:
    return {
        "request": request.pk,
        "kind": request.kind,
        "resource": request.resource.code if request.resource else None,
        "amount": str(request.amount) if request.amount is not None else None,
        "new_end": request.new_end.isoformat() if request.new_end else None,
        "status": request.status,
    }


def approved_reason(request: AllocationRequest) -> str:
    """The reason of the ledger adjustment an approved request for more hours makes."""
    return f"Approved request #{request.pk}: {request.reason}"


def allocation_request_decide(
    *,
    request: AllocationRequest,
    by: User,
    approve: bool,
    note: str = "",
    now: datetime | None = None,
) -> AllocationRequest:
    """A call manager approves or declines a pending request; a decline needs a ``note``.

    Refusals: PermissionDenied unless ``by`` is a call manager; ValidationError when the
    request is decided already, or a decline comes without a note.

    Side effects: status, ``decided_by``/``decided_at``/``decision_note``. Approving more hours
    appends an ``adjustment`` ledger entry of the amount through
    ``services_ledger.allocation_adjust`` (reason "Approved request #N: …", author ``by``; its
    audit entry ``allocation.adjusted`` too); approving an extension moves the allocation's
    ``end`` to the new date. An audit entry ``allocation.request_approved`` or
    ``allocation.request_declined``; the ``allocation-request-decided`` email (event
    ``allocation-request-decided:<id>``) to the PI.
    """
    now = now or timezone.now()
    note = note.strip()
    if not is_call_manager(by):
        raise PermissionDenied(_("Only call managers decide requests."))
    if not approve and not note:
        raise ValidationError(
            {"note": _("Say why the request is declined; the PI reads this.")}, code="no_note"
        )
    with transaction.atomic():
        allocation = _lock(request.allocation)
        locked = (
            AllocationRequest.objects.select_for_update(of=("self",))
            .select_related("resource")
            .get(pk=request.pk)
        )
        if locked.status != RequestStatus.PENDING:
            raise ValidationError(
                _("This request was %(status)s already.")
                % {"status": locked.get_status_display().lower()},
                code="decided",
            )
        before = _request_state(locked)
        changes: dict[str, str] = {}
        if approve and locked.kind == RequestKind.MORE_HOURS:
            entry = allocation_adjust(
                allocation=allocation,
                resource=locked.resource,
                amount=locked.amount,
                reason=approved_reason(locked),
                by=by,
            )
            changes = {"ledger_entry": str(entry.pk), "adjustment": str(locked.amount)}
        elif approve:
            changes = {"end_before": allocation.end.isoformat()}
            allocation.end = locked.new_end
            allocation.save(update_fields=["end"])
            changes["end"] = allocation.end.isoformat()
        locked.status = RequestStatus.APPROVED if approve else RequestStatus.DECLINED
        locked.decided_by = by
        locked.decided_at = now
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_record(
            subject=allocation,
            action=f"allocation.request_{locked.status}",
            actor=by,
            call=allocation.proposal.call,
            before=before,
            after={**_request_state(locked), "note": note, **changes},
        )
        outbox_queue(
            kind=EmailKind.ALLOCATION_REQUEST_DECIDED,
            event=f"allocation-request-decided:{locked.pk}",
            recipient=allocation.pi.email,
            user=allocation.pi,
            context={"request": locked, "allocation": allocation, "person": allocation.pi},
        )
    request.status = locked.status
    request.decided_by, request.decided_at = by, now
    request.decision_note = note
    return locked


# --- Final reports -------------------------------------------------------------------------


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
    _require_pi(by, allocation, _("Only the principal investigator can upload the final report."))
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
            locked = _lock(allocation)
            _require_pi(
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
            % {"end": _day(allocation.end), "due": _day(final_report_due(allocation))},
            code="too_early",
        )
