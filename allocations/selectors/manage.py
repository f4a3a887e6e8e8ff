"""Reads for the call managers' allocation pages (PRODUCT §8, §9).

Each function runs a fixed number of queries whatever the number of allocations, entries or
audit rows: states, quotas and under-use are computed in Python from one grouped query of the
ledger (``allocations.ledger.monthly_sums``).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from allocations.models import Allocation, AllocationMember, AllocationResource, Resource
from allocations.quota import MonthState
from allocations.selectors.ledger import (
    ResourceLedger,
    monthly_sums_by_allocation,
    resource_ledgers,
)
from proposals.calls.models import Call


class Period:
    """Where an allocation's period is relative to today (its call's time zone)."""

    UPCOMING = "upcoming"
    ACTIVE = "active"
    ENDED = "ended"
    LABELS = {UPCOMING: _("Upcoming"), ACTIVE: _("Active"), ENDED: _("Ended")}


# The state filter: the three periods, and "low priority" (active, and some resource ran
# beyond its quota plus what it may borrow this month).
LOW_PRIORITY = "low_priority"


def period_of(allocation: Allocation, today: date) -> str:
    if today < allocation.start:
        return Period.UPCOMING
    if today > allocation.end:
        return Period.ENDED
    return Period.ACTIVE


@dataclass(frozen=True)
class ResourceLine:
    """One resource of a listed allocation: the ledger's totals, the quota, and the share of
    what was due so far that was used (None before the period starts)."""

    ledger: ResourceLedger

    @property
    def resource(self) -> Resource:
        return self.ledger.resource

    @property
    def this_month(self):
        return self.ledger.quota.today

    @property
    def low_priority(self) -> bool:
        return self.this_month is not None and self.this_month.state == MonthState.LOW_PRIORITY

    @property
    def use_percent(self) -> Decimal | None:
        """Usage so far as a percentage of the award's even share of the months begun."""
        expected = self.ledger.quota.expected_to_date
        if expected <= 0:
            return None
        return (self.ledger.totals.used * 100 / expected).quantize(Decimal(1))


@dataclass(frozen=True)
class AllocationRow:
    allocation: Allocation
    period: str
    today: date
    lines: list[ResourceLine] = field(default_factory=list)

    @property
    def period_label(self) -> str | Promise:
        return Period.LABELS[self.period]

    @property
    def low_priority(self) -> bool:
        return any(line.low_priority for line in self.lines)

    def under_used(self, percent: int) -> bool:
        """Some resource used less than ``percent`` % of what was due so far."""
        return any(
            line.use_percent is not None and line.use_percent < percent for line in self.lines
        )


def _listed(call: Call | None, resource: Resource | None) -> QuerySet[Allocation]:
    allocations = Allocation.objects.select_related("proposal__call", "pi")
    if call is not None:
        allocations = allocations.filter(proposal__call=call)
    resources = AllocationResource.objects.select_related("resource")
    if resource is not None:
        allocations = allocations.filter(resources__resource=resource)
        resources = resources.filter(resource=resource)
    return allocations.prefetch_related(Prefetch("resources", queryset=resources)).order_by(
        "account"
    )


def manager_allocations(
    *,
    call: Call | None = None,
    resource: Resource | None = None,
    state: str = "",
    under_use: int | None = None,
    today: date | None = None,
) -> list[AllocationRow]:
    """Every allocation, by account, with per resource awarded / used / left and this month's
    quota state. Filters: ``call``; ``resource`` (only allocations with it, and only its
    line); ``state`` (a ``Period`` value or ``LOW_PRIORITY``); ``under_use`` (a percentage:
    active allocations where some listed resource used less than that share of what was due
    so far — the even monthly split of the award over the months begun).

    ``today`` overrides today's date (else each call's own, in its time zone); three queries.
    """
    allocations = list(_listed(call, resource))
    by_allocation = monthly_sums_by_allocation(allocations)
    rows = []
    for allocation in allocations:
        day = today or timezone.localdate(timezone=allocation.proposal.call.tz)
        resources = sorted((r.resource for r in allocation.resources.all()), key=lambda r: r.name)
        ledgers = resource_ledgers(allocation, resources, by_allocation[allocation.pk], day)
        row = AllocationRow(
            allocation, period_of(allocation, day), day, [ResourceLine(x) for x in ledgers]
        )
        if state == LOW_PRIORITY and not (row.period == Period.ACTIVE and row.low_priority):
            continue
        if state in Period.LABELS and row.period != state:
            continue
        if under_use is not None and not (
            row.period == Period.ACTIVE and row.under_used(under_use)
        ):
            continue
        rows.append(row)
    return rows


def allocation_for_manager(*, pk: int) -> Allocation:
    """The allocation with its call and PI, or 404. (Every call manager manages every call.)"""
    return get_object_or_404(Allocation.objects.select_related("proposal__call", "pi"), pk=pk)


def allocation_members(*, allocation: Allocation) -> list[AllocationMember]:
    """Current and former members, current first, with their people."""
    return list(
        allocation.members.select_related("user", "added_by").order_by(
            "removed_at", "added_at", "pk"
        )
    )
