"""Reads for the call managers' allocation pages (PRODUCT §8, §9).

Each function runs a fixed number of queries whatever the number of allocations, entries or
audit rows. The list filters by period, sorts and paginates in SQL and builds only the page's
rows: their quotas and use come from one grouped query of the ledger
(``allocations.ledger.monthly_sums``), computed in Python (``allocations.quota``).
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationResource,
    Resource,
)
from allocations.selectors.ledger import (
    ResourceLedger,
    monthly_sums_by_allocation,
    resource_ledgers,
)
from allocations.services.quota_state import (
    low_priority,
    quota_states_refresh_stale,
    use_percent,
)
from proposals.calls.models import Call

ALLOCATIONS_PAGE_SIZE = 50


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
        return low_priority(self.ledger)

    @property
    def use_percent(self) -> Decimal | None:
        """Usage so far as a percentage of the award's even share of the months begun."""
        return use_percent(self.ledger)


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


def _todays(today: date | None) -> dict[str, date]:
    """Today in each call's time zone (one query; a handful of zones), or ``today`` for all."""
    zones = Call.objects.order_by().values_list("time_zone", flat=True).distinct()
    return {zone: today or timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)) for zone in zones}


def _today_expression(todays: dict[str, date]) -> Case:
    """Each allocation's today: the date in its call's time zone, as SQL."""
    return Case(
        *(When(proposal__call__time_zone=zone, then=Value(day)) for zone, day in todays.items()),
        default=Value(min(todays.values(), default=date.today())),  # noqa: DTZ011 - no calls
        output_field=DateField(),
    )


def _with_period(allocations: QuerySet[Allocation], todays: dict[str, date]):
    """``allocations`` annotated with ``today`` and ``period`` (a ``Period`` value) in SQL."""
    return allocations.annotate(today=_today_expression(todays)).annotate(
        period=Case(
            When(start__gt=F("today"), then=Value(Period.UPCOMING)),
            When(end__lt=F("today"), then=Value(Period.ENDED)),
            default=Value(Period.ACTIVE),
            output_field=CharField(),
        )
    )


def _rows(allocations: Iterable[Allocation], today: date | None) -> list[AllocationRow]:
    """The rows of ``allocations`` (with ``proposal.call`` and ``resources`` loaded): one query
    of the ledger for all of them."""
    allocations = list(allocations)
    by_allocation = monthly_sums_by_allocation(allocations)
    rows = []
    for allocation in allocations:
        day = today or timezone.localdate(timezone=allocation.proposal.call.tz)
        resources = sorted((r.resource for r in allocation.resources.all()), key=lambda r: r.name)
        ledgers = resource_ledgers(allocation, resources, by_allocation[allocation.pk], day)
        rows.append(
            AllocationRow(
                allocation, period_of(allocation, day), day, [ResourceLine(x) for x in ledgers]
            )
        )
    return rows


def manager_allocations(
    *,
    call: Call | None = None,
    resource: Resource | None = None,
    state: str = "",
    under_use: int | None = None,
    today: date | None = None,
    page: str | int | None = None,
    per_page: int | None = None,
) -> tuple[Page, list[AllocationRow]]:
    """One page of the allocations, by account, with per resource awarded / used / left and
    this month's quota state. Filters: ``call``; ``resource`` (only allocations with it, and
    only its line); ``state`` (a ``Period`` value or ``LOW_PRIORITY``); ``under_use`` (a
    percentage: active allocations where some listed resource used less than that share of
    what was due so far — the even monthly split of the award over the months begun).

    ``today`` overrides today's date (else each call's own, in its time zone).

    Everything is filtered, sorted and paged in SQL, and only the page's rows are built
    (seven queries): the period from each call's today, low priority and under-use from the
    quota's state kept on each resource (``allocations.services.quota_state``), recomputed
    first for the allocations whose state is of an earlier month.
    """
    todays = _todays(today)
    allocations = _with_period(_listed(call, resource), todays)
    if state in Period.LABELS:
        allocations = allocations.filter(period=state)
    if state == LOW_PRIORITY or under_use is not None:
        allocations = _active(call, todays, resource)
        lines = AllocationResource.objects.filter(allocation=OuterRef("pk"))
        if resource is not None:
            lines = lines.filter(resource=resource)
        if state == LOW_PRIORITY:
            allocations = allocations.filter(Exists(lines.filter(low_priority=True)))
        if under_use is not None:
            allocations = allocations.filter(Exists(lines.filter(use_percent__lt=under_use)))
    page_obj = Paginator(allocations, per_page or ALLOCATIONS_PAGE_SIZE).get_page(page)
    return page_obj, _rows(page_obj.object_list, today)


def under_used_lines(
    *, call: Call | None, percent: int, limit: int, today: date | None = None
) -> tuple[list[AllocationResource], int]:
    """The resources of active allocations (of ``call``, or all) used below ``percent`` % of
    their share due so far, the lowest first, up to ``limit`` (with their allocation, PI and
    resource); and how many allocations have one. From the kept quota state: five queries."""
    allocations = _active(call, _todays(today))
    lines = AllocationResource.objects.filter(
        allocation__in=allocations.values("pk"), use_percent__lt=percent
    )
    count = lines.values("allocation_id").distinct().count()
    shown = lines.select_related("allocation__pi", "resource").order_by(
        "use_percent", "allocation__account", "resource__name"
    )
    return list(shown[:limit]), count


def _active(call: Call | None, todays: dict[str, date], resource: Resource | None = None):
    """The active allocations, their kept quota state refreshed when of an earlier month."""
    allocations = _with_period(_listed(call, resource), todays).filter(period=Period.ACTIVE)
    month = max((day.replace(day=1) for day in todays.values()), default=None)
    if month is not None:
        quota_states_refresh_stale(allocations, month=month)
    return allocations


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
