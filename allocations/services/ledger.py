"""Writes to the ledger by managers (PRODUCT §8, §9): adjustments.

Kept beside ``allocations/services.py`` (allocations and awards) so the two can grow apart;
both follow STYLE: keyword-only typed arguments, one transaction, the allocation row locked.
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.formatting import amount as format_amount
from accounts.models import User
from accounts.rules import is_call_manager
from allocations.enums import LedgerKind
from allocations.models import Allocation, AllocationResource, LedgerEntry, Resource
from allocations.selectors.ledger import balance
from allocations.services.quota_state import quota_states_refresh
from proposals.calls.audit import audit_record


def _plain(value: Decimal) -> str:
    """12000.0000 → "12000", -0.50 → "-0.5": the same text whatever the database returns."""
    return format(value.normalize(), "f")


def allocation_adjust(
    *,
    allocation: Allocation,
    resource: Resource,
    amount: Decimal,
    reason: str,
    by: User,
) -> LedgerEntry:
    """Add ``amount`` (more hours if positive, fewer if negative) of ``resource`` to
    ``allocation``, with ``reason``.

    Refusals: PermissionDenied unless ``by`` is a call manager; ValidationError when the reason
    is blank, the amount is zero, the allocation has no such resource, or a reduction would take
    the balance below zero (it may take it to zero exactly).

    Side effects: under a lock of the allocation row (so two adjustments, or an adjustment and
    the balance it was checked against, cannot interleave), one ``adjustment`` ledger entry
    (author ``by``, counting from now) and an audit entry ``allocation.adjusted`` with the
    balance before and after.
    """
    if not is_call_manager(by):
        raise PermissionDenied(_("Only call managers can adjust allocations."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the adjustment.")})
    if amount == 0:
        raise ValidationError({"amount": _("Enter an amount other than zero.")})
    with transaction.atomic():
        allocation = (
            Allocation.objects.select_for_update()
            .select_related("proposal__call")
            .get(pk=allocation.pk)
        )
        if not AllocationResource.objects.filter(allocation=allocation, resource=resource).exists():
            raise ValidationError(
                {
                    "resource": _("This allocation has nothing of %(resource)s.")
                    % {"resource": resource.name}
                }
            )
        before = balance(allocation, resource)
        after = before + amount
        if after < 0:
            raise ValidationError(
                {
                    "amount": _(
                        "This would take the balance below zero: %(balance)s %(unit)s are left, "
                        "so the largest reduction is −%(balance)s."
                    )
                    % {"balance": format_amount(before), "unit": resource.unit}
                }
            )
        entry = LedgerEntry.objects.create(
            allocation=allocation,
            resource=resource,
            kind=LedgerKind.ADJUSTMENT,
            amount=amount,
            reason=reason,
            author=by,
            occurred_at=timezone.now(),
        )
        audit_record(
            subject=allocation,
            action="allocation.adjusted",
            actor=by,
            call=allocation.proposal.call,
            before={"resource": resource.code, "balance": _plain(before)},
            after={
                "resource": resource.code,
                "balance": _plain(after),
                "amount": _plain(amount),
                "reason": reason,
                "entry": entry.pk,
            },
        )
        quota_states_refresh([allocation.pk])
    return entry
