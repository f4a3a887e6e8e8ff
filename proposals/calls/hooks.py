"""What apps above ``proposals`` tell a call, registered once at start-up.

``proposals`` may not import ``allocations`` (the apps are in layers, checked by
``lint-imports``), yet whether someone may start a proposal depends on their allocations
(PRODUCT §8: a PI with an overdue final report may not). ``allocations`` registers that check
here in ``AllocationsConfig.ready``; the call page and ``proposal_start`` ask
``start_refusal``. Likewise which of a PI's allocations a new proposal may continue
(``continuable``). Every registration is listed in an ``apps.py``, and
``tests/proposals/test_hooks.py`` checks that each hook is registered.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from proposals.calls.models import Call

# A check returns why ``user`` may not start a proposal in ``call`` at ``now``, or None.
StartCheck = Callable[[User, Call, datetime], str | None]

start_checks: list[StartCheck] = []


def start_check_register(check: StartCheck) -> None:
    if check not in start_checks:
        start_checks.append(check)


def start_refusal(user: User, call: Call, now: datetime) -> str | None:
    """The first reason a registered check gives for refusing ``user`` a new proposal."""
    if not user.is_authenticated:
        return None
    for check in start_checks:
        reason = check(user, call, now)
        if reason:
            return reason
    return None


# PRODUCT §8: a PI may start a proposal that continues one of their allocations. Which ones
# is ``allocations``' to say; ``allocations`` registers a source in ``AllocationsConfig.ready``.
@dataclass(frozen=True)
class Continuable:
    """An allocation a person may continue: the earlier awarded proposal it belongs to, and
    how it is named in the choice (its account, title and period)."""

    proposal_id: int
    label: str


ContinuableSource = Callable[[User], list[Continuable]]

continuable_sources: list[ContinuableSource] = []


def continuable_register(source: ContinuableSource) -> None:
    if source not in continuable_sources:
        continuable_sources.append(source)


def continuable(user: User) -> list[Continuable]:
    """What ``user`` may continue in a new proposal; nothing when nothing is registered."""
    if not user.is_authenticated:
        return []
    return [choice for source in continuable_sources for choice in source(user)]


# Peer review (above calls and submission) finds conflicts of interest by itself whenever what
# it reads changes (PRODUCT §5.1): a call's reviewer pool or committee, a submission, a team.
# The features below tell it here, inside their transaction: ``(call, proposal_ids)``, where
# None means every proposal of the call. Registered by ``ProposalsConfig.ready``
# (``proposals.review.services.conflict_detection.conflicts_refresh_for``).
ConflictSourcesChanged = Callable[[Call, Collection[int] | None], None]

conflict_sources_listeners: list[ConflictSourcesChanged] = []


def conflict_sources_register(listener: ConflictSourcesChanged) -> None:
    if listener not in conflict_sources_listeners:
        conflict_sources_listeners.append(listener)


def conflict_sources_changed(call: Call, proposal_ids: Collection[int] | None = None) -> None:
    """Tell peer review that who may be in conflict with ``call``'s proposals has changed."""
    for listener in conflict_sources_listeners:
        listener(call, proposal_ids)
