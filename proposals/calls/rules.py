"""Permission predicates about calls and roles in them (STYLE: named, combined explicitly,
tested one by one).

A role counts only once it is linked to a user: a pending role (an email nobody has verified
yet) gives nobody anything.
"""

from datetime import datetime

from accounts.models import User
from accounts.request_memo import remembered
from accounts.rules import is_call_manager
from proposals.calls.enums import CallRoleKind, CallStatus
from proposals.calls.models import Call


def _has_call_role(user: User, call: Call, role: CallRoleKind) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return call.roles.filter(user=user, role=role).exists()


@remembered
def is_committee_member(user: User, call: Call) -> bool:
    return _has_call_role(user, call, CallRoleKind.COMMITTEE)


@remembered
def is_call_reviewer(user: User, call: Call) -> bool:
    """In the call's reviewer pool (assignment to a proposal is a separate, later question)."""
    return _has_call_role(user, call, CallRoleKind.REVIEWER)


def can_manage_call(user: User, call: Call) -> bool:
    """Call managers manage every call; there are no per-call managers yet."""
    return is_call_manager(user)


def call_accepts_submissions(call: Call, now: datetime) -> bool:
    """Open, to the second: from ``opens_at`` (inclusive) to ``closes_at`` (exclusive)."""
    return call.status_at(now) == CallStatus.OPEN


def can_read_ranking(user: User, call: Call) -> bool:
    """Call managers and the call's committee members (PRODUCT §1)."""
    return can_manage_call(user, call) or is_committee_member(user, call)
