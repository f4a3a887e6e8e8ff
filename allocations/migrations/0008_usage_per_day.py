"""Per-job ledger entries of the usage import become usage records and day entries (PRODUCT §8).

Before: each job had its own usage entry (``source = "<cluster>:<job id>"``), and a job
re-reported as shorter got an *adjustment* back. After: each job is a ``UsageRecord`` with its
net charge, ``UsageDay`` holds the exact sums, and the ledger holds one usage entry per
allocation, resource, member and day (the job's first entry's day in the centre's time zone),
the net of those jobs. Every balance stays the same; "awarded" loses the correcting adjustments
and "used" becomes net use.

The ledger is append-only (triggers of migration 0003): they are dropped for this migration and
created again, in the same transaction.
"""

import zoneinfo
from collections import defaultdict
from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import migrations

SCALE = 10_000 * 3600  # hours to ten-thousandths of seconds (models.CHARGE_SCALE)

POSTGRESQL_DROP = "DROP TRIGGER IF EXISTS allot_ledger_append_only ON allocations_ledgerentry"
POSTGRESQL_CREATE = (
    "CREATE TRIGGER allot_ledger_append_only BEFORE UPDATE OR DELETE ON allocations_ledgerentry "
    "FOR EACH ROW EXECUTE FUNCTION allot_ledger_append_only()"
)
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS allot_ledger_append_only_{event}" for event in ("update", "delete")
]
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS allot_ledger_append_only_{event.lower()}
    BEFORE {event} ON allocations_ledgerentry
    BEGIN
        SELECT RAISE(ABORT, 'ledger entries are append-only');
    END;
    """
    for event in ("UPDATE", "DELETE")
]


def _execute(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    LedgerEntry = apps.get_model("allocations", "LedgerEntry")
    UsageRecord = apps.get_model("allocations", "UsageRecord")
    UsageDay = apps.get_model("allocations", "UsageDay")
    # Entries the importer wrote: no author, a "cluster:job" source, usage or a correction.
    per_job = (
        LedgerEntry.objects.filter(
            author__isnull=True, kind__in=["usage", "adjustment"], source__contains=":"
        )
        .select_related("allocation")
        .order_by("occurred_at", "pk")
    )
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    jobs = {}
    ids = []
    for entry in per_job.iterator():
        ids.append(entry.pk)
        job = jobs.get(entry.source)
        if job is None:
            job = jobs[entry.source] = {
                "allocation": entry.allocation,
                "resource_id": entry.resource_id,
                "user_id": entry.user_id,
                "day": entry.occurred_at.astimezone(tz).date(),
                "net": Decimal(0),
            }
        job["net"] += entry.amount
        if entry.user_id and not job["user_id"]:
            job["user_id"] = entry.user_id
    if not ids:
        return
    records = []
    days = defaultdict(int)
    for source, job in jobs.items():
        cluster, _, job_id = source.rpartition(":")
        charge = int(-job["net"] * SCALE)
        member = job["user_id"] or 0
        records.append(
            UsageRecord(
                cluster=cluster,
                job_id=job_id,
                account=job["allocation"].account,
                user_name="",
                ended_on=job["day"],
                charge=max(charge, 0),
                allocation_id=job["allocation"].pk,
                resource_id=job["resource_id"],
                member_id=member,
                line=0,
            )
        )
        days[(job["allocation"].pk, job["resource_id"], member, job["day"])] += charge
    UsageRecord.objects.bulk_create(records, batch_size=5000)
    UsageDay.objects.bulk_create(
        [
            UsageDay(allocation_id=a, resource_id=r, member_id=m, day=d, charge=c)
            for (a, r, m, d), c in days.items()
        ],
        batch_size=5000,
    )
    vendor = schema_editor.connection.vendor
    _execute(schema_editor, [POSTGRESQL_DROP] if vendor == "postgresql" else SQLITE_DROP)
    for start in range(0, len(ids), 5000):
        # The model's own queryset refuses deletes; the historical one is plain.
        LedgerEntry.objects.filter(pk__in=ids[start : start + 5000])._raw_delete(
            schema_editor.connection.alias
        )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                allocation_id=a,
                resource_id=r,
                kind="usage",
                amount=-Decimal(c // 3600).scaleb(-4),
                reason="",
                user_id=m or None,
                occurred_at=datetime.combine(d, time(12), tzinfo=tz),
                source="migrated per-job usage",
            )
            for (a, r, m, d), c in days.items()
            if c
        ],
        batch_size=5000,
    )
    _execute(schema_editor, [POSTGRESQL_CREATE] if vendor == "postgresql" else SQLITE_CREATE)


class Migration(migrations.Migration):
    dependencies = [("allocations", "0007_usage_records")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
