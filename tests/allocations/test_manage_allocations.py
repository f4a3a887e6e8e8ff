"""Managers' list of allocations and the page of one allocation (PRODUCT §8, §9)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allocations.enums import LedgerKind
from allocations.quota import MonthState
from tests.allocation_factories import (
    add_entry,
    add_usage,
    make_allocation,
    period_around_today,
    this_month,
)
from tests.conftest import make_manager, make_user
from tests.factories import make_resource
from tests.proposals.helpers import assert_guarded

pytestmark = pytest.mark.django_db
LIST = reverse("manage_allocations")


def detail(allocation) -> str:
    return reverse("manage_allocation", args=[allocation.pk])


@pytest.fixture
def cluster():
    return make_resource("juwels-cluster", name="JUWELS Cluster", unit="core-hours")


@pytest.fixture
def allocations(pi, coi, outsider, booster, cluster):
    """alpha: active, at low priority this month; beta: active, two resources, nothing used;
    gamma: starts next month; delta: ended last month."""
    start, end = period_around_today(started_months_ago=2)
    alpha = make_allocation(pi=pi, acronym="alpha", awarded={booster: 12_000}, start=start, end=end)
    add_usage(alpha, booster, 1_000, on=this_month(-2))
    add_usage(alpha, booster, 1_000, on=this_month(-1))
    add_usage(alpha, booster, 2_500, on=this_month())
    beta = make_allocation(
        pi=coi, acronym="beta", awarded={booster: 6_000, cluster: 60_000}, start=start, end=end
    )
    start, end = period_around_today(started_months_ago=-1)
    gamma = make_allocation(
        pi=outsider, acronym="gamma", awarded={booster: 1_200}, start=start, end=end
    )
    start, end = period_around_today(started_months_ago=12)
    delta = make_allocation(pi=pi, acronym="delta", awarded={cluster: 1_200}, start=start, end=end)
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}


def listed(response) -> list[str]:
    return [row.allocation.proposal.acronym for row in response.context["rows"]]


def lines(response) -> list[tuple]:
    """(acronym, period, resource, awarded, used, left, this month's state or None)."""
    return [
        (
            row.allocation.proposal.acronym,
            row.period,
            line.resource.code,
            line.ledger.totals.awarded,
            line.ledger.totals.used,
            line.ledger.totals.balance,
            line.this_month.state if line.this_month else None,
        )
        for row in response.context["rows"]
        for line in row.lines
    ]


# --- The list --------------------------------------------------------------------------------


def test_every_allocation_by_account_with_awarded_used_left_and_this_month(
    manager_client, allocations
):
    response = manager_client.get(LIST)

    assert response.status_code == 200
    assert lines(response) == [
        ("alpha", "active", "jupiter-booster", 12_000, 4_500, 7_500, MonthState.LOW_PRIORITY),
        ("beta", "active", "jupiter-booster", 6_000, 0, 6_000, MonthState.NORMAL),
        ("beta", "active", "juwels-cluster", 60_000, 0, 60_000, MonthState.NORMAL),
        ("delta", "ended", "juwels-cluster", 1_200, 0, 1_200, None),
        ("gamma", "upcoming", "jupiter-booster", 1_200, 0, 1_200, None),
    ]
    alpha = response.context["rows"][0].lines[0]
    assert (alpha.this_month.quota, alpha.this_month.used, alpha.use_percent) == (
        Decimal(1_000),
        Decimal(2_500),
        Decimal(150),  # 4,500 used of the 3,000 due over three months begun
    )
    html = response.content.decode()
    assert f'href="{detail(allocations["alpha"])}"' in html
    assert "Low priority" in html
    assert "2,500 of 1,000 used" in html


def test_filter_by_call(manager_client, allocations):
    call = allocations["beta"].proposal.call

    response = manager_client.get(LIST, {"call": call.pk})

    assert listed(response) == ["beta"]


def test_filter_by_resource_lists_only_that_resource(manager_client, allocations, cluster):
    response = manager_client.get(LIST, {"resource": cluster.pk})

    assert [(line[0], line[2]) for line in lines(response)] == [
        ("beta", "juwels-cluster"),
        ("delta", "juwels-cluster"),
    ]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("upcoming", ["gamma"]),
        ("active", ["alpha", "beta"]),
        ("ended", ["delta"]),
        ("low_priority", ["alpha"]),
        ("", ["alpha", "beta", "delta", "gamma"]),
    ],
)
def test_filter_by_state(manager_client, allocations, state, expected):
    assert listed(manager_client.get(LIST, {"state": state})) == expected


def test_under_use_lists_active_allocations_below_the_share_due_so_far(
    manager_client, allocations, booster
):
    # beta used nothing (0 %); alpha used 150 % of what was due.
    assert listed(manager_client.get(LIST, {"under_use": 50})) == ["beta"]

    add_usage(allocations["beta"], booster, 1_200, on=this_month())  # 1,200 of 1,500: 80 %
    # Some resource below: its JUWELS Cluster is still unused.
    assert listed(manager_client.get(LIST, {"under_use": 50})) == ["beta"]
    assert listed(manager_client.get(LIST, {"under_use": 50, "resource": booster.pk})) == []
    assert listed(manager_client.get(LIST, {"under_use": 81, "resource": booster.pk})) == ["beta"]
    assert listed(manager_client.get(LIST, {"under_use": 80, "resource": booster.pk})) == []


def test_filters_combine(manager_client, allocations, cluster):
    response = manager_client.get(LIST, {"resource": cluster.pk, "state": "active"})

    assert listed(response) == ["beta"]


def test_invalid_filters_are_reported_and_left_out(manager_client, allocations):
    response = manager_client.get(LIST, {"under_use": "lots", "call": "99999", "state": "x"})

    assert response.status_code == 200
    assert listed(response) == ["alpha", "beta", "delta", "gamma"]
    assert set(response.context["filters"].errors) == {"under_use", "call", "state"}


def test_no_allocations(manager_client):
    response = manager_client.get(LIST)

    assert response.status_code == 200
    assert "No allocations match these filters." in response.content.decode()


def test_the_list_runs_the_same_queries_for_one_and_three_allocations(manager_client, booster):
    start, end = period_around_today()

    def add(n: int) -> None:
        owner = make_user(f"pi{n}@uni.example")
        allocation = make_allocation(pi=owner, awarded={booster: 1_200}, start=start, end=end)
        add_usage(allocation, booster, 10, on=this_month(-1))
        add_usage(allocation, booster, 10, on=this_month())

    add(1)
    with CaptureQueriesContext(connection) as one:
        assert manager_client.get(LIST).status_code == 200
    add(2)
    add(3)
    with CaptureQueriesContext(connection) as three:
        response = manager_client.get(LIST)

    assert len(response.context["rows"]) == 3
    assert len(one) == len(three)


def test_the_list_builds_only_the_rows_of_its_page(manager_client, booster, monkeypatch):
    """Sorted and paged in SQL: a page of 2 out of 5 computes the ledgers of 2 allocations,
    with the same queries as 3 allocations in all."""
    from allocations.selectors import manage

    monkeypatch.setattr(manage, "ALLOCATIONS_PAGE_SIZE", 2)
    built: list[str] = []
    compute = manage.resource_ledgers

    def counted(allocation, *args):
        built.append(allocation.account)
        return compute(allocation, *args)

    monkeypatch.setattr(manage, "resource_ledgers", counted)
    start, end = period_around_today()
    made = []
    for n in range(5):
        owner = make_user(f"pi{n}@uni.example")
        made.append(
            make_allocation(
                pi=owner, awarded={booster: 1_200}, start=start, end=end, acronym=f"a{n}"
            )
        )
        add_usage(made[-1], booster, 10, on=this_month())
        if n == 2:
            with CaptureQueriesContext(connection) as three:
                manager_client.get(LIST + "?page=2")
            built.clear()
    accounts = sorted(allocation.account for allocation in made)

    with CaptureQueriesContext(connection) as five:
        response = manager_client.get(LIST + "?page=2")

    assert [row.allocation.account for row in response.context["rows"]] == accounts[2:4]
    assert built == accounts[2:4]
    assert response.context["page_obj"].paginator.count == 5
    assert len(five) == len(three)


def test_the_state_filter_pages_the_matching_allocations(manager_client, allocations, monkeypatch):
    from allocations.selectors import manage

    monkeypatch.setattr(manage, "ALLOCATIONS_PAGE_SIZE", 1)

    response = manager_client.get(LIST, {"state": "active", "page": "2"})

    assert [row.allocation for row in response.context["rows"]] == [allocations["beta"]]
    assert response.context["page_obj"].paginator.count == 2


def test_the_list_is_for_call_managers_only(client, pi):
    assert_guarded(client, pi, LIST)


def test_the_list_refuses_post(manager_client):
    assert manager_client.post(LIST).status_code == 405


# --- One allocation --------------------------------------------------------------------------


def test_one_allocation_with_its_ledger_members_quota_and_audit(
    manager_client, allocations, booster, coi
):
    alpha = allocations["alpha"]
    alpha.members.create(user=coi, added_by=alpha.pi)

    response = manager_client.get(detail(alpha))

    assert response.status_code == 200
    context = response.context
    assert context["allocation"] == alpha
    assert [(e.kind, e.amount) for e in context["entries"]] == [
        (LedgerKind.AWARD, 12_000),
        (LedgerKind.USAGE, -1_000),
        (LedgerKind.USAGE, -1_000),
        (LedgerKind.USAGE, -2_500),
    ]
    assert [m.user for m in context["members"]] == [alpha.pi, coi]
    (ledger,) = context["ledgers"]
    assert [
        (m.month, m.available, m.used, m.borrowed, m.low_priority) for m in ledger.quota.months[:3]
    ] == [
        (this_month(-2), Decimal(1_000), Decimal(1_000), Decimal(0), Decimal(0)),
        (this_month(-1), Decimal(1_000), Decimal(1_000), Decimal(0), Decimal(0)),
        (this_month(), Decimal(1_000), Decimal(2_500), Decimal(1_000), Decimal(500)),
    ]
    assert len(ledger.quota.months) == 12
    assert [row.entry.action for row in context["audit"]] == ["allocation.created"]
    html = response.content.decode()
    assert alpha.account in html
    assert 'aria-current="date"' in html
    assert 'action="{}"'.format(reverse("allocation_adjust", args=[alpha.pk])) in html


def test_the_page_runs_the_same_queries_for_one_and_many_entries_and_members(
    manager_client, pi, booster
):
    allocation = make_allocation(pi=pi, awarded={booster: 12_000})
    with CaptureQueriesContext(connection) as few:
        assert manager_client.get(detail(allocation)).status_code == 200
    for n in range(3):
        person = make_user(f"member{n}@uni.example")
        allocation.members.create(user=person, added_by=pi)
        add_usage(allocation, booster, 10 + n, on=this_month(), user=person)
        add_entry(allocation, booster, kind="adjustment", amount=5, on=this_month(), reason="r")
    with CaptureQueriesContext(connection) as many:
        response = manager_client.get(detail(allocation))

    assert len(response.context["entries"]) == 7
    assert len(few) == len(many)


def test_an_unknown_allocation_is_404(manager_client):
    assert manager_client.get(reverse("manage_allocation", args=[99999])).status_code == 404


def test_the_page_is_for_call_managers_only(client, pi, booster):
    allocation = make_allocation(pi=pi, awarded={booster: 100})

    assert_guarded(client, pi, detail(allocation))
    client.force_login(make_manager("other@centre.example"))
    assert client.get(detail(allocation)).status_code == 200


def test_the_page_refuses_post(manager_client, pi, booster):
    allocation = make_allocation(pi=pi, awarded={booster: 100})

    assert manager_client.post(detail(allocation)).status_code == 405
