"""The quota, worked out month by month (PRODUCT §8; the rules are in ``allocations.quota``).

Every example: a 12-month period (May 2027 – April 2028), an award of 12,000 GPU-hours, so a
monthly share of 1,000. Each table is what the researcher's and the manager's pages show:

    share      the month's part of the award
    carried    unused own share of the previous month (expires at the end of this month)
    available  carried + share − what the previous month borrowed
    used       all usage in the month
    borrowed   taken from next month's share (normal priority)
    low        the part of ``used`` that ran at low priority
    forfeited  lost at the end of the month
"""

from datetime import date
from decimal import Decimal

from allocations.quota import (
    MonthState,
    MonthTime,
    QuotaEntry,
    QuotaResult,
    QuotaSummary,
    months_of,
    quota_months,
)

START, END = date(2027, 5, 1), date(2028, 4, 30)
MONTHS = months_of(START, END)
AFTER_THE_END = date(2028, 6, 1)
COLUMNS = ("share", "carried", "available", "used", "borrowed", "low", "forfeited", "state")


def table(text: str) -> list[tuple]:
    """Rows of a table written out below: "2027-05  1,000  0 … normal" → typed tuples."""
    rows = []
    for line in text.strip().splitlines()[1:]:  # the first line is the header
        month, *numbers, state = line.split()
        rows.append((month, *(Decimal(n.replace(",", "")) for n in numbers), state))
    return rows


def rows(result: QuotaResult) -> list[tuple]:
    return [
        (
            m.month.strftime("%Y-%m"),
            m.share,
            m.carried,
            m.available,
            m.used,
            m.borrowed,
            m.low_priority,
            m.forfeited,
            "low" if m.state == MonthState.LOW_PRIORITY else "normal",
        )
        for m in result.months
    ]


def run(
    used: list[int],
    *,
    today: date = AFTER_THE_END,
    policy: str = "monthly",
    extra: tuple[QuotaEntry, ...] = (),
) -> QuotaResult:
    """The award on the first day, and ``used[i]`` hours on the 10th of month i."""
    entries = [QuotaEntry("award", Decimal(12_000), START), *extra]
    for month, hours in zip(MONTHS, used, strict=False):
        if hours:
            entries.append(QuotaEntry("usage", -Decimal(hours), month.replace(day=10)))
    return quota_months(start=START, end=END, policy=policy, entries=entries, today=today)


def test_a_project_that_uses_nothing_carries_one_month_then_forfeits():
    result = run([0] * 12)

    assert rows(result) == table("""
        month    share  carried  available  used  borrowed  low  forfeited  state
        2027-05  1,000        0      1,000     0         0    0          0  normal
        2027-06  1,000    1,000      2,000     0         0    0      1,000  normal
        2027-07  1,000    1,000      2,000     0         0    0      1,000  normal
        2027-08  1,000    1,000      2,000     0         0    0      1,000  normal
        2027-09  1,000    1,000      2,000     0         0    0      1,000  normal
        2027-10  1,000    1,000      2,000     0         0    0      1,000  normal
        2027-11  1,000    1,000      2,000     0         0    0      1,000  normal
        2027-12  1,000    1,000      2,000     0         0    0      1,000  normal
        2028-01  1,000    1,000      2,000     0         0    0      1,000  normal
        2028-02  1,000    1,000      2,000     0         0    0      1,000  normal
        2028-03  1,000    1,000      2,000     0         0    0      1,000  normal
        2028-04  1,000    1,000      2,000     0         0    0      2,000  normal
    """)
    assert result.forfeited == Decimal(12_000)
    assert result.awarded == Decimal(12_000)


def test_a_project_that_spends_evenly_forfeits_nothing():
    result = run([1_000] * 12)

    assert rows(result) == table("""
        month    share  carried  available  used   borrowed  low  forfeited  state
        2027-05  1,000        0      1,000  1,000         0    0          0  normal
        2027-06  1,000        0      1,000  1,000         0    0          0  normal
        2027-07  1,000        0      1,000  1,000         0    0          0  normal
        2027-08  1,000        0      1,000  1,000         0    0          0  normal
        2027-09  1,000        0      1,000  1,000         0    0          0  normal
        2027-10  1,000        0      1,000  1,000         0    0          0  normal
        2027-11  1,000        0      1,000  1,000         0    0          0  normal
        2027-12  1,000        0      1,000  1,000         0    0          0  normal
        2028-01  1,000        0      1,000  1,000         0    0          0  normal
        2028-02  1,000        0      1,000  1,000         0    0          0  normal
        2028-03  1,000        0      1,000  1,000         0    0          0  normal
        2028-04  1,000        0      1,000  1,000         0    0          0  normal
    """)
    assert result.forfeited == 0


def test_a_project_that_borrows_takes_it_from_the_next_month_at_normal_priority():
    # July uses 1,500: its 1,000 and 500 borrowed from August, which has 500 left.
    result = run([1_000, 1_000, 1_500, 500] + [1_000] * 8)

    assert rows(result)[:5] == table("""
        month    share  carried  available  used   borrowed  low  forfeited  state
        2027-05  1,000        0      1,000  1,000         0    0          0  normal
        2027-06  1,000        0      1,000  1,000         0    0          0  normal
        2027-07  1,000        0      1,000  1,500       500    0          0  normal
        2027-08  1,000        0        500    500         0    0          0  normal
        2027-09  1,000        0      1,000  1,000         0    0          0  normal
    """)
    assert result.forfeited == 0


def test_the_summary_of_a_month_that_borrows():
    result = run([1_000, 1_000, 1_500], today=date(2027, 7, 20))

    assert result.today == QuotaSummary(
        month=date(2027, 7, 1),
        quota=Decimal(1_000),
        used=Decimal(1_500),
        left=Decimal(0),
        can_borrow=Decimal(500),
        state=MonthState.NORMAL,
    )
    assert [m.time for m in result.months[1:4]] == [
        MonthTime.PAST,
        MonthTime.CURRENT,
        MonthTime.FUTURE,
    ]
    # May, June and July have begun: 3 shares.
    assert result.expected_to_date == Decimal(3_000)


def test_a_project_that_overdraws_runs_at_low_priority_beyond_one_borrowed_share():
    # July uses 2,500: 1,000 of its own, 1,000 borrowed from August, 500 at low priority.
    # August has nothing left of its own; the low-priority 500 takes nothing from later.
    result = run([1_000, 1_000, 2_500, 0] + [1_000] * 8)

    assert rows(result)[:5] == table("""
        month    share  carried  available  used   borrowed  low  forfeited  state
        2027-05  1,000        0      1,000  1,000         0    0          0  normal
        2027-06  1,000        0      1,000  1,000         0    0          0  normal
        2027-07  1,000        0      1,000  2,500     1,000  500          0  low
        2027-08  1,000        0          0      0         0    0          0  normal
        2027-09  1,000        0      1,000  1,000         0    0          0  normal
    """)
    assert result.forfeited == 0
    assert sum(m.used for m in result.months) == Decimal(12_500)


def test_the_summary_of_a_month_at_low_priority():
    result = run([1_000, 1_000, 2_500], today=date(2027, 7, 31))

    assert result.today == QuotaSummary(
        month=date(2027, 7, 1),
        quota=Decimal(1_000),
        used=Decimal(2_500),
        left=Decimal(0),
        can_borrow=Decimal(0),
        state=MonthState.LOW_PRIORITY,
    )


def test_usage_takes_the_carried_over_hours_first_as_they_expire_first():
    # May leaves 600, carried into June. June uses 800: the 600 carried, then 200 of its own;
    # nothing expires, and the 800 left of June's own share is carried into July.
    result = run([400, 800, 0])

    assert rows(result)[:4] == table("""
        month    share  carried  available  used  borrowed  low  forfeited  state
        2027-05  1,000        0      1,000   400         0    0          0  normal
        2027-06  1,000      600      1,600   800         0    0          0  normal
        2027-07  1,000      800      1,800     0         0    0        800  normal
        2027-08  1,000    1,000      2,000     0         0    0      1,000  normal
    """)


def test_the_last_month_cannot_borrow_beyond_its_available_is_low_priority():
    result = run([1_000] * 11 + [1_500])

    assert rows(result)[-2:] == table("""
        month    share  carried  available  used   borrowed  low  forfeited  state
        2028-03  1,000        0      1,000  1,000         0    0          0  normal
        2028-04  1,000        0      1,000  1,500         0  500          0  low
    """)
    summary = run([1_000] * 11 + [800], today=date(2028, 4, 15)).today
    assert (summary.quota, summary.used, summary.left, summary.can_borrow) == (
        Decimal(1_000),
        Decimal(800),
        Decimal(200),
        Decimal(0),
    )


def test_at_the_end_of_the_period_everything_left_is_forfeited():
    # March leaves 600 (carried into April); April uses 300 of it: the other 300 and all of
    # April's own 1,000 are forfeited when the period ends.
    result = run([1_000] * 10 + [400, 300])

    assert rows(result)[-3:] == table("""
        month    share  carried  available  used   borrowed  low  forfeited  state
        2028-02  1,000        0      1,000  1,000         0    0          0  normal
        2028-03  1,000        0      1,000    400         0    0          0  normal
        2028-04  1,000      600      1,600    300         0    0      1,300  normal
    """)
    assert result.forfeited == Decimal(1_300)
    assert sum(m.used_normal for m in result.months) + result.forfeited == Decimal(12_000)


def test_whole_period_is_one_bucket_low_priority_once_it_is_used_up():
    result = run([3_000, 3_000, 3_000, 3_000, 1_000], policy="whole_period")

    assert rows(result) == table("""
        month     share  carried  available  used   borrowed    low  forfeited  state
        2027-05  12,000        0     12,000  3,000         0      0          0  normal
        2027-06       0    9,000      9,000  3,000         0      0          0  normal
        2027-07       0    6,000      6,000  3,000         0      0          0  normal
        2027-08       0    3,000      3,000  3,000         0      0          0  normal
        2027-09       0        0          0  1,000         0  1,000          0  low
        2027-10       0        0          0      0         0      0          0  normal
        2027-11       0        0          0      0         0      0          0  normal
        2027-12       0        0          0      0         0      0          0  normal
        2028-01       0        0          0      0         0      0          0  normal
        2028-02       0        0          0      0         0      0          0  normal
        2028-03       0        0          0      0         0      0          0  normal
        2028-04       0        0          0      0         0      0          0  normal
    """)


def test_whole_period_forfeits_what_is_left_at_the_end_only():
    result = run([2_000, 0, 0, 1_000], policy="whole_period")

    assert [m.forfeited for m in result.months] == [Decimal(0)] * 11 + [Decimal(9_000)]
    summary = run([2_000], policy="whole_period", today=date(2027, 6, 5)).today
    assert (summary.quota, summary.used, summary.left, summary.can_borrow, summary.state) == (
        Decimal(10_000),
        Decimal(0),
        Decimal(10_000),
        Decimal(0),
        MonthState.NORMAL,
    )


def test_an_adjustment_changes_the_months_from_its_own_on():
    # +1,200 on 10 November (month 7 of 12): 200 more in each of the last six months.
    extra = (QuotaEntry("adjustment", Decimal(1_200), date(2027, 11, 10)),)
    result = run([1_000] * 12, extra=extra)

    assert [m.share for m in result.months] == [Decimal(1_000)] * 6 + [Decimal(1_200)] * 6
    assert result.awarded == Decimal(13_200)
    # Carried-over hours go first, so the extra 200 a month is carried on, not lost, until the
    # period ends.
    assert [m.carried for m in result.months[6:]] == [
        Decimal(n) for n in (0, 200, 400, 600, 800, 1_000)
    ]
    assert [m.forfeited for m in result.months] == [Decimal(0)] * 11 + [Decimal(1_200)]


def test_a_reduction_lowers_the_remaining_months():
    extra = (QuotaEntry("adjustment", Decimal(-3_000), date(2028, 2, 1)),)
    result = run([1_000] * 9, extra=extra)

    assert [m.share for m in result.months[-4:]] == [Decimal(1_000)] + [Decimal(0)] * 3
    assert result.forfeited == Decimal(0)


def test_an_uneven_award_is_split_to_the_cent_the_remainder_in_the_last_month():
    entries = [QuotaEntry("award", Decimal(10_000), START)]
    result = quota_months(start=START, end=END, policy="monthly", entries=entries, today=START)

    assert [m.share for m in result.months] == [Decimal("833.33")] * 11 + [Decimal("833.37")]


def test_forfeit_entries_are_not_input_and_usage_outside_the_period_is_clamped():
    entries = [
        QuotaEntry("award", Decimal(12_000), date(2027, 4, 30)),  # the evening before, in UTC
        QuotaEntry("forfeit", Decimal(-1_000), date(2027, 6, 30)),
        QuotaEntry("usage", Decimal(-100), date(2028, 5, 2)),
    ]
    result = quota_months(
        start=START, end=END, policy="monthly", entries=entries, today=date(2027, 4, 1)
    )

    assert result.months[0].share == Decimal(1_000)
    assert result.months[-1].used == Decimal(100)
    assert result.today is None
    assert result.expected_to_date == 0
    assert {m.time for m in result.months} == {MonthTime.FUTURE}


def test_a_period_that_starts_and_ends_mid_month_counts_every_month_it_touches():
    entries = [QuotaEntry("award", Decimal(1_300), date(2027, 5, 15))]
    result = quota_months(
        start=date(2027, 5, 15),
        end=date(2028, 5, 14),
        policy="monthly",
        entries=entries,
        today=date(2027, 5, 20),
    )

    assert len(result.months) == 13
    assert result.months[0].share == Decimal(100)


def test_before_a_mid_month_start_nothing_is_due_yet():
    entries = [QuotaEntry("award", Decimal(1_300), date(2027, 5, 15))]

    def on(today: date) -> QuotaResult:
        return quota_months(
            start=date(2027, 5, 15),
            end=date(2028, 5, 14),
            policy="monthly",
            entries=entries,
            today=today,
        )

    assert (on(date(2027, 5, 10)).today, on(date(2027, 5, 10)).expected_to_date) == (None, 0)
    assert on(date(2027, 5, 20)).expected_to_date == Decimal(100)
    assert on(date(2028, 5, 20)).expected_to_date == Decimal(1_300)
