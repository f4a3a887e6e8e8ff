"""Continuations (PRODUCT §8): which allocations a PI may continue in a new proposal, and what
reviewers and the committee see of the earlier allocation on the continuing proposal.

``proposals`` asks both through hooks (``proposals.calls.hooks.continuable`` and
``proposals.submission.hooks.page_contexts``), registered in ``AllocationsConfig.ready``.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import dateformat

from accounts.models import User
from allocations.models import Allocation, FinalReport
from allocations.selectors.ledger import allocation_ledgers
from proposals.calls.hooks import Continuable
from proposals.submission.models import Proposal


def _day(value: date) -> str:
    return dateformat.format(value, "j M Y")


def continuable_allocations(user: User) -> list[Continuable]:
    """The allocations ``user`` leads that no later allocation continues yet, latest first:
    one query."""
    rows = (
        Allocation.objects.filter(pi=user, continued_by__isnull=True)
        .select_related("proposal")
        .order_by("-end", "account")
    )
    return [
        Continuable(
            proposal_id=a.proposal_id,
            label=f"{a.account} · {a.proposal.title} ({_day(a.start)} – {_day(a.end)})",
        )
        for a in rows
    ]


@dataclass(frozen=True)
class EarlierUse:
    resource: str
    unit: str
    awarded: Decimal
    used: Decimal
    forfeited: Decimal


@dataclass(frozen=True)
class EarlierAllocation:
    """The allocation a proposal continues, as its readers see it."""

    account: str
    reference: str
    start: date
    end: date
    use: list[EarlierUse]
    report: FinalReport | None


def earlier_allocation(*, proposal: Proposal) -> EarlierAllocation | None:
    """The allocation of the proposal ``proposal`` continues, with its use per resource
    (awarded, used, forfeited) and its final report; None for a new project. A few queries."""
    if proposal.continues_id is None:
        return None
    allocation = (
        Allocation.objects.select_related("proposal__call")
        .filter(proposal_id=proposal.continues_id)
        .first()
    )
    if allocation is None:
        return None
    use = [
        EarlierUse(
            resource=ledger.resource.name,
            unit=ledger.resource.unit,
            awarded=ledger.totals.awarded,
            used=ledger.totals.used,
            forfeited=ledger.totals.forfeited,
        )
        for ledger in allocation_ledgers(allocation=allocation)
    ]
    return EarlierAllocation(
        account=allocation.account,
        reference=allocation.proposal.reference or "",
        start=allocation.start,
        end=allocation.end,
        use=use,
        report=FinalReport.objects.filter(allocation=allocation).first(),
    )


def continuation_page_context(
    user: User, proposal: Proposal, now: datetime, on_team: bool
) -> dict[str, Any]:
    """Every page of a continuing proposal shows the earlier allocation to whoever reads it
    (the page checked that): the team, managers, the committee and assigned reviewers."""
    return {"earlier_allocation": earlier_allocation(proposal=proposal)}
