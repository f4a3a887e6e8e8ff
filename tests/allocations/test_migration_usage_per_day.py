"""Migration 0008 turns per-job ledger entries into usage records and day entries without
changing any balance (issue 12). Run with Django's MigrationExecutor on the test database."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from tests.allocation_factories import make_allocation
from tests.factories import make_resource

pytestmark = pytest.mark.django_db(transaction=True)

AFTER = [("allocations", "0008_usage_per_day")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def sums(apps):
    LedgerEntry = apps.get_model("allocations", "LedgerEntry")
    rows = LedgerEntry.objects.values("allocation_id", "resource_id", "kind").annotate(
        total=Sum("amount")
    )
    return {(r["allocation_id"], r["resource_id"], r["kind"]): Decimal(r["total"]) for r in rows}


def latest() -> list[tuple[str, str]]:
    """Every app's last migration: where the test database must be left for the next tests."""
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def allocation_for_migration(pi):
    allocation = make_allocation(pi=pi, awarded={make_resource(): 12_000})
    yield allocation.pk, allocation.resources.get().resource_id, pi.pk
    if connection.vendor != "sqlite":
        migrate(latest())
    if connection.vendor == "sqlite":
        # The test database is flushed with DELETE on SQLite, which the ledger's triggers
        # refuse (PostgreSQL truncates): empty the ledger with them lifted for a moment.
        with connection.cursor() as cursor:
            for event in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER allot_ledger_append_only_{event}")
            cursor.execute("DELETE FROM allocations_ledgerentry")
        migrate([("allocations", "0006_ledger_fewer_indexes")])  # … and put them back
        migrate(latest())


def test_per_job_entries_become_day_entries_with_the_same_balances(allocation_for_migration):
    allocation_id, resource_id, user_id = allocation_for_migration
    apps = migrate([("allocations", "0007_usage_records")])
    LedgerEntry = apps.get_model("allocations", "LedgerEntry")
    when = datetime(2027, 6, 1, 10, tzinfo=UTC)

    def entry(kind, amount, source, reason=""):
        LedgerEntry.objects.create(
            allocation_id=allocation_id,
            resource_id=resource_id,
            kind=kind,
            amount=Decimal(amount),
            source=source,
            reason=reason,
            user_id=user_id,
            occurred_at=when,
        )

    entry("usage", "-8", "jupiter:1")
    entry("usage", "-8", "jupiter:2")
    entry("adjustment", "4", "jupiter:2", "Correction of job 2: 8.0000 → 4.0000")
    entry("usage", "-0.0001", "jupiter:3")
    before = sums(apps)
    balance_before = sum(before.values())

    apps = migrate(AFTER)
    after = sums(apps)
    assert sum(after.values()) == balance_before
    assert (
        after[(allocation_id, resource_id, "award")]
        == before[(allocation_id, resource_id, "award")]
    )
    assert (allocation_id, resource_id, "adjustment") not in after
    assert after[(allocation_id, resource_id, "usage")] == Decimal("-12.0001")
    UsageRecord = apps.get_model("allocations", "UsageRecord")
    assert sorted(UsageRecord.objects.values_list("job_id", "charge")) == [
        ("1", 8 * 3600 * 10_000),
        ("2", 4 * 3600 * 10_000),
        ("3", 3600),
    ]
    UsageDay = apps.get_model("allocations", "UsageDay")
    assert list(UsageDay.objects.values_list("charge", flat=True)) == [(12 * 3600 * 10_000) + 3600]
