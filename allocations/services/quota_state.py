"""The quota's state kept on each allocation's resource (``AllocationResource.state_on``,
``low_priority``, ``use_percent``): what the managers' filters read in SQL (PRODUCT §10:
pages at 5,000 allocations), instead of computing every allocation's months per request.

The state of a resource changes when its ledger changes (an award, an adjustment, usage, a
forfeit), when the allocation's period moves (an extension) and when a month begins. So every
service that writes the ledger or moves the period refreshes the allocations it touched, in its
own transaction; the hourly quota job refreshes every allocation; and a state computed in an
earlier month than today's is stale: ``quota_states_refresh_stale`` recomputes those before a
filter reads them (at most once a month, right after midnight on the first, when the job has
not run yet).
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from allocations.models import Allocation, AllocationResource
from allocations.quota import MonthState
from allocations.selectors.ledger import (
    ResourceLedger,
    monthly_sums_by_allocation,
    resource_ledgers,
    today_for,
)


def use_percent(ledger: ResourceLedger) -> Decimal | None:
    """Usage so far as a percentage of the award's even share of the months begun (None
    before the period starts or for a resource without a quota)."""
    expected = ledger.quota.expected_to_date
    if expected <= 0:
        return None
    return (ledger.totals.used * 100 / expected).quantize(Decimal(1))


def low_priority(ledger: ResourceLedger) -> bool:
    """This month of the quota runs at low priority (beyond its share and what it may
    borrow)."""
    month = ledger.quota.today
    return month is not None and month.state == MonthState.LOW_PRIORITY


def quota_states_refresh(
    allocations: QuerySet[Allocation] | Iterable[int], *, today: date | None = None
) -> int:
    """Recompute the state of every resource of ``allocations`` (a queryset, or ids) as of
    ``today`` (else each call's today); write the rows that changed. Returns how many.
    Three queries and one UPDATE per 1,000 changed rows, whatever the number."""
    if not isinstance(allocations, QuerySet):
        allocations = Allocation.objects.filter(pk__in=list(allocations))
    loaded = list(
        allocations.select_related("proposal__call").prefetch_related(
            Prefetch("resources", queryset=AllocationResource.objects.select_related("resource"))
        )
    )
    sums = monthly_sums_by_allocation(loaded)
    changed = []
    for allocation in loaded:
        day = today or today_for(allocation)
        rows = list(allocation.resources.all())
        ledgers = resource_ledgers(allocation, [r.resource for r in rows], sums[allocation.pk], day)
        for row, ledger in zip(rows, ledgers, strict=True):
            state = (day, low_priority(ledger), use_percent(ledger))
            if (row.state_on, row.low_priority, row.use_percent) != state:
                row.state_on, row.low_priority, row.use_percent = state
                changed.append(row)
    AllocationResource.objects.bulk_update(
        changed, ["state_on", "low_priority", "use_percent"], batch_size=1000
    )
    return len(changed)


def quota_states_refresh_stale(allocations: QuerySet[Allocation], *, month: date) -> int:
    """Refresh the resources of ``allocations`` whose state was computed before ``month``
    (the first day of the current month; the latest one when the calls' zones disagree), or
    never. One query when none is stale."""
    stale = allocations.filter(
        Q(resources__state_on__isnull=True) | Q(resources__state_on__lt=month)
    )
    ids = list(stale.order_by().values_list("pk", flat=True).distinct())
    return quota_states_refresh(ids) if ids else 0
