"""Properties of the quota that hold for any usage (hypothesis)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from allocations.quota import QuotaEntry, months_of, quota_months

START, END = date(2027, 5, 1), date(2028, 4, 30)
AFTER = date(2028, 5, 1)

days = st.integers(min_value=0, max_value=(END - START).days).map(
    lambda n: START + timedelta(days=n)
)
hours = st.integers(min_value=0, max_value=5_000).map(Decimal)
usage = st.lists(st.tuples(days, hours), max_size=40)
awards = st.integers(min_value=1, max_value=100_000).map(Decimal)
increases = st.lists(st.tuples(days, st.integers(1, 5_000).map(Decimal)), max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    award=awards,
    used=usage,
    added=increases,
    today=days,
    policy=st.sampled_from(["monthly", "whole_period"]),
)
def test_normal_usage_plus_forfeits_is_what_was_awarded(award, used, added, today, policy):
    entries = [QuotaEntry("award", award, START)]
    entries += [QuotaEntry("adjustment", amount, on) for on, amount in added]
    entries += [QuotaEntry("usage", -amount, on) for on, amount in used]

    result = quota_months(start=START, end=END, policy=policy, entries=entries, today=today)

    total = award + sum((amount for _, amount in added), Decimal(0))
    assert result.awarded == total
    # Once every month is over (months not begun show no forfeit yet):
    final = quota_months(start=START, end=END, policy=policy, entries=entries, today=AFTER)
    assert sum(m.used_normal for m in final.months) + final.forfeited == total
    assert all(m.forfeited == 0 for m in result.months if m.time == "future")
    assert sum(m.used for m in result.months) == sum((a for _, a in used), Decimal(0))
    assert sum(m.share for m in result.months) == total
    for index, month in enumerate(result.months):
        assert month.available >= 0 and month.carried >= 0 and month.forfeited >= 0
        assert 0 <= month.low_priority <= month.used
        assert month.used_normal <= month.available + month.borrowed
        if index + 1 < len(result.months):
            assert month.borrowed <= result.months[index + 1].share
            if policy == "monthly":  # carried over: only what is left of a month's own share
                assert result.months[index + 1].carried <= month.share
        else:
            assert month.borrowed == 0
        if policy == "whole_period":
            assert month.borrowed == 0
    assert [m.month for m in result.months] == months_of(START, END)
