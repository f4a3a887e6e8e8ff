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
from allocations.selectors.manage import under_used_lines
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
    lines, count = under_used_lines(call=call, percent=UNDER_USE_PERCENT, limit=UNDER_USERS_SHOWN)
    under = [
        UnderUser(
            account=line.allocation.account,
            url=reverse("manage_allocation", args=[line.allocation_id]),
            pi=line.allocation.pi.display_name,
            resource=line.resource.name,
            used_percent=line.use_percent or Decimal(0),  # never None: filtered on it
        )
        for line in lines
    ]
    return UsageStatistics(
        units=units,
        under_users=under,
        under_users_count=count,
        under_use_percent=UNDER_USE_PERCENT,
    )
