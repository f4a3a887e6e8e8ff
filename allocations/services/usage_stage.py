"""The temporary tables of a usage import and the SQL that merges them into the records, the
day totals and the ledger (``allocations.services.usage_import`` streams the jobs in)."""

import contextlib
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from allocations.enums import LedgerKind
from allocations.models import (
    LedgerEntry,
    UsageDay,
    UsageRecord,
)
from allocations.services.usage_report import (
    LEDGER_PLACES,
    NOON,
    SECONDS_PER_HOUR,
    _ledger_units,
)

if TYPE_CHECKING:
    from allocations.services.usage_import import _Importer

_STAGE_COLUMNS = (
    "line",
    "job_id",
    "account",
    "user_name",
    "allocation_id",
    "resource_id",
    "member_id",
    "ended_on",
    "charge",
)
_STAGE_TYPES: tuple[str, ...] = ("bigint", "varchar(64)", "varchar(100)", "varchar(100)")
_STAGE_TYPES += ("bigint", "bigint", "bigint", "date", "bigint")


class _Stage:
    """The temporary tables of one import and the SQL that merges them into the records, the
    day totals and the ledger. The same SQL runs on PostgreSQL and SQLite."""

    def __init__(self) -> None:
        self.postgresql = connection.vendor == "postgresql"
        self.staged = 0  # lines written
        self._open = contextlib.ExitStack()  # the COPY in progress and its cursor
        self._copy: Any = None  # psycopg.Copy
        columns = ", ".join(f"{c} {t}" for c, t in zip(_STAGE_COLUMNS, _STAGE_TYPES, strict=True))
        with connection.cursor() as cursor:
            for table in ("allot_stage", "allot_change", "allot_delta"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE allot_stage ({columns})")
            if self.postgresql:
                # Hash aggregates and joins over a million staged rows stay in memory.
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute("SET LOCAL jit = off")

    def write(self, rows: list[tuple]) -> None:
        """Stage ``rows``. On PostgreSQL they go into one ``COPY`` left open between batches,
        so the server takes them in while Python reads the next lines (the second core);
        ``finish`` ends it."""
        if not rows:
            return
        self.staged += len(rows)
        if self.postgresql:
            if self._copy is None:
                cursor = self._open.enter_context(connection.cursor())
                self._copy = self._open.enter_context(
                    cursor.cursor.copy(f"COPY allot_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN")
                )
            self._copy.write("".join(map(_copy_line, rows)))
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO allot_stage ({', '.join(_STAGE_COLUMNS)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))})",
                rows,
            )

    def finish(self) -> None:
        """End the ``COPY`` (waiting for the server to take the last rows). Idempotent."""
        self._copy = None
        self._open.close()

    def merge(self, importer: "_Importer") -> None:
        self.finish()
        days = UsageDay._meta.db_table
        with connection.cursor() as cursor:
            execute = cursor.execute
            if self.postgresql:
                execute("ANALYZE allot_stage")
            # A job reported more than once in this file: only its last line counts. (Job ids
            # in increasing order, as sacct lists them, cannot repeat: nothing to look for.)
            if not importer.increasing:
                execute(
                    "DELETE FROM allot_stage WHERE line IN (SELECT s.line FROM allot_stage s JOIN "
                    "(SELECT job_id, MAX(line) AS last FROM allot_stage GROUP BY job_id "
                    "HAVING COUNT(*) > 1) AS d ON d.job_id = s.job_id AND s.line < d.last)"
                )
            self.write_records(cursor, importer)
            # The difference per key, beside the key's day total before this import.
            execute(
                "CREATE TEMPORARY TABLE allot_delta AS "  # noqa: S608
                "SELECT d.*, u.id AS day_id, COALESCE(u.charge, 0) AS old FROM ("
                "SELECT allocation_id, resource_id, member_id, ended_on AS day, "
                "CAST(SUM(charge) AS bigint) AS delta FROM ("
                "SELECT allocation_id, resource_id, member_id, ended_on, charge "
                "FROM allot_change UNION ALL "
                "SELECT old_allocation_id, old_resource_id, old_member_id, old_ended_on, "
                "-old_charge FROM allot_change WHERE old_id IS NOT NULL) AS parts "
                "GROUP BY allocation_id, resource_id, member_id, ended_on "
                f"HAVING SUM(charge) <> 0) AS d LEFT JOIN {days} u "
                "ON u.allocation_id = d.allocation_id AND u.resource_id = d.resource_id "
                "AND u.member_id = d.member_id AND u.day = d.day"
            )
            if self.postgresql:
                deltas = self.append_ledger_in_sql(cursor, importer)
            else:
                execute(
                    "SELECT allocation_id, resource_id, member_id, day, delta, old FROM allot_delta"
                )
                deltas = cursor.fetchall()
            execute(
                f"INSERT INTO {days} (allocation_id, resource_id, member_id, day, charge) "  # noqa: S608
                "SELECT allocation_id, resource_id, member_id, day, delta FROM allot_delta "
                "WHERE day_id IS NULL"
            )
            execute(
                f"UPDATE {days} SET charge = {days}.charge + d.delta "  # noqa: S608
                f"FROM allot_delta d WHERE {days}.id = d.day_id"
            )
            for table in ("allot_stage", "allot_change", "allot_delta"):
                execute(f"DROP TABLE {table}")
        if not self.postgresql:
            self.append_ledger(importer, deltas)

    def write_records(self, cursor, importer: "_Importer") -> None:
        """Compare the staged jobs with the records, count them for the report, insert the
        new records and update the changed ones. Leaves ``allot_change`` for the sums."""
        report = importer.report
        records = UsageRecord._meta.db_table
        execute = cursor.execute
        # What changes: new jobs and jobs reported otherwise than recorded.
        execute(
            "CREATE TEMPORARY TABLE allot_change AS SELECT n.*, o.id AS old_id, "  # noqa: S608
            "o.allocation_id AS old_allocation_id, o.resource_id AS old_resource_id, "
            "o.member_id AS old_member_id, o.ended_on AS old_ended_on, "
            "o.charge AS old_charge "
            f"FROM allot_stage n LEFT JOIN {records} o "
            "ON o.cluster = %s AND o.job_id = n.job_id "
            "WHERE o.id IS NULL OR o.charge <> n.charge OR o.ended_on <> n.ended_on "
            "OR o.allocation_id <> n.allocation_id OR o.resource_id <> n.resource_id "
            "OR o.member_id <> n.member_id",
            [importer.cluster],
        )
        execute("SELECT old_id IS NULL, COUNT(*) FROM allot_change GROUP BY old_id IS NULL")
        for is_new, count in cursor.fetchall():
            if is_new:
                report.charged = count
            else:
                report.corrected = count
        report.duplicates = self.staged - report.charged - report.corrected
        # New jobs are inserted and changed ones updated: no upsert's speculative insertion
        # (imports run one at a time, and the key refuses a job twice anyway).
        execute(
            f"INSERT INTO {records} (cluster, job_id, account, user_name, "  # noqa: S608
            "allocation_id, resource_id, member_id, ended_on, charge, usage_file_id, line) "
            "SELECT %s, job_id, account, user_name, allocation_id, resource_id, member_id, "
            "ended_on, charge, %s, line FROM allot_change WHERE old_id IS NULL",
            [importer.cluster, importer.usage_file.pk],
        )
        if report.corrected:
            execute(
                f"UPDATE {records} SET account = c.account, user_name = c.user_name, "  # noqa: S608
                "allocation_id = c.allocation_id, resource_id = c.resource_id, "
                "member_id = c.member_id, ended_on = c.ended_on, charge = c.charge, "
                "usage_file_id = %s, line = c.line "
                f"FROM allot_change c WHERE {records}.id = c.old_id",
                [importer.usage_file.pk],
            )

    def append_ledger_in_sql(self, cursor, importer: "_Importer") -> list[tuple]:
        """PostgreSQL: the ledger rows of ``append_ledger`` in one INSERT … SELECT (no row
        passes through Python); returns the charge per allocation and resource for the
        report."""
        ledger = LedgerEntry._meta.db_table
        half, hour = SECONDS_PER_HOUR // 2, SECONDS_PER_HOUR
        cursor.execute(
            f"INSERT INTO {ledger} (allocation_id, resource_id, kind, amount, reason, "  # noqa: S608
            "user_id, occurred_at, source, created_at) "
            "SELECT d.allocation_id, d.resource_id, %s, "
            f"-((d.old + d.delta + {half}) / {hour} "
            f"- (d.old + {half}) / {hour})::numeric / {LEDGER_PLACES}, '', "
            "NULLIF(d.member_id, 0), (d.day + time '12:00') AT TIME ZONE %s, %s, %s "
            "FROM allot_delta d "
            f"WHERE (d.old + d.delta + {half}) / {hour} <> (d.old + {half}) / {hour}",
            [
                LedgerKind.USAGE,
                str(importer.tz),
                f"usage file {importer.usage_file.pk}",
                timezone.now(),
            ],
        )
        cursor.execute(
            "SELECT allocation_id, resource_id, SUM(delta) FROM allot_delta "
            "GROUP BY allocation_id, resource_id"
        )
        names = importer.account_names()
        resources = {r.pk: r for r in importer.resources.values()}
        for allocation_id, resource_id, delta in cursor.fetchall():
            resource = resources[resource_id]
            importer.report.charges[(names[allocation_id], resource.code, resource.unit)] += int(
                delta
            )
        return []

    def append_ledger(self, importer: "_Importer", deltas: list[tuple]) -> None:
        """One usage entry per key whose rounded hours change: the new rounded total minus the
        old one (so the ledger always holds the rounded exact total)."""
        report = importer.report
        names = importer.account_names()
        resources = {r.pk: r for r in importer.resources.values()}
        now = timezone.now()
        source = f"usage file {importer.usage_file.pk}"
        tz = importer.tz
        entries = []
        for allocation_id, resource_id, member_id, day, delta, old in deltas:
            if isinstance(day, str):  # SQLite
                day = date.fromisoformat(day)
            delta, old = int(delta), int(old)
            resource = resources[resource_id]
            report.charges[(names[allocation_id], resource.code, resource.unit)] += delta
            units = _ledger_units(old + delta) - _ledger_units(old)
            if units == 0:
                continue
            entries.append(
                LedgerEntry(
                    allocation_id=allocation_id,
                    resource_id=resource_id,
                    kind=LedgerKind.USAGE,
                    amount=-Decimal(units).scaleb(-4),
                    user_id=member_id or None,
                    occurred_at=datetime.combine(day, NOON, tzinfo=tz),
                    source=source,
                    created_at=now,
                )
            )
        for start in range(0, len(entries), 5_000):
            LedgerEntry.objects.bulk_create(entries[start : start + 5_000])


def _copy_line(row: tuple) -> str:
    """A staging row as a line of COPY's text format. Only the names can hold a tab, a
    backslash or a newline (job ids are digits, dates and numbers are plain)."""
    line, job_id, account, user, allocation_id, resource_id, member_id, ended_on, charge = row
    if "\\" in user or "\t" in user:
        user = user.replace("\\", "\\\\").replace("\t", "\\t")
    return (
        f"{line}\t{job_id}\t{account}\t{user}\t{allocation_id}\t{resource_id}\t{member_id}\t"
        f"{ended_on}\t{charge}\n"
    )
