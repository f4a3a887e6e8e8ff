"""The ledger (PRODUCT §8): balances are sums of entries; entries are never changed or deleted,
refused by the model, its queryset and the database; usage by month and by member."""

import zoneinfo
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.append_only import AppendOnlyError
from allocations.enums import LedgerKind
from allocations.models import Allocation, LedgerEntry
from allocations.selectors.ledger import (
    MemberUsage,
    MonthUsage,
    ResourceTotals,
    allocation_ledgers,
    balance,
    monthly_sums,
    usage_by_member,
    usage_by_month,
)
from tests.allocation_factories import add_entry, add_usage, make_allocation
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def allocation(pi, booster) -> Allocation:
    return make_allocation(pi=pi, awarded={booster: 12_000})


def snapshot() -> list[tuple]:
    return list(
        LedgerEntry.objects.order_by("pk").values_list(
            "pk", "allocation_id", "resource_id", "kind", "amount", "reason", "occurred_at"
        )
    )


# --- Balances --------------------------------------------------------------------------------


def test_the_award_is_the_first_entry_and_the_balance(allocation, booster):
    entry = allocation.ledger.get()

    assert (entry.kind, entry.amount, entry.resource) == (LedgerKind.AWARD, 12_000, booster)
    assert entry.occurred_at == datetime(2027, 5, 1, tzinfo=BERLIN)
    assert balance(allocation, booster) == Decimal(12_000)


def test_the_balance_is_the_sum_of_every_kind_of_entry(allocation, booster):
    add_usage(allocation, booster, 2_500, on=date(2027, 6, 3))
    add_entry(allocation, booster, kind=LedgerKind.ADJUSTMENT, amount=1_000, on=date(2027, 7, 1))
    add_entry(allocation, booster, kind=LedgerKind.ADJUSTMENT, amount=-300, on=date(2027, 7, 2))
    add_entry(allocation, booster, kind=LedgerKind.FORFEIT, amount=-700, on=date(2027, 7, 31))

    assert balance(allocation, booster) == Decimal(9_500)
    assert allocation_ledgers(allocation=allocation, today=date(2027, 8, 1))[0].totals == (
        ResourceTotals(
            awarded=Decimal(12_700),
            used=Decimal(2_500),
            forfeited=Decimal(700),
            balance=Decimal(9_500),
        )
    )


def test_a_resource_without_entries_has_a_balance_of_zero(allocation):
    other = make_resource("juwels-cluster", name="JUWELS Cluster")

    assert balance(allocation, other) == Decimal(0)


def test_balances_of_another_allocation_do_not_mix(allocation, booster, coi):
    other = make_allocation(pi=coi, awarded={booster: 500})
    add_usage(other, booster, 100, on=date(2027, 6, 1))

    assert balance(allocation, booster) == Decimal(12_000)
    assert balance(other, booster) == Decimal(400)


# --- Append-only: the model and the queryset refuse ------------------------------------------


def test_saving_an_existing_entry_is_refused_and_the_row_is_unchanged(allocation):
    entry = allocation.ledger.get()
    before = snapshot()
    entry.amount = Decimal(99_999)

    with pytest.raises(AppendOnlyError, match="append-only"):
        entry.save()

    assert snapshot() == before


def test_deleting_an_entry_is_refused_and_the_row_stays(allocation):
    entry = allocation.ledger.get()
    before = snapshot()

    with pytest.raises(AppendOnlyError, match="append-only"):
        entry.delete()

    assert snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        lambda: LedgerEntry.objects.filter(kind="award").update(amount=1),
        lambda: LedgerEntry.objects.update(amount=1),
        lambda: LedgerEntry.objects.filter(kind="award").delete(),
        lambda: LedgerEntry.objects.all().delete(),
        lambda: LedgerEntry.objects.bulk_update(list(LedgerEntry.objects.all()), ["amount"]),
        lambda: LedgerEntry.objects.all().bulk_update(list(LedgerEntry.objects.all()), ["reason"]),
    ],
    ids=["filter-update", "update", "filter-delete", "delete-all", "bulk_update", "qs-bulk"],
)
def test_queryset_updates_and_deletes_are_refused_and_rows_are_unchanged(allocation, change):
    before = snapshot()

    with pytest.raises(AppendOnlyError, match="append-only"):
        change()

    assert snapshot() == before


# --- Append-only: the database refuses, whatever the code ------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE allocations_ledgerentry SET amount = 1",
        "UPDATE allocations_ledgerentry SET reason = 'edited' WHERE kind = 'award'",
        "DELETE FROM allocations_ledgerentry",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(allocation, sql):
    before = snapshot()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert snapshot() == before


def test_the_database_refuses_an_update_that_bypasses_the_queryset(allocation):
    # The base manager is a plain Manager: only the trigger stands in the way.
    before = snapshot()

    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry._base_manager.filter(allocation=allocation).update(amount=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry._base_manager.filter(allocation=allocation)._raw_delete(connection.alias)

    assert snapshot() == before


def test_the_database_checks_the_sign_of_each_kind(allocation, booster):
    # Usage may be positive: a re-reported job that shrank gives hours back (PRODUCT §8).
    for kind, amount in [("award", 0), ("forfeit", 1)]:
        with pytest.raises(DatabaseError), transaction.atomic():
            add_entry(allocation, booster, kind=kind, amount=amount, on=date(2027, 6, 1))
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.create(
            allocation=allocation,
            resource=booster,
            kind=LedgerKind.ADJUSTMENT,
            amount=5,
            reason="",
            occurred_at=datetime(2027, 6, 1, tzinfo=BERLIN),
        )

    assert balance(allocation, booster) == Decimal(12_000)


# --- Usage by month and by member ------------------------------------------------------------


def test_usage_by_month_groups_by_calendar_month_in_the_calls_time_zone(allocation, booster):
    at = [
        datetime(2027, 5, 31, 23, 30, tzinfo=BERLIN),  # 21:30 UTC: May
        datetime(2027, 6, 1, 0, 30, tzinfo=BERLIN),  # 22:30 UTC on 31 May: June in Berlin
        datetime(2027, 6, 20, 12, 0, tzinfo=BERLIN),
        datetime(2027, 8, 2, 9, 0, tzinfo=BERLIN),
    ]
    for when, hours in zip(at, [100, 40, 60, 7], strict=True):
        LedgerEntry.objects.create(
            allocation=allocation,
            resource=booster,
            kind=LedgerKind.USAGE,
            amount=-hours,
            occurred_at=when,
            user=allocation.pi,
        )

    assert usage_by_month(allocation=allocation) == [
        MonthUsage(date(2027, 5, 1), booster.pk, Decimal(100)),
        MonthUsage(date(2027, 6, 1), booster.pk, Decimal(100)),
        MonthUsage(date(2027, 8, 1), booster.pk, Decimal(7)),
    ]


def test_usage_by_month_per_resource(pi, booster):
    cluster = make_resource("juwels-cluster", name="JUWELS Cluster", unit="core-hours")
    allocation = make_allocation(pi=pi, awarded={booster: 1_000, cluster: 50_000})
    add_usage(allocation, booster, 10, on=date(2027, 6, 5))
    add_usage(allocation, cluster, 2_000, on=date(2027, 6, 6))

    assert usage_by_month(allocation=allocation, resource=cluster) == [
        MonthUsage(date(2027, 6, 1), cluster.pk, Decimal(2_000))
    ]
    assert usage_by_month(allocation=allocation) == [
        MonthUsage(date(2027, 6, 1), booster.pk, Decimal(10)),
        MonthUsage(date(2027, 6, 1), cluster.pk, Decimal(2_000)),
    ]


def test_usage_by_member_largest_first(pi, coi, booster):
    allocation = make_allocation(pi=pi, awarded={booster: 12_000}, members=[coi])
    add_usage(allocation, booster, 100, on=date(2027, 6, 1), user=pi)
    add_usage(allocation, booster, 300, on=date(2027, 6, 2), user=coi)
    add_usage(allocation, booster, 250, on=date(2027, 7, 2), user=coi)
    add_usage(allocation, booster, 50, on=date(2027, 7, 3), user=pi)

    assert usage_by_member(allocation=allocation) == [
        MemberUsage(coi, booster.pk, Decimal(550)),
        MemberUsage(pi, booster.pk, Decimal(150)),
    ]


def test_usage_by_member_runs_two_queries_whatever_the_number_of_members(pi, booster):
    allocation = make_allocation(pi=pi, awarded={booster: 12_000})
    add_usage(allocation, booster, 1, on=date(2027, 6, 1), user=pi)
    with CaptureQueriesContext(connection) as one:
        usage_by_member(allocation=allocation)
    for n in range(3):
        add_usage(allocation, booster, 5, on=date(2027, 6, 1), user=make_user(f"m{n}@x.example"))
    with CaptureQueriesContext(connection) as four:
        result = usage_by_member(allocation=allocation)

    assert len(result) == 4
    assert len(one) == len(four) == 2


def test_monthly_sums_of_calls_in_different_time_zones_in_one_query(pi, coi, booster):
    berlin = make_allocation(pi=pi, awarded={booster: 1_000})
    tokyo = make_allocation(pi=coi, awarded={booster: 2_000})
    tokyo.proposal.call.time_zone = "Asia/Tokyo"
    tokyo.proposal.call.save(update_fields=["time_zone"])
    utc_instant = datetime(2027, 6, 30, 20, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    for allocation in (berlin, tokyo):  # 22:00 on 30 June in Berlin, 05:00 on 1 July in Tokyo
        LedgerEntry.objects.create(
            allocation=allocation,
            resource=booster,
            kind=LedgerKind.USAGE,
            amount=-10,
            occurred_at=utc_instant,
        )
    allocations = list(Allocation.objects.select_related("proposal__call").order_by("pk"))

    with CaptureQueriesContext(connection) as queries:
        sums = monthly_sums(allocations)

    assert len(queries) == 1
    assert [(s.allocation_id, s.kind, s.month, s.amount) for s in sums if s.kind == "usage"] == [
        (berlin.pk, "usage", date(2027, 6, 1), Decimal(-10)),
        (tokyo.pk, "usage", date(2027, 7, 1), Decimal(-10)),
    ]


def test_allocation_ledgers_give_the_quota_from_the_ledger(allocation, booster):
    add_usage(allocation, booster, 1_000, on=date(2027, 5, 10))
    add_usage(allocation, booster, 600, on=date(2027, 6, 10))
    add_usage(allocation, booster, 1_900, on=date(2027, 7, 10))

    ledger = allocation_ledgers(allocation=allocation, today=date(2027, 7, 20))[0]

    assert ledger.resource == booster
    # June leaves 400 of its share, carried into July: 1,400 available, 500 borrowed.
    july = ledger.quota.months[2]
    assert (july.month, july.carried, july.available, july.used, july.borrowed) == (
        date(2027, 7, 1),
        Decimal(400),
        Decimal(1_400),
        Decimal(1_900),
        Decimal(500),
    )
    assert ledger.quota.today.can_borrow == Decimal(500)
    assert ledger.totals.balance == Decimal(8_500)
