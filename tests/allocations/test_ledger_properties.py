"""Any sequence of ledger operations keeps the balance equal to the sum of the entries created,
and never changes or removes an entry that exists (hypothesis)."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.append_only import AppendOnlyError
from allocations.models import LedgerEntry
from allocations.selectors.ledger import balance
from allocations.services.ledger import allocation_adjust
from tests.allocation_factories import add_entry, add_usage, make_allocation
from tests.conftest import make_manager, make_user
from tests.factories import make_resource

cents = st.integers(min_value=1, max_value=2_000_000).map(lambda c: Decimal(c) / 100)
signed = st.tuples(st.booleans(), cents).map(lambda t: t[1] if t[0] else -t[1])
days = st.integers(min_value=0, max_value=364).map(lambda n: date(2027, 5, 1) + timedelta(days=n))
which = st.integers(min_value=0, max_value=1_000)

operations = st.one_of(
    st.tuples(st.just("award"), cents, days),
    st.tuples(st.just("adjust"), signed, days),
    st.tuples(st.just("usage"), cents, days),
    st.tuples(st.just("forfeit"), cents, days),
    st.tuples(
        st.just("update"),
        which,
        st.sampled_from(["save", "queryset", "bulk_update", "base_manager", "sql"]),
    ),
    st.tuples(
        st.just("delete"), which, st.sampled_from(["instance", "queryset", "base_manager", "sql"])
    ),
)


def snapshot() -> list[tuple]:
    return list(LedgerEntry.objects.order_by("pk").values_list())


def try_to_change(entry: LedgerEntry, how: str) -> None:
    """Each way of changing an entry must fail: AppendOnlyError in Python, an error in the
    database."""
    try:
        with transaction.atomic():
            if how == "save":
                entry.amount += 1
                entry.save()
            elif how == "queryset":
                LedgerEntry.objects.filter(pk=entry.pk).update(amount=entry.amount + 1)
            elif how == "bulk_update":
                entry.reason = "edited"
                LedgerEntry.objects.bulk_update([entry], ["reason"])
            elif how == "base_manager":
                LedgerEntry._base_manager.filter(pk=entry.pk).update(amount=entry.amount + 1)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE allocations_ledgerentry SET amount = amount + 1 WHERE id = %s",
                        [entry.pk],
                    )
    except (AppendOnlyError, DatabaseError):
        return
    raise AssertionError(f"Changing an entry through {how} was not refused.")


def try_to_delete(entry: LedgerEntry, how: str) -> None:
    try:
        with transaction.atomic():
            if how == "instance":
                entry.delete()
            elif how == "queryset":
                LedgerEntry.objects.filter(pk=entry.pk).delete()
            elif how == "base_manager":
                LedgerEntry._base_manager.filter(pk=entry.pk)._raw_delete(connection.alias)
            else:
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM allocations_ledgerentry WHERE id = %s", [entry.pk])
    except (AppendOnlyError, DatabaseError):
        return
    raise AssertionError(f"Deleting an entry through {how} was not refused.")


class LedgerProperties(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.manager = make_manager()
        cls.pi = make_user("pi@uni.example")
        cls.booster = make_resource()
        cls.allocation = make_allocation(pi=cls.pi, awarded={cls.booster: 12_000})

    @settings(max_examples=60, deadline=None)
    @given(steps=st.lists(operations, max_size=12))
    def test_balance_is_the_sum_of_entries_and_entries_never_change(self, steps):
        allocation, booster = self.allocation, self.booster
        expected = Decimal(12_000)
        for step in steps:
            before = snapshot()
            created = 0
            kind = step[0]
            if kind in ("award", "usage", "forfeit"):
                _, amount, on = step
                if kind == "usage":
                    add_usage(allocation, booster, amount, on=on)
                    expected -= amount
                else:
                    signed_amount = amount if kind == "award" else -amount
                    add_entry(allocation, booster, kind=kind, amount=signed_amount, on=on)
                    expected += signed_amount
                created = 1
            elif kind == "adjust":
                _, amount, _on = step
                try:
                    allocation_adjust(
                        allocation=allocation,
                        resource=booster,
                        amount=amount,
                        reason="Property test",
                        by=self.manager,
                    )
                except ValidationError:
                    assert expected + amount < 0  # refused only below zero
                else:
                    assert expected + amount >= 0
                    expected += amount
                    created = 1
            else:
                _, index, how = step
                entries = list(LedgerEntry.objects.order_by("pk"))
                entry = entries[index % len(entries)]
                if kind == "update":
                    try_to_change(entry, how)
                else:
                    try_to_delete(entry, how)

            after = snapshot()
            assert after[: len(before)] == before
            assert len(after) == len(before) + created
            assert balance(allocation, booster) == expected
            assert sum(row.amount for row in LedgerEntry.objects.all()) == expected
