"""The quota of one resource of one allocation, month by month (PRODUCT §8). Pure: no ORM.

``quota_months`` takes the ledger entries of the resource (as ``QuotaEntry``: kind, amount, the
date it counts on in the call's time zone), the period, the call's policy and "today", and
returns a ``QuotaResult``: one ``MonthState`` per calendar month the period touches and a
``QuotaSummary`` for today's month.

Monthly policy (JSC-style)
--------------------------
* **Shares.** The award is split evenly over the months (to the cent; the last month takes the
  remainder so the shares add up exactly). An adjustment is split evenly over the months from
  its own month to the end: it changes what is still to come, never months already over. An
  award or adjustment dated before the start counts from the first month, one after the end in
  the last month.
* **Carry-over, one month only.** What is left of a month's own share at its end is available
  in the next month and forfeited at the end of that month if still unused.
* **Order of consumption.** Usage first consumes what was carried over (it expires first), then
  the month's own share, then borrows.
* **Borrowing.** Beyond what is available, a month may use up to one more monthly share (the
  next month's share) at normal priority; that amount is taken from the next month's own share.
  No borrowing in the last month.
* **Low priority.** Usage beyond the available amount plus what may be borrowed runs at low
  priority for the rest of the month. It is counted as used (and is in the ledger's balance),
  but takes nothing from later months: it ran on time nobody else wanted.
* **Forfeit.** At the end of each month the unused carry-over is forfeited; at the end of the
  last month everything left is.

Hence, for any ledger with no reductions: the normal-priority usage plus everything forfeited
equals the award; low-priority usage is on top.

Whole-period policy
-------------------
One bucket: each month has what was left at the end of the previous one, plus any award or
adjustment of that month; usage beyond it is at low priority; nothing is borrowed; whatever is
left at the end of the period is forfeited.

Forfeit entries in the ledger record what this function computes; they are not an input (they
are ignored), so computing again after they are written gives the same months.

Months after today are a projection with no further usage; they show no forfeit (nothing can be
forfeited of a month that has not begun). Only consumable resources (compute time) have a
quota: for the others (storage, ``consumable=False``) there are no months. The summary is None
before the period starts and after it ends.

The months are the calendar months the period touches (a period from 15 May to 14 May has 13).
The period is the allocation's, so an approved extension (a later ``end``) spreads the award over
more months, past ones included: the table is recomputed, not kept.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from allocations.enums import LedgerKind
from proposals.calls.enums import QuotaPolicy

ZERO = Decimal(0)
CENT = Decimal("0.01")


class MonthState(StrEnum):
    NORMAL = "normal"
    LOW_PRIORITY = "low_priority"


class MonthTime(StrEnum):
    """Where the month is relative to today."""

    PAST = "past"
    CURRENT = "current"
    FUTURE = "future"


@dataclass(frozen=True)
class QuotaEntry:
    """A ledger entry as the quota sees it: ``amount`` is signed as in the ledger (usage ≤ 0)."""

    kind: str
    amount: Decimal
    on: date


@dataclass(frozen=True)
class Month:
    """One calendar month of the period.

    ``available`` = ``carried`` + ``share`` − what the previous month borrowed.
    ``used`` is all usage of the month, ``low_priority`` the part of it beyond
    ``available`` + what could be borrowed; ``borrowed`` is taken from the next month's share.
    ``forfeited`` is forfeited at the end of the month.
    """

    month: date
    share: Decimal
    carried: Decimal
    available: Decimal
    used: Decimal
    borrowed: Decimal
    low_priority: Decimal
    forfeited: Decimal
    state: MonthState
    time: MonthTime

    @property
    def used_normal(self) -> Decimal:
        return self.used - self.low_priority


@dataclass(frozen=True)
class QuotaSummary:
    """Today's month: the quota (what is available this month), used so far, left of the quota
    (never below zero), what may still be borrowed from next month, and the state."""

    month: date
    quota: Decimal
    used: Decimal
    left: Decimal
    can_borrow: Decimal
    state: MonthState


@dataclass(frozen=True)
class QuotaResult:
    policy: str
    awarded: Decimal
    months: list[Month]
    today: QuotaSummary | None
    expected_to_date: Decimal

    @property
    def forfeited(self) -> Decimal:
        return sum((m.forfeited for m in self.months), ZERO)

    @property
    def used(self) -> Decimal:
        return sum((m.used for m in self.months), ZERO)

    @property
    def low_priority(self) -> Decimal:
        return sum((m.low_priority for m in self.months), ZERO)


def months_of(start: date, end: date) -> list[date]:
    """The first day of every calendar month from ``start``'s to ``end``'s, both included."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _index(months: list[date], on: date) -> int:
    """The month ``on`` falls in, clamped to the period."""
    key = date(on.year, on.month, 1)
    if key <= months[0]:
        return 0
    if key >= months[-1]:
        return len(months) - 1
    return months.index(key)


def _spread(amount: Decimal, count: int) -> list[Decimal]:
    """``amount`` split evenly over ``count`` months, to the cent, the remainder in the last."""
    each = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    if amount < 0:
        each = -((-amount / count).quantize(CENT, rounding=ROUND_DOWN))
    return [each] * (count - 1) + [amount - each * (count - 1)]


def _by_month(
    months: list[date], entries: list[QuotaEntry]
) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """The ledger by month: the even split of the award and adjustments over the months from
    the one each counts in (for both policies: the expected pace), the award and adjustments
    in the month they count, and the usage."""
    n = len(months)
    monthly_shares = [ZERO] * n
    added = [ZERO] * n
    usage = [ZERO] * n
    for entry in entries:
        i = _index(months, entry.on)
        if entry.kind in (LedgerKind.AWARD, LedgerKind.ADJUSTMENT):
            added[i] += entry.amount
            for k, part in enumerate(_spread(entry.amount, n - i)):
                monthly_shares[i + k] += part
        elif entry.kind == LedgerKind.USAGE:
            usage[i] += -entry.amount
    return monthly_shares, added, usage


def _time(index: int, now: int | None) -> MonthTime:
    """Whether the month at ``index`` is past, current or to come (``now``: today's month,
    None before the period, past the last index after it)."""
    if now is None or now < index:
        return MonthTime.FUTURE
    if now == index:
        return MonthTime.CURRENT
    return MonthTime.PAST


def _summary(month: Month, may_borrow: Decimal) -> QuotaSummary:
    """Today's month as the pages sum it up; ``may_borrow``: next month's share (monthly
    policy, not the last month), of which the month has borrowed some already."""
    return QuotaSummary(
        month=month.month,
        quota=month.available,
        used=month.used,
        left=max(ZERO, month.available - month.used),
        can_borrow=max(ZERO, may_borrow - month.borrowed),
        state=month.state,
    )


def quota_months(
    *,
    start: date,
    end: date,
    policy: str,
    entries: list[QuotaEntry],
    today: date,
    consumable: bool = True,
) -> QuotaResult:
    """The month-by-month quota of one resource over ``start``–``end`` (see the module)."""
    if not consumable:
        awarded = sum(
            (e.amount for e in entries if e.kind in (LedgerKind.AWARD, LedgerKind.ADJUSTMENT)),
            ZERO,
        )
        return QuotaResult(
            policy="none", awarded=awarded, months=[], today=None, expected_to_date=ZERO
        )
    months = months_of(start, end)
    n = len(months)
    monthly_shares, added, usage = _by_month(months, entries)
    awarded = sum(added, ZERO)
    now = _index(months, today) if start <= today <= end else None
    if today > end:
        now = n  # every month is past

    monthly = policy == QuotaPolicy.MONTHLY
    shares = monthly_shares if monthly else added
    result: list[Month] = []
    carried = ZERO
    borrowed_before = ZERO
    for i, month in enumerate(months):
        last = i == n - 1
        own = shares[i] - borrowed_before
        if own < 0:  # a reduction larger than the month's share eats into the carry-over
            carried, own = max(ZERO, carried + own), ZERO
        available = carried + own
        limit = max(ZERO, shares[i + 1]) if monthly and not last else ZERO
        used = usage[i]
        normal = min(used, available + limit)
        borrowed = max(ZERO, normal - available)
        from_carried = min(normal, carried)
        from_own = min(normal - from_carried, own)
        if monthly:
            left_over = carried - from_carried
            carried_next = own - from_own
            if last:
                left_over, carried_next = left_over + carried_next, ZERO
        else:
            left_over, carried_next = ZERO, available - normal
            if last:
                left_over, carried_next = carried_next, ZERO
        when = _time(i, now)
        result.append(
            Month(
                month=month,
                share=shares[i],
                carried=carried,
                available=available,
                used=used,
                borrowed=borrowed,
                low_priority=used - normal,
                forfeited=ZERO if when == MonthTime.FUTURE else left_over,
                state=MonthState.LOW_PRIORITY if used > normal else MonthState.NORMAL,
                time=when,
            )
        )
        carried, borrowed_before = carried_next, borrowed

    summary = None
    if now is not None and now < n:
        may_borrow = max(ZERO, shares[now + 1]) if monthly and now < n - 1 else ZERO
        summary = _summary(result[now], may_borrow)
    # The even split of the months begun by today: what a project using its award evenly
    # would have used (the managers' under-use filter compares usage with it).
    begun = 0 if now is None else min(n, now + 1)
    expected = sum(monthly_shares[:begun], ZERO)
    return QuotaResult(
        policy=policy, awarded=awarded, months=result, today=summary, expected_to_date=expected
    )
