"""Reads of the ledger (PRODUCT §8): balances, usage by month and by member, the quota.

Balances are sums over the append-only ledger, computed in the database. Months are calendar
months in the call's time zone. Every function here runs a fixed number of queries, whatever
the number of entries, allocations or members.
"""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Case, DateField, Q, QuerySet, Sum, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import User
from allocations.enums import ChargeRule, LedgerKind
from allocations.models import Allocation, LedgerEntry, Resource
from allocations.quota import QuotaEntry, QuotaResult, quota_months

ZERO = Decimal(0)
PLACES = Decimal("0.0001")


def balance(allocation: Allocation, resource: Resource) -> Decimal:
    """What is left of ``resource`` on ``allocation``: the sum of its ledger entries (0 with
    none). One query."""
    # Sum of the model's field, not wrapped (Coalesce with a bare Value would lose its decimal
    # places): SQLite adds up floats, and the field's converter rounds back to its 4 places.
    total = LedgerEntry.objects.filter(allocation=allocation, resource=resource).aggregate(
        total=Sum("amount")
    )["total"]
    return ZERO if total is None else _exact(total)


def _exact(value: Decimal) -> Decimal:
    """A sum from the database to the ledger's 4 decimal places (SQLite sums floats)."""
    return Decimal(value).quantize(PLACES)


@dataclass(frozen=True)
class ResourceTotals:
    """One resource of an allocation: awarded (award + adjustments), used (a positive number:
    all usage), forfeited (a positive number) and the balance (the sum of every entry)."""

    awarded: Decimal = ZERO
    used: Decimal = ZERO
    forfeited: Decimal = ZERO
    balance: Decimal = ZERO


def _totals_from(sums: dict[str, Decimal]) -> ResourceTotals:
    return ResourceTotals(
        awarded=sums.get(LedgerKind.AWARD, ZERO) + sums.get(LedgerKind.ADJUSTMENT, ZERO),
        used=-sums.get(LedgerKind.USAGE, ZERO),
        forfeited=-sums.get(LedgerKind.FORFEIT, ZERO),
        balance=sum(sums.values(), ZERO),
    )


def _month_expression(zones: Iterable[str]) -> Case | TruncMonth:
    """The first day of the entry's month in its call's time zone, for one grouped query over
    allocations of calls in any of ``zones``."""
    zones = sorted(set(zones))
    if len(zones) == 1:
        return TruncMonth(
            "occurred_at", tzinfo=zoneinfo.ZoneInfo(zones[0]), output_field=DateField()
        )
    return Case(
        *(
            When(
                allocation__proposal__call__time_zone=zone,
                then=TruncMonth(
                    "occurred_at", tzinfo=zoneinfo.ZoneInfo(zone), output_field=DateField()
                ),
            )
            for zone in zones
        ),
        output_field=DateField(),
    )


@dataclass(frozen=True)
class MonthlySum:
    allocation_id: int
    resource_id: int
    kind: str
    month: date
    amount: Decimal


def monthly_sums(allocations: Sequence[Allocation]) -> list[MonthlySum]:
    """Every entry of ``allocations`` summed by allocation, resource, kind and month: one
    query. ``allocations`` need ``proposal.call`` loaded (for the time zones)."""
    if not allocations:
        return []
    month = _month_expression(a.proposal.call.time_zone for a in allocations)
    grouped = (
        LedgerEntry.objects.filter(allocation__in=[a.pk for a in allocations])
        .annotate(month=month)
        .values("allocation_id", "resource_id", "kind", "month")
        .annotate(total=Sum("amount"))
        .order_by("allocation_id", "resource_id", "month", "kind")
    )
    return [
        MonthlySum(
            g["allocation_id"], g["resource_id"], g["kind"], _day(g["month"]), _exact(g["total"])
        )
        for g in grouped
    ]


def monthly_sums_by_allocation(
    allocations: Sequence[Allocation],
) -> dict[int, list[MonthlySum]]:
    """``monthly_sums`` grouped by allocation id (missing ids: no entries): one query."""
    grouped: dict[int, list[MonthlySum]] = defaultdict(list)
    for row in monthly_sums(allocations):
        grouped[row.allocation_id].append(row)
    return grouped


def _day(value: date | datetime) -> date:
    """A month from the database as a date: on PostgreSQL a truncation inside ``Case`` comes
    back as a timestamp (the truncation's own conversion does not run there)."""
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class ResourceLedger:
    """A resource of an allocation as the pages show it: the totals and the quota."""

    resource: Resource
    totals: ResourceTotals
    quota: QuotaResult


def resource_ledgers(
    allocation: Allocation,
    resources: list[Resource],
    sums: list[MonthlySum],
    today: date,
) -> list[ResourceLedger]:
    """Totals and quota per resource of ``allocation`` from its own rows of ``monthly_sums``
    (no query; for many allocations, ``monthly_sums_by_allocation`` gives each its rows).

    The quota uses the policy of the allocation's call and the allocation's own period (which
    an extension moves)."""
    by_resource: dict[int, list[MonthlySum]] = defaultdict(list)
    for row in sums:
        by_resource[row.resource_id].append(row)
    ledgers = []
    for resource in resources:
        rows = by_resource.get(resource.pk, [])
        per_kind: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            per_kind[row.kind] += row.amount
        quota = quota_months(
            start=allocation.start,
            end=allocation.end,
            policy=allocation.proposal.call.quota_policy,
            entries=[QuotaEntry(row.kind, row.amount, row.month) for row in rows],
            today=today,
            consumable=resource.charge_rule != ChargeRule.NONE,  # storage has no quota
        )
        ledgers.append(ResourceLedger(resource, _totals_from(per_kind), quota))
    return ledgers


def today_for(allocation: Allocation) -> date:
    """Today's date in the allocation's call's time zone."""
    return timezone.localdate(timezone=allocation.proposal.call.tz)


def allocation_ledgers(
    *, allocation: Allocation, today: date | None = None
) -> list[ResourceLedger]:
    """Totals and month-by-month quota of every resource of ``allocation``, by resource name.

    Two queries: the resources and the grouped entries (plus the call, if not loaded)."""
    resources = [
        row.resource for row in allocation.resources.select_related("resource").order_by("pk")
    ]
    resources.sort(key=lambda r: r.name)
    today = today or today_for(allocation)
    return resource_ledgers(allocation, resources, monthly_sums([allocation]), today)


def allocation_quota(
    *, allocation: Allocation, resource: Resource, today: date | None = None
) -> QuotaResult:
    """The month-by-month quota of one resource of ``allocation`` (see ``allocations.quota``)."""
    today = today or today_for(allocation)
    sums = [row for row in monthly_sums([allocation]) if row.resource_id == resource.pk]
    return resource_ledgers(allocation, [resource], sums, today)[0].quota


@dataclass(frozen=True)
class MonthUsage:
    month: date
    resource_id: int
    used: Decimal


def usage_by_month(*, allocation: Allocation, resource: Resource | None = None) -> list[MonthUsage]:
    """Usage (positive numbers) per calendar month in the call's time zone and resource, in
    month order; months without usage are left out. One grouped query."""
    entries = _usage(allocation, resource)
    grouped = (
        entries.annotate(month=_month_expression([allocation.proposal.call.time_zone]))
        .values("month", "resource_id")
        .annotate(total=Sum("amount"))
        .order_by("month", "resource_id")
    )
    return [MonthUsage(g["month"], g["resource_id"], -_exact(g["total"])) for g in grouped]


@dataclass(frozen=True)
class MemberUsage:
    user: User | None
    resource_id: int
    used: Decimal


def usage_by_member(
    *, allocation: Allocation, resource: Resource | None = None
) -> list[MemberUsage]:
    """Usage (positive numbers) per member and resource, the largest first. ``user`` is None
    for usage of someone whose account was deleted. Two queries: the sums and the people."""
    grouped = list(
        _usage(allocation, resource)
        .values("user_id", "resource_id")
        .annotate(total=Sum("amount"))
        .order_by("total", "user_id", "resource_id")  # most negative first: the largest use
    )
    users = User.objects.in_bulk({g["user_id"] for g in grouped if g["user_id"] is not None})
    return [
        MemberUsage(users.get(g["user_id"]), g["resource_id"], -_exact(g["total"])) for g in grouped
    ]


def _usage(allocation: Allocation, resource: Resource | None) -> QuerySet[LedgerEntry]:
    condition = Q(allocation=allocation, kind=LedgerKind.USAGE)
    if resource is not None:
        condition &= Q(resource=resource)
    return LedgerEntry.objects.filter(condition)


def ledger_entries(*, allocation: Allocation) -> QuerySet[LedgerEntry]:
    """Every entry of ``allocation`` with its resource and people, oldest first."""
    return (
        LedgerEntry.objects.filter(allocation=allocation)
        .select_related("resource", "author", "user")
        .order_by("occurred_at", "pk")
    )
