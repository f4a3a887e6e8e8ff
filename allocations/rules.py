"""Permission predicates about allocations (PRODUCT §1.1, §8): who sees an allocation and
who acts on it.
"""

from datetime import datetime, timedelta

from django.utils import dateformat
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.rules import is_call_manager
from allocations.models import Allocation
from proposals.calls.models import Call


def is_allocation_pi(user: User, allocation: Allocation) -> bool:
    return user.is_authenticated and allocation.pi_id == user.pk


def is_allocation_member(user: User, allocation: Allocation) -> bool:
    """A current member (the PI is one too, from the award on). One query."""
    if not user.is_authenticated:
        return False
    return allocation.members.filter(user=user, removed_at__isnull=True).exists()


def can_view_allocation(user: User, allocation: Allocation) -> bool:
    """The PI, a current member or a call manager."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        is_allocation_pi(user, allocation)
        or is_call_manager(user)
        or is_allocation_member(user, allocation)
    )


# PRODUCT §8: a final report is due within 8 weeks after an allocation's period ends.
FINAL_REPORT_DUE_AFTER = timedelta(weeks=8)


def overdue_final_reports_message(user: User, call: Call, now: datetime) -> str | None:
    """Why ``user`` may not start or submit a proposal while final reports of theirs are
    overdue, or None. Registered with ``proposals.calls.hooks`` (``allocations.apps``).

    Overdue: an allocation ``user`` leads whose period ended more than 8 weeks ago (dates in
    ``call``'s zone) without a final report. One query.
    """
    if not user.is_authenticated:
        return None
    today = now.astimezone(call.tz).date()
    overdue = list(
        Allocation.objects.filter(
            pi=user, end__lt=today - FINAL_REPORT_DUE_AFTER, final_report__isnull=True
        )
        .order_by("end", "account")
        .values_list("account", "end")
    )
    if not overdue:
        return None
    sentences = [
        _("The final report of your allocation %(account)s was due on %(due)s and has not arrived.")
        % {"account": account, "due": dateformat.format(end + FINAL_REPORT_DUE_AFTER, "j M Y")}
        for account, end in overdue
    ]
    sentences.append(_("Upload it on the allocation's page; then you can start a new proposal."))
    return " ".join(sentences)
