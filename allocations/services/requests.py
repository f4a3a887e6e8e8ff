"""Requests for more (PRODUCT §8): the PI asks for more hours or a longer period, a call
manager approves or declines."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.rules import is_call_manager
from accounts.selectors import active_call_managers
from allocations.enums import REQUEST_LIFECYCLE, RequestKind, RequestStatus
from allocations.models import (
    Allocation,
    AllocationRequest,
    Resource,
)
from allocations.selectors.researcher import local_today
from allocations.services.common import day_text, lock_allocation, require_pi
from allocations.services.ledger import allocation_adjust
from allocations.services.quota_state import quota_states_refresh
from notifications.enums import EmailKind
from notifications.services import outbox_queue, outbox_queue_each
from proposals.calls.audit import audit_record


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
        locked = lock_allocation(allocation)
        require_pi(by, locked, _("Only the principal investigator can ask for more."))
        _check_can_ask(locked, kind, now)
        if kind == RequestKind.MORE_HOURS:
            _check_more_hours(locked, resource, amount)
            new_end = None
        else:
            _check_extension(locked, new_end)
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
            people=active_call_managers(),
            context=context,
        )
    return request


def _check_can_ask(locked: Allocation, kind: RequestKind, now: datetime) -> None:
    """Refused once the period has ended, or while a request of the same kind is pending."""
    if local_today(locked, now) > locked.end:
        raise ValidationError(
            _("The period ended on %(end)s; it can no longer be extended or topped up.")
            % {"end": day_text(locked.end)},
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


def _check_more_hours(
    locked: Allocation, resource: Resource | None, amount: Decimal | None
) -> None:
    if resource is None or not locked.resources.filter(resource=resource).exists():
        raise ValidationError(
            {"resource": _("Choose one of the allocation's resources.")},
            code="resource",
        )
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Ask for an amount above zero.")}, code="amount")


def _check_extension(locked: Allocation, new_end: date | None) -> None:
    if new_end is None or new_end <= locked.end:
        raise ValidationError(
            {
                "new_end": _("Choose a date after the current end, %(end)s.")
                % {"end": day_text(locked.end)}
            },
            code="new_end",
        )


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


def _grant(allocation: Allocation, locked: AllocationRequest, by: User) -> dict[str, str]:
    """What an approval changes: more hours through a ledger adjustment, or the new end.
    Returns what the audit entry records of it."""
    # The constraint request_has_what_it_asks: more hours name a resource and an amount,
    # an extension its new end.
    if locked.kind == RequestKind.MORE_HOURS:
        assert locked.resource is not None and locked.amount is not None
        entry = allocation_adjust(
            allocation=allocation,
            resource=locked.resource,
            amount=locked.amount,
            reason=approved_reason(locked),
            by=by,
        )
        return {"ledger_entry": str(entry.pk), "adjustment": str(locked.amount)}
    assert locked.new_end is not None
    changes = {"end_before": allocation.end.isoformat()}
    allocation.end = locked.new_end
    allocation.save(update_fields=["end"])
    quota_states_refresh([allocation.pk])  # the months of the quota moved
    changes["end"] = allocation.end.isoformat()
    return changes


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
    ``ledger.allocation_adjust`` (reason "Approved request #N: …", author ``by``; its
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
        allocation = lock_allocation(request.allocation)
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
        changes = _grant(allocation, locked, by) if approve else {}
        locked.decided_by = by
        locked.decided_at = now
        locked.decision_note = note
        REQUEST_LIFECYCLE.move(
            locked,
            RequestStatus.APPROVED if approve else RequestStatus.DECLINED,
            also=("decided_by", "decided_at", "decision_note"),
        )
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
    request.status = locked.status  # lifecycle: the caller sees the locked row
    request.decided_by, request.decided_at = by, now
    request.decision_note = note
    return locked
