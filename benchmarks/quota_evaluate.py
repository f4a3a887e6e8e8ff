"""Benchmark: the periodic quota evaluation (PRODUCT §10: under 10 s with a number of queries
that does not grow with the allocations).

Run from the repository root::

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/allot_usagebench
    .venv/bin/python benchmarks/quota_evaluate.py [--allocations 5000]

The database is created if missing and migrated; ``--allocations`` active allocations (a period
around today, monthly quota policy) are bulk-built with ``benchmarks.build_allocations`` and
given usage the first time (spread so that some reach 75, 90 and 100 % of the award), then
``quota_evaluate()`` runs twice, each inside a transaction rolled back at the end so every
invocation of the script measures the same state. Emails go to the locmem backend. Prints the
seconds and the number of queries (``CaptureQueriesContext``) of each run: the first queues the
emails (in bulk: two queries per 2,000 emails), the second finds them all queued.
"""

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

from benchmarks.database import setup_on_postgresql  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--allocations", type=int, default=5000)
    parser.add_argument("--prefix", default="qe")
    args = parser.parse_args()

    setup_on_postgresql()
    from django.db import connection

    from benchmarks.build_allocations import build_allocations
    from tests.allocation_factories import period_around_today

    start_date, end_date = period_around_today(started_months_ago=3, months=12)
    prefix = f"{args.prefix}{start_date:%y%m}"
    start = time.perf_counter()
    awarded = Decimal(100_000)
    resource, allocations = build_allocations(
        args.allocations,
        prefix=prefix,
        cluster=f"{prefix}cluster",
        start=start_date,
        end=end_date,
        awarded=awarded,
        policy="monthly",
    )
    add_usage(allocations, resource, awarded, start_date)
    print(
        f"{len(allocations)} allocations {start_date}–{end_date}: ready in"
        f" {time.perf_counter() - start:.1f} s"
    )

    # Earlier runs' rolled-back rows stay behind as dead tuples: clean them first.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE allocations_ledgerentry")
        cursor.execute("VACUUM ANALYZE notifications_outboxmessage")

    evaluate_twice()


def add_usage(allocations, resource, awarded: Decimal, start_date) -> None:
    """Three months of usage on each allocation, a share of the award drawn from a seeded
    generator (none when the allocations have usage already)."""
    from allocations.enums import LedgerKind
    from allocations.models import LedgerEntry

    if not LedgerEntry.objects.filter(allocation=allocations[0], kind=LedgerKind.USAGE).exists():
        rng = random.Random(2027)
        tz = allocations[0].proposal.call.tz
        entries = []
        for allocation in allocations:
            share = rng.choice([0.1, 0.3, 0.5, 0.6, 0.8, 0.95, 1.05])  # of the award
            for month in range(3):
                day = start_date.replace(month=(start_date.month + month - 1) % 12 + 1)
                if day.month < start_date.month:
                    day = day.replace(year=start_date.year + 1)
                entries.append(
                    LedgerEntry(
                        allocation=allocation,
                        resource=resource,
                        kind=LedgerKind.USAGE,
                        amount=-(awarded * Decimal(share) / 3).quantize(Decimal("0.0001")),
                        user=allocation.pi,
                        occurred_at=datetime.combine(day, clock(12), tzinfo=tz),
                        source=f"bench:{allocation.pk}:{month}",
                    )
                )
        LedgerEntry.objects.bulk_create(entries, batch_size=5000)


def evaluate_twice() -> None:
    """``quota_evaluate`` twice in a transaction that is rolled back (the second run finds the
    emails already queued), with seconds, queries and what each run did."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings

    from allocations.services.quota import quota_evaluate

    locmem = "django.core.mail.backends.locmem.EmailBackend"
    with override_settings(EMAIL_BACKEND=locmem):
        try:
            with transaction.atomic():
                for run in (1, 2):
                    connection.queries_log.clear()  # a full log (9,000) would count 0
                    with CaptureQueriesContext(connection) as queries:
                        start = time.perf_counter()
                        summary = quota_evaluate()
                        seconds = time.perf_counter() - start
                    count = len(queries)
                    if count >= connection.queries_limit:
                        count = f"at least {count}"
                    kinds = Counter(event.split(":")[0] for event in summary.events)
                    print(
                        f"run {run}: {seconds:.2f} s, {count} queries,"
                        f" {summary.allocations} allocations, {summary.emails} emails"
                        f" {dict(kinds)}, {summary.forfeits} forfeits"
                    )
                raise Rollback
        except Rollback:
            pass


if __name__ == "__main__":
    main()
