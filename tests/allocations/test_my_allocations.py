"""My allocations (PRODUCT §8): every allocation a researcher leads or is a current member of,
with exact figures per resource, this month's quota and state, the period's and the final
report's state; call managers also see the requests waiting for a decision."""

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.enums import RequestKind
from allocations.quota import MonthState
from allocations.selectors.researcher import ReportState, my_allocations
from allocations.services.members import allocation_member_remove
from allocations.services.requests import allocation_request_create
from tests.allocation_factories import add_usage, make_allocation
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
URL = reverse("my_allocations")


def month_start(offset: int) -> date:
    """The first day of the month ``offset`` months from this one (the call's zone)."""
    today = timezone.localdate(timezone=BERLIN)
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def running(pi, *, members=(), awarded=None, acronym=""):
    """A 12-month allocation that started two months ago (this month is its third)."""
    return make_allocation(
        pi=pi,
        awarded=awarded,
        start=month_start(-2),
        end=month_start(10) - timedelta(days=1),
        members=list(members),
        acronym=acronym,
    )


@pytest.fixture
def allocation(pi, coi, booster):
    allocation = running(pi, members=[coi], awarded={booster: 12_000}, acronym="moe")
    add_usage(allocation, booster, 500, on=month_start(-2) + timedelta(days=9), user=pi)
    add_usage(allocation, booster, 800, on=month_start(-1) + timedelta(days=9), user=coi)
    add_usage(allocation, booster, 300, on=month_start(0), user=coi)
    return allocation


def test_the_figures_per_resource_are_exact(allocation, pi, booster):
    [row] = my_allocations(user=pi)

    [line] = row.lines
    assert (line.resource, line.totals.awarded, line.totals.used, line.totals.balance) == (
        booster,
        Decimal(12_000),
        Decimal(1_600),
        Decimal(10_400),
    )
    # 1,000 a month: 500 of month 1 carried over; month 2 used those 500 and 300 of its own,
    # so 700 come into this month on top of its 1,000.
    today = line.quota.today
    assert (today.quota, today.used, today.left, today.state) == (
        Decimal(1_700),
        Decimal(300),
        Decimal(1_400),
        MonthState.NORMAL,
    )
    assert (row.period, row.report.state, row.is_pi) == ("active", ReportState.NOT_YET, True)


def test_the_page_shows_the_figures(client, allocation, pi):
    client.force_login(pi)

    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="{reverse("allocation_detail", args=[allocation.pk])}"' in page
    assert f"<code>{allocation.account}</code>" in page
    for label, value in [
        ("Awarded", "12,000"),
        ("Used", "1,600"),
        ("Left", "10,400"),
        ("This month's quota", "1,700"),
        ("Used this month", "300"),
        ("Left this month", "<span>1,400"),
    ]:
        assert f'data-label="{label}">{value}' in page
    assert '<span class="badge badge-success">Normal</span>' in page
    assert "Principal investigator" in page


def test_a_member_sees_the_allocation_with_its_pi(client, allocation, coi):
    client.force_login(coi)

    page = client.get(URL).content.decode()

    assert f"<code>{allocation.account}</code>" in page
    assert "Member (led by Paula Investigator)" in page


def test_a_removed_member_no_longer_sees_it(client, allocation, pi, coi):
    allocation_member_remove(membership=allocation.members.get(user=coi), by=pi)
    client.force_login(coi)

    page = client.get(URL).content.decode()

    assert allocation.account not in page
    assert "You have no allocations yet." in page


def test_someone_else_sees_none(client, allocation, outsider):
    client.force_login(outsider)

    page = client.get(URL).content.decode()

    assert allocation.account not in page
    assert my_allocations(user=outsider) == []


def test_low_priority_shows_as_the_state(client, pi, booster):
    allocation = running(pi, awarded={booster: 1_200})
    add_usage(allocation, booster, 400, on=month_start(0), user=pi)

    [row] = my_allocations(user=pi)

    today = row.lines[0].quota.today
    # Available: 100 carried from last month + 100 of its own; borrowing one more share makes
    # 300 at normal priority; the last 100 run at low priority.
    assert (today.quota, today.used, today.left, today.state) == (
        Decimal(200),
        Decimal(400),
        Decimal(0),
        MonthState.LOW_PRIORITY,
    )
    client.force_login(pi)
    assert (
        '<span class="badge badge-warning">Low priority</span>' in client.get(URL).content.decode()
    )


def test_period_and_report_states(pi, booster):
    today = timezone.localdate(timezone=BERLIN)
    upcoming = make_allocation(
        pi=pi, start=today + timedelta(days=10), end=today + timedelta(days=375)
    )
    ended = make_allocation(
        pi=pi, start=today - timedelta(days=400), end=today - timedelta(days=10)
    )

    rows = {row.allocation.pk: row for row in my_allocations(user=pi)}

    assert (rows[upcoming.pk].period, rows[upcoming.pk].report.state) == ("upcoming", "not_yet")
    assert (rows[ended.pk].period, rows[ended.pk].report.state) == ("ended", "due")
    assert rows[ended.pk].report.due == today - timedelta(days=10) + timedelta(weeks=8)
    assert rows[upcoming.pk].lines[0].quota.today is None


def test_an_ended_allocation_shows_when_the_report_is_due(client, pi):
    today = timezone.localdate(timezone=BERLIN)
    end = today - timedelta(days=3)
    make_allocation(pi=pi, start=end - timedelta(days=364), end=end)
    client.force_login(pi)

    page = client.get(URL).content.decode()

    due = (end + timedelta(weeks=8)).strftime("%-d %b %Y")
    assert f"Final report due by {due}" in page
    assert "Upload the final report" in page


def test_the_list_runs_the_same_queries_for_one_and_three_allocations(client, pi, booster):
    gpu = make_resource("juwels", name="JUWELS Cluster", unit="core-hours")
    client.force_login(pi)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    first = running(pi, awarded={booster: 1_200})
    add_usage(first, booster, 10, on=month_start(0))
    one = count()
    for _ in range(2):
        other = running(pi, awarded={booster: 2_400, gpu: 100})
        add_usage(other, gpu, 5, on=month_start(-1), user=pi)
    three = count()

    assert len(my_allocations(user=pi)) == 3
    assert one == three


def test_managers_see_the_pending_requests(client, manager, allocation, pi, booster):
    request = allocation_request_create(
        allocation=allocation,
        by=pi,
        kind=RequestKind.MORE_HOURS,
        reason="A second ablation study.",
        resource=booster,
        amount=Decimal(2_000),
    )
    client.force_login(manager)

    page = client.get(URL).content.decode()

    assert "Requests waiting for a decision" in page
    assert "2,000 more GPU-hours of JUPITER Booster" in page
    assert f'action="{reverse("request_decide", args=[request.pk])}"' in page


def test_researchers_do_not_see_the_managers_list(client, allocation, pi):
    client.force_login(pi)

    assert "Requests waiting for a decision" not in client.get(URL).content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_post_is_not_allowed(client, pi):
    client.force_login(pi)

    assert client.post(URL).status_code == 405


def test_the_nav_links_my_allocations(client, pi):
    client.force_login(pi)

    page = client.get(URL).content.decode()

    assert f'<a href="{URL}" aria-current="page">My allocations</a>' in page


def test_a_member_who_is_also_pi_elsewhere_sees_both(client, allocation, coi, booster):
    own = running(coi, awarded={booster: 100})
    other_pi = make_user("other@uni.example")
    joined = running(other_pi, members=[coi], awarded={booster: 100})

    rows = my_allocations(user=coi)

    assert {row.allocation.pk: row.is_pi for row in rows} == {
        allocation.pk: False,
        own.pk: True,
        joined.pk: False,
    }


def test_the_managers_list_runs_the_same_queries_for_one_and_three_requests(
    client, manager, pi, booster
):
    client.force_login(manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    def ask(allocation) -> None:
        allocation_request_create(
            allocation=allocation,
            by=pi,
            kind=RequestKind.EXTENSION,
            new_end=allocation.end + timedelta(days=90),
            reason="Late data.",
        )

    ask(running(pi, awarded={booster: 1_200}))
    one = count()
    ask(running(pi, awarded={booster: 1_200}))
    ask(running(pi, awarded={booster: 1_200}))
    three = count()

    assert one == three
    assert client.get(URL).content.decode().count("Decide request #") == 3
