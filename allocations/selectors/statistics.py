"""Usage against award across allocations, for the statistics page (PRODUCT §9), registered
as ``proposals.decisions.hooks.usage_sources``: the ledger summed per unit in one query, and
the active allocations under their share of what was due so far (the managers' list's
under-use filter), the lowest first."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse

from allocations.enums import LedgerKind
from allocations.models import LedgerEntry
from allocations.selectors.manage import manager_allocations
from proposals.calls.models import Call
from proposals.decisions.hooks import UnderUser, UnitUsage, UsageStatistics

UNDER_USE_PERCENT = 50
UNDER_USERS_SHOWN = 25
ZERO = Decimal(0)


def usage_statistics(call: Call | None) -> UsageStatistics:
    entries = LedgerEntry.objects.all()
    if call is not None:
        entries = entries.filter(allocation__proposal__call=call)
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for unit, kind, total in (
        entries.order_by().values_list("resource__unit", "kind").annotate(total=Sum("amount"))
    ):
        sums[unit][kind] = total or ZERO
    units = [
        UnitUsage(
            unit=unit,
            awarded=kinds.get(LedgerKind.AWARD, ZERO) + kinds.get(LedgerKind.ADJUSTMENT, ZERO),
            used=-kinds.get(LedgerKind.USAGE, ZERO),
            forfeited=-kinds.get(LedgerKind.FORFEIT, ZERO),
        )
        for unit, kinds in sorted(sums.items())
    ]
    page, rows = manager_allocations(
        call=call, under_use=UNDER_USE_PERCENT, per_page=UNDER_USERS_SHOWN
    )
    under = sorted(
        (
            UnderUser(
                account=row.allocation.account,
                url=reverse("manage_allocation", args=[row.allocation.pk]),
                pi=row.allocation.pi.display_name,
                resource=line.resource.name,
                used_percent=line.use_percent,
            )
            for row in rows
            for line in row.lines
            if line.use_percent is not None and line.use_percent < UNDER_USE_PERCENT
        ),
        key=lambda under_user: (under_user.used_percent, under_user.account),
    )
    return UsageStatistics(
        units=units,
        under_users=under,
        under_users_count=page.paginator.count,
        under_use_percent=UNDER_USE_PERCENT,
    )
