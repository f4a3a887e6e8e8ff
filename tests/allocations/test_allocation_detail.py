"""One allocation's page (PRODUCT §8): the figures per resource, use per member, the quota month
by month and the chart; who may see it (PRODUCT §1.1)."""

import xml.etree.ElementTree as ET
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from allocations.selectors.researcher import allocation_page
from allocations.services.members import allocation_member_remove
from tests.allocation_factories import add_usage, make_allocation
from tests.conftest import make_manager, make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def month_start(offset: int) -> date:
    """The first day of the month ``offset`` months from this one (the call's zone)."""
    today = timezone.localdate(timezone=BERLIN)
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def storage():
    return make_resource("storage", name="Project storage", unit="TB", charge_rule="none")


@pytest.fixture
def allocation(pi, coi, booster, storage):
    """12 months from two months ago: 12,000 GPU-hours and 24 TB; the PI and the co-PI ran
    jobs; a former member too."""
    former = make_user("former@uni.example", full_name="Fiona Former")
    allocation = make_allocation(
        pi=pi,
        awarded={booster: 12_000, storage: 24},
        start=month_start(-2),
        end=month_start(10) - timedelta(days=1),
        members=[coi, former],
        acronym="moe",
    )
    add_usage(allocation, booster, 500, on=month_start(-2) + timedelta(days=9), user=pi)
    add_usage(allocation, booster, 800, on=month_start(-1) + timedelta(days=9), user=coi)
    add_usage(allocation, booster, 300, on=month_start(0), user=coi)
    add_usage(allocation, booster, 50, on=month_start(-1), user=former)
    allocation_member_remove(membership=allocation.members.get(user=former), by=pi)
    return allocation


def url(allocation) -> str:
    return reverse("allocation_detail", args=[allocation.pk])


def test_the_figures_and_the_use_per_member(allocation, pi, coi, booster, storage):
    page = allocation_page(allocation=allocation, user=pi)

    assert [
        (line.resource.code, line.totals.awarded, line.totals.used, line.totals.balance)
        for line in page.summary.lines
    ] == [
        ("jupiter-booster", Decimal(12_000), Decimal(1_650), Decimal(10_350)),
        ("storage", Decimal(24), Decimal(0), Decimal(24)),
    ]
    assert [
        (row.user.email, row.is_pi, row.is_current, [used for _, used in row.used])
        for row in page.members
    ] == [
        ("pi@uni.example", True, True, [Decimal(500), Decimal(0)]),
        ("coi@lab.example", False, True, [Decimal(1_100), Decimal(0)]),
        ("former@uni.example", False, False, [Decimal(50), Decimal(0)]),
    ]


def test_the_page_shows_figures_members_quota_and_chart(client, allocation, pi):
    client.force_login(pi)

    response = client.get(url(allocation))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-label="Awarded">12,000</td>' in page
    assert 'data-label="Used">1,650</td>' in page
    assert 'data-label="Left">10,350</td>' in page
    # This month: 650 carried (last month used the 500 carried into it and 350 of its own)
    # + 1,000 of its own; 300 used.
    assert 'data-label="This month\'s quota">1,650</td>' in page
    assert 'data-label="Left this month"><span>1,350' in page
    # Use per member, per resource.
    assert 'data-label="JUPITER Booster">1,100</td>' in page
    assert "Fiona Former" in page and "Former member" in page
    # The quota table, one row per month, this month marked; storage has no monthly quota.
    assert page.count('aria-current="date"') == 1
    assert (
        "Project storage (TB) is not used up by jobs: it has no monthly quota and nothing is "
        "forfeited." in page
    )
    # The chart, inline, one per resource, with its own ids.
    assert page.count("<svg ") == 2
    assert 'aria-labelledby="chart-' in page
    start = page.index("<svg ")
    svg = page[start : page.index("</svg>", start) + len("</svg>")]
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"  # noqa: S314 - our own


def test_a_member_sees_the_page_without_the_pi_tools(client, allocation, coi):
    client.force_login(coi)

    page = client.get(url(allocation)).content.decode()

    assert "Add a member" not in page
    assert "/remove/" not in page
    assert 'data-label="Used">1,650</td>' in page


def test_the_pi_sees_remove_buttons_for_others_only(client, allocation, pi, coi):
    client.force_login(pi)

    page = client.get(url(allocation)).content.decode()

    coi_membership = allocation.members.get(user=coi)
    pi_membership = allocation.members.get(user=pi)
    assert reverse("allocation_member_remove", args=[allocation.pk, coi_membership.pk]) in page
    assert reverse("allocation_member_remove", args=[allocation.pk, pi_membership.pk]) not in page
    assert "Add a member" in page


def test_the_page_runs_the_same_queries_with_more_members_and_usage(
    client, allocation, pi, booster
):
    client.force_login(pi)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(allocation)).status_code == 200
        return len(queries)

    before = count()
    for n in range(3):
        person = make_user(f"extra{n}@uni.example")
        allocation.members.create(user=person, added_by=pi)
        add_usage(allocation, booster, 10, on=month_start(0), user=person)
    after = count()

    assert before == after


@pytest.mark.parametrize(
    ("who", "status"),
    [("pi", 200), ("coi", 200), ("manager", 200), ("outsider", 404), ("former", 404)],
)
def test_who_sees_the_page(client, allocation, who, status):
    people = {
        "pi": "pi@uni.example",
        "coi": "coi@lab.example",
        "outsider": "outsider@else.example",
        "former": "former@uni.example",
    }
    if who == "manager":
        user = make_manager()
    elif who == "outsider":
        user = make_user(people[who])
    else:
        user = User.objects.get(email=people[who])
    client.force_login(user)

    assert client.get(url(allocation)).status_code == status


def test_an_unknown_allocation_is_404(client, pi):
    client.force_login(pi)

    assert client.get(reverse("allocation_detail", args=[404404])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, allocation):
    response = client.get(url(allocation))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_post_is_not_allowed(client, allocation, pi):
    client.force_login(pi)

    assert client.post(url(allocation)).status_code == 405


def test_managers_get_a_link_to_the_managers_page(client, allocation):
    client.force_login(make_manager())

    page = client.get(url(allocation)).content.decode()

    assert reverse("manage_allocation", args=[allocation.pk]) in page
