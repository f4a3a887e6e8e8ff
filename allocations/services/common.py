"""What the services of a researcher's allocation (``members``, ``requests``, ``reports``)
share: the allocation's row lock, the PI check, and a date as their messages write it.

Each of those services runs in one transaction, locks the allocation (or the request) it
changes, and records an audit entry (subject: the allocation) in the same transaction.
Refusals a researcher can act on are ``ValidationError``; acting in the wrong role is
``PermissionDenied``.
"""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.utils import dateformat

from accounts.models import User
from allocations.models import (
    Allocation,
)
from allocations.rules import is_allocation_pi


def lock_allocation(allocation: Allocation) -> Allocation:
    return (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("proposal__call", "pi")
        .get(pk=allocation.pk)
    )


def require_pi(user: User, allocation: Allocation, message: str) -> None:
    if not is_allocation_pi(user, allocation):
        raise PermissionDenied(message)


def day_text(value: date) -> str:
    return dateformat.format(value, "j M Y")
