"""The quota's state kept on each allocation's resource (``allocations.services.quota_state``):
written by every change to the ledger, recomputed when a month has begun since, and what the
managers' filters read in SQL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from allocations.models import AllocationResource
from allocations.selectors.manage import LOW_PRIORITY, manager_allocations
from allocations.services.ledger import allocation_adjust
from allocations.services.quota_state import quota_states_refresh
from tests.allocation_factories import add_usage, make_allocation, period_around_today, this_month

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(pi, booster):
    """12,000 over a year begun two months ago: 1,000 a month is the even share."""
    start, end = period_around_today(started_months_ago=2)
    return make_allocation(pi=pi, acronym="alpha", awarded={booster: 12_000}, start=start, end=end)


def state(allocation) -> tuple:
    row = AllocationResource.objects.get(allocation=allocation)
    return row.low_priority, row.use_percent


def test_an_award_starts_unused_and_usage_moves_the_state(alpha, booster):
    assert state(alpha) == (False, Decimal(0))
    add_usage(alpha, booster, 1_500, on=this_month(-1))
    assert state(alpha) == (False, Decimal(50))  # 1,500 of the 3,000 due by this month
    add_usage(alpha, booster, 3_500, on=this_month())  # beyond this month's share and the next
    assert state(alpha) == (True, Decimal(167))


def test_an_adjustment_through_the_service_refreshes_it(alpha, booster, manager):
    add_usage(alpha, booster, 1_500, on=this_month())
    before = state(alpha)
    allocation_adjust(
        allocation=alpha, resource=booster, amount=Decimal(12_000), reason="Extra", by=manager
    )
    assert state(alpha) != before
    # 1,500 of 4,200 due: 3 × 1,000 of the award, and this month's 1,200 of the 12,000 added
    # (spread over the ten months left)
    assert state(alpha)[1] == Decimal(36)


def test_a_state_of_an_earlier_month_is_recomputed_before_a_filter_reads_it(alpha, booster):
    """Right after midnight on the first, before the hourly job: the filter refreshes it."""
    add_usage(alpha, booster, 3_500, on=this_month())
    AllocationResource.objects.filter(allocation=alpha).update(
        low_priority=False, use_percent=Decimal(100), state_on=this_month() - timedelta(days=1)
    )
    page, rows = manager_allocations(state=LOW_PRIORITY)
    assert [row.allocation.proposal.acronym for row in rows] == ["alpha"]
    row = AllocationResource.objects.get(allocation=alpha)
    assert (row.low_priority, row.state_on >= this_month()) == (True, True)


def test_a_fresh_state_is_what_the_filter_reads(alpha, booster, manager, client):
    """The filter is a WHERE clause on the kept state (no month computed for the others)."""
    add_usage(alpha, booster, 3_500, on=this_month())
    quota_states_refresh([alpha.pk])
    AllocationResource.objects.filter(allocation=alpha).update(low_priority=False)
    assert manager_allocations(state=LOW_PRIORITY)[1] == []
    quota_states_refresh([alpha.pk])
    rows = manager_allocations(state=LOW_PRIORITY)[1]
    assert [row.allocation.proposal.acronym for row in rows] == ["alpha"]


def test_the_hourly_job_refreshes_every_active_allocation(alpha, booster):
    from allocations.services.quota import quota_evaluate

    AllocationResource.objects.filter(allocation=alpha).update(state_on=None, use_percent=None)
    quota_evaluate()
    assert state(alpha) == (False, Decimal(0))


def test_the_statistics_page_lists_the_under_users_from_the_kept_state(
    alpha, booster, manager_client
):
    add_usage(alpha, booster, 300, on=this_month())  # 300 of 3,000 due: 10 %
    response = manager_client.get(reverse("manage_statistics"))
    under = response.context["usage"].under_users
    assert [(u.account, u.used_percent) for u in under] == [(alpha.account, Decimal(10))]


def test_a_usage_import_refreshes_the_allocations_it_charged(alpha, booster):
    """1,000 GPU-hours (250 h on 4 GPUs) this month: beyond this month's share and the
    next one's, so at low priority; 1,000 of the 3,000 due so far."""
    from allocations.services.usage_import import usage_import

    header = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"
    day = f"{this_month():%Y-%m-%d}"
    job = f"1|jupiter|{alpha.account}|pi|booster|COMPLETED|{day}T00:00:00|{day}T12:00:00|"
    report = usage_import(lines=[header, job + "900000|gres/gpu=4"], cluster="jupiter")

    assert "Jobs charged: 1" in str(report), str(report)
    assert state(alpha) == (False, Decimal(33))
