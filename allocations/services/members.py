"""Members of a researcher's allocation (PRODUCT §8): the PI adds and removes them."""

from datetime import datetime

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from allocations.models import (
    Allocation,
    AllocationMember,
)
from allocations.services.common import lock_allocation, require_pi
from proposals.calls.audit import audit_record


def allocation_member_add(*, allocation: Allocation, email: str, by: User) -> AllocationMember:
    """Add the person whose account has the verified address ``email`` as a member.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError (on ``email``) when no
    active account has that verified address, or when that person is a member already.

    Side effects: one AllocationMember row (``added_by``); an audit entry
    ``allocation.member_added``.
    """
    email = email.strip()
    with transaction.atomic():
        locked = lock_allocation(allocation)
        require_pi(by, locked, _("Only the principal investigator can add members."))
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
        allocation = lock_allocation(membership.allocation)
        require_pi(by, allocation, _("Only the principal investigator can remove members."))
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
