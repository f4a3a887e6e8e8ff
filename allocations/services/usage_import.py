"""Usage from Slurm (PRODUCT §8): import ``sacct -a -X -P`` output, set-based.

The first line is the header: ``|``-separated column names in any order. Every other line is one
job and has exactly the header's number of fields (a trailing ``|`` only where the header has
one). A job is charged to the allocation whose ``account`` is the job's Account, on the Resource
mapped to the job's Cluster and Partition (fallback: the cluster's resource with an empty
partition):

* ``gpu`` rule: ``gres/gpu`` count (typed counts added when there is no untyped one),
* ``billing`` rule: the ``billing`` count,
* ``none``: not charged (storage),

× ElapsedRaw seconds × the charge factor. AllocTRES must be comma-separated ``name=value``
pairs on every line, whatever the rule.

Accounting (PRODUCT §8): each job is a ``UsageRecord`` keyed by cluster and job id holding its
charge exactly (an integer of ten-thousandths of the unit's seconds). ``UsageDay`` holds the
exact sum of the records per allocation, resource, member and day (the job's End day), and the
ledger holds that sum in hours rounded to four places, as ``usage`` entries (one per key and
import). A job reported again writes only what changes that rounded sum: nothing if it is the
same, less usage (a positive entry) if it shrank. So "used" is net use, awarded amounts never
move, and any split of a file imported in any order of parts gives the ledger of one import of
the whole. Within one import, the last line of a job wins. Content imported before (same
SHA-256, recorded in ``UsageFile``) is not imported again: it changes nothing.

How (PRODUCT §10, ``benchmarks/usage_import.py``): Python reads each line once (split, check,
look the account up in a dict, compute the charge as an integer) and streams the jobs into a
temporary table (``COPY`` on PostgreSQL, ``executemany`` on SQLite); then a handful of SQL
statements keep the last report of each job, compare it with the records, upsert the records,
sum the differences per key, upsert the day totals and append the ledger rows. Memory holds one
batch of lines and the report, not the file. Imports run one at a time (a transaction-level
advisory lock on PostgreSQL; SQLite has one writer anyway). A dry run does all of it and rolls
back, so its report is that of the real import.

Times from sacct are read in the centre's time zone (``settings.TIME_ZONE``); a usage entry
counts at noon of its day there, so that its day is the same in any call's time zone.
"""

import contextlib
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from allocations.enums import ChargeRule, LedgerKind
from allocations.models import (
    CHARGE_SCALE,
    Allocation,
    AllocationMember,
    AllocationResource,
    LedgerEntry,
    Resource,
    UsageDay,
    UsageFile,
    UsageRecord,
)
from allocations.services.quota_state import quota_states_refresh

BATCH_SIZE = 20_000  # lines per write to the staging table
SECONDS_PER_HOUR = 3600
LEDGER_PLACES = 10_000  # the ledger keeps hours to four places
NOON = time(12)

REQUIRED_COLUMNS = (
    "JobIDRaw",
    "Cluster",
    "Account",
    "User",
    "Partition",
    "State",
    "Start",
    "End",
    "ElapsedRaw",
    "AllocTRES",
)
NOT_ENDED_STATES = {"RUNNING", "PENDING", "REQUEUED", "RESIZING", "SUSPENDED"}
NO_END_VALUES = {"", "unknown", "none"}
# AllocTRES as sacct writes it: comma-separated name=value pairs, no spaces (or empty).
TRES_RE = re.compile(r"(?:[^,=\s]+=[^,=\s]+(?:,[^,=\s]+=[^,=\s]+)*)?")

# Kinds of line that are not charged, as the report counts them.
MALFORMED = "malformed line"
UNPARSABLE = "unparsable field"
UNKNOWN_ACCOUNT = "unknown account"
NO_RESOURCE = "no resource for cluster and partition"
NOT_AWARDED = "resource not awarded to the account"
NOT_CHARGED = "resource not charged from jobs"
NOT_ENDED = "not ended"
OTHER_CLUSTER = "other cluster"
# Kinds that are expected in any sacct file and are no problem.
BENIGN = {NOT_ENDED, NOT_CHARGED}


class Outcome:
    CLEAN = UsageFile.Outcome.CLEAN
    PROBLEMS = UsageFile.Outcome.PROBLEMS
    REFUSED = UsageFile.Outcome.REFUSED
    ALREADY = "already imported"


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def _hours(charge: int) -> Decimal:
    """A charge (ten-thousandths of unit-seconds) in hours to four places, rounded half up."""
    return Decimal(_ledger_units(charge)).scaleb(-4)


def _ledger_units(charge: int) -> int:
    """A charge in ten-thousandths of an hour, rounded half away from zero."""
    half = SECONDS_PER_HOUR // 2
    if charge >= 0:
        return (charge + half) // SECONDS_PER_HOUR
    return -((-charge + half) // SECONDS_PER_HOUR)


@dataclass
class ImportReport:
    cluster: str
    source: str = ""
    dry_run: bool = False
    refused: bool = False
    already_imported: bool = False
    lines_read: int = 0
    charged: int = 0  # jobs recorded for the first time
    corrected: int = 0  # jobs whose record changed
    duplicates: int = 0  # lines that changed nothing
    skipped: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    # (account, Slurm user) → jobs charged without a member
    unknown_users: Counter = field(default_factory=Counter)
    # account → [lines, charge not charged]
    unknown_accounts: dict[str, list[int]] = field(default_factory=dict)
    # (account, resource code, unit) → charge written by this import (ten-thousandths of s)
    charges: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def problem(self, line: int, field_name: str, message: str) -> None:
        self.problems.append(Problem(line, field_name, message))

    @property
    def outcome(self) -> str:
        if self.already_imported:
            return Outcome.ALREADY
        if self.refused:
            return Outcome.REFUSED
        if self.problems or self.unknown_users:
            return Outcome.PROBLEMS
        return Outcome.CLEAN

    def warnings(self) -> list[str]:
        return [
            f"warning: User: unknown user {user!r} on {account}: {jobs} "
            f"job{'s' if jobs != 1 else ''} charged without a member"
            for (account, user), jobs in sorted(self.unknown_users.items())
        ]

    def hours(self) -> dict[tuple[str, str, str], Decimal]:
        return {key: _hours(charge) for key, charge in sorted(self.charges.items())}

    def lines(self, *, first: int | None = None) -> list[str]:
        """The report as text. With ``first``, only that many problems (then how many more)."""
        title = f"Usage import from cluster {self.cluster}"
        if self.source:
            title += f" ({self.source})"
        out = [title + (" (dry run)" if self.dry_run else "")]
        if self.already_imported:
            out.append("This content was imported before: nothing changed.")
            return out
        shown = self.problems if first is None else self.problems[:first]
        out += [str(p) for p in shown]
        if len(shown) < len(self.problems):
            out.append(
                f"… and {len(self.problems) - len(shown)} more problems "
                "(all in --json and in the usage file's report)"
            )
        out += self.warnings()
        if self.refused:
            out.append("Not imported.")
            return out
        out.append(f"Lines read: {self.lines_read}")
        out.append(f"Jobs charged: {self.charged}")
        out.append(f"Jobs corrected: {self.corrected}")
        out.append(f"Duplicates: {self.duplicates}")
        out.append(f"Skipped: {sum(self.skipped.values())}")
        out += [f"  {reason}: {count}" for reason, count in sorted(self.skipped.items())]
        if self.unknown_accounts:
            out.append("Unknown accounts (lines, hours not charged):")
            for name, (lines, charge) in sorted(self.unknown_accounts.items()):
                out.append(f"  {name}: {lines} lines, {_hours(charge)} hours")
        out.append("Hours per allocation:")
        for (account, code, unit), hours in self.hours().items():
            out.append(f"  {account} {code}: {hours} {unit}")
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def as_dict(self) -> dict[str, Any]:
        """The whole report, for ``--json`` and the usage file's record."""
        return {
            "cluster": self.cluster,
            "source": self.source,
            "outcome": self.outcome,
            "dry_run": self.dry_run,
            "lines_read": self.lines_read,
            "jobs_charged": self.charged,
            "jobs_corrected": self.corrected,
            "duplicates": self.duplicates,
            "skipped": dict(sorted(self.skipped.items())),
            "problems": [
                {"line": p.line, "field": p.field, "message": p.message} for p in self.problems
            ],
            "unknown_users": [
                {"account": account, "user": user, "jobs": jobs}
                for (account, user), jobs in sorted(self.unknown_users.items())
            ],
            "unknown_accounts": [
                {"account": name, "lines": lines, "hours": str(_hours(charge))}
                for name, (lines, charge) in sorted(self.unknown_accounts.items())
            ],
            "hours": [
                {"account": account, "resource": code, "unit": unit, "hours": str(hours)}
                for (account, code, unit), hours in self.hours().items()
            ],
        }


@dataclass
class _Account:
    allocation_id: int
    name: str
    resource_ids: set[int] = field(default_factory=set)
    # Slurm user name (the email's local part, lower case) → user ids of the PI and members.
    users: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


class _Rollback(Exception):
    """Raised inside the import's transaction to undo a dry run or content seen before."""


def usage_import(
    *,
    lines: Iterable[str],
    cluster: str,
    source: str = "",
    sha256: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 100_000,
) -> ImportReport:
    """Import ``sacct -a -X -P`` output of ``cluster``; see the module doc.

    ``source`` names the input (a path) in the records and the report; ``sha256`` is the
    content's digest when the caller knows it (else it is computed while reading): content
    imported before is not imported again. ``progress``, if given, is called with the number of
    lines read every ``progress_every`` lines.

    Side effects (none with ``dry_run``): usage records inserted or updated, day totals, usage
    entries appended to the ledger, and a ``UsageFile`` row with the whole report (also when
    the file was refused, e.g. its header lacks columns)."""
    report = ImportReport(cluster=cluster, source=source, dry_run=dry_run)
    try:
        with transaction.atomic():
            _lock()
            if sha256 and UsageFile.objects.filter(sha256=sha256).exists():
                report.already_imported = True
                return report
            usage_file = UsageFile.objects.create(
                path=source[:1000], cluster=cluster, imported_at=timezone.now()
            )
            digest = None if sha256 else hashlib.sha256()
            importer = _Importer(report, usage_file=usage_file, digest=digest)
            importer.run(lines, progress, progress_every)
            if digest is not None:
                sha256 = digest.hexdigest()
            _record(usage_file, report, None if report.refused else sha256)
            if dry_run:
                raise _Rollback
            _refresh_quota_states(usage_file)
    except _Rollback:
        pass
    except IntegrityError:  # the same content, recorded by an import that ran meanwhile
        if not UsageFile.objects.filter(sha256=sha256).exists():
            raise
        report = ImportReport(cluster=cluster, source=source, already_imported=True)
    return report


def _refresh_quota_states(usage_file: UsageFile) -> None:
    """The kept quota state of every allocation this file charged (``quota_state``)."""
    charged = LedgerEntry.objects.filter(source=f"usage file {usage_file.pk}")
    quota_states_refresh(list(charged.values_list("allocation_id", flat=True).distinct()))


def _lock() -> None:
    """One import at a time: each reads the records and day totals another would change."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('allot.usage_import'))")


def _record(usage_file: UsageFile, report: ImportReport, sha256: str | None) -> None:
    if sha256 and UsageFile.objects.filter(sha256=sha256).exclude(pk=usage_file.pk).exists():
        report.already_imported = True
        raise _Rollback
    usage_file.sha256 = sha256
    usage_file.outcome = (
        UsageFile.Outcome.REFUSED
        if report.refused
        else (UsageFile.Outcome.PROBLEMS if report.outcome == Outcome.PROBLEMS else "clean")
    )
    usage_file.lines = report.lines_read
    usage_file.report = report.as_dict()
    usage_file.report_summary = str(report)
    usage_file.imported_at = timezone.now()
    usage_file.save()


class _Importer:
    def __init__(self, report: ImportReport, *, usage_file: UsageFile, digest) -> None:
        self.report = report
        self.cluster = report.cluster
        self.usage_file = usage_file
        self.digest = digest
        self.resources: dict[str, Resource] = {}
        self.accounts: dict[str, _Account] = {}
        self.known_accounts: set[str] = set()
        self.tz = timezone.get_default_timezone()

    def load(self) -> None:
        """What the jobs are checked against, in four queries whatever the file's size: the
        cluster's resources, the account names, and for the accounts awarded one of those
        resources their awards and the users of their PI and members."""
        self.resources = {
            r.slurm_partition: r for r in Resource.objects.filter(slurm_cluster=self.cluster)
        }
        self.known_accounts = set(Allocation.objects.values_list("account", flat=True))
        awards = AllocationResource.objects.filter(
            resource__in=[r.pk for r in self.resources.values()]
        ).values_list("allocation_id", "allocation__account", "resource_id")
        by_id: dict[int, _Account] = {}
        for allocation_id, name, resource_id in awards:
            account = by_id.get(allocation_id)
            if account is None:
                account = by_id[allocation_id] = self.accounts[name] = _Account(allocation_id, name)
            account.resource_ids.add(resource_id)
        people = set(
            Allocation.objects.filter(pk__in=by_id).values_list("pk", "pi_id", "pi__email")
        )
        people.update(
            AllocationMember.objects.filter(
                allocation__in=by_id, removed_at__isnull=True
            ).values_list("allocation_id", "user_id", "user__email")
        )
        for allocation_id, user_id, email in sorted(people):
            users = by_id[allocation_id].users[email.split("@")[0].lower()]
            if user_id not in users:
                users.append(user_id)

    def run(self, lines: Iterable[str], progress, progress_every: int) -> None:
        report = self.report
        iterator = iter(lines)
        digest = self.digest
        header = next(iterator, None)
        if header is None:
            report.problem(1, "header", "the file is empty")
            report.refused = True
            return
        if digest is not None:
            digest.update(header.encode())
        report.lines_read = 1
        names = [name.strip() for name in header.rstrip("\r\n").split("|")]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            report.problem(1, "header", f"missing columns: {', '.join(missing)}")
            report.refused = True
            for raw in iterator:  # the digest, and the count, of the whole file
                report.lines_read += 1
                if digest is not None:
                    digest.update(raw.encode())
            return
        self.load()
        stage = _Stage()
        width = len(names)
        trailing = names[-1] == ""
        pick = itemgetter(*(names.index(name) for name in REQUIRED_COLUMNS))
        parse = self.parse
        batch: list[tuple] = []
        number = 1
        for number, raw in enumerate(iterator, start=2):
            if digest is not None:
                digest.update(raw.encode())
            if progress and number % progress_every == 0:
                progress(number)
            values = raw.rstrip("\r\n").split("|")
            if len(values) != width:
                if len(values) == 1 and not values[0].strip():
                    continue  # a blank line
                message = f"{len(values)} fields, expected {width}"
                if len(values) == width + 1 and values[-1] == "" and not trailing:
                    message += " (a trailing '|' the header does not have)"
                report.problem(number, "line", message)
                report.skipped[MALFORMED] += 1
                continue
            row = pick(values)
            if " " in raw:  # sacct -P pads nothing, but a hand-edited file may
                row = [value.strip() for value in row]
            job = parse(number, row)
            if job is not None:
                batch.append(job)
                if len(batch) >= BATCH_SIZE:
                    stage.write(batch)
                    batch = []
        report.lines_read = number
        stage.write(batch)
        stage.merge(self)

    def parse(self, number: int, row) -> tuple | None:
        """One job line, its fields in REQUIRED_COLUMNS order, to a staging row (or None, with
        the reason counted and, where someone should look, reported)."""
        report = self.report
        job_id, cluster, account_name, user_name, partition, state, _, end, elapsed, tres = row
        if cluster and cluster != self.cluster:
            report.problem(number, "Cluster", f"job of cluster {cluster!r}, not {self.cluster!r}")
            report.skipped[OTHER_CLUSTER] += 1
            return None
        if not job_id.isdecimal():
            report.problem(number, "JobIDRaw", f"not a job id: {job_id!r}")
            report.skipped[UNPARSABLE] += 1
            return None
        if TRES_RE.fullmatch(tres) is None:
            report.problem(number, "AllocTRES", f"not comma-separated name=value pairs: {tres!r}")
            report.skipped[UNPARSABLE] += 1
            return None
        if state.split(" ", 1)[0].upper() in NOT_ENDED_STATES or end.lower() in NO_END_VALUES:
            report.skipped[NOT_ENDED] += 1
            return None
        try:
            ended_at = datetime.fromisoformat(end)
        except ValueError:
            report.problem(number, "End", f"not a date and time: {end!r}")
            report.skipped[UNPARSABLE] += 1
            return None
        if ended_at.tzinfo is not None:
            ended_at = timezone.localtime(ended_at, self.tz)
        if not elapsed.isdecimal():
            report.problem(number, "ElapsedRaw", f"not a number of seconds: {elapsed!r}")
            report.skipped[UNPARSABLE] += 1
            return None
        resource = self.resources.get(partition) or self.resources.get("")
        account = self.accounts.get(account_name)
        if account is None or resource is None or resource.pk not in account.resource_ids:
            self.not_chargeable(number, account_name, partition, resource, tres, int(elapsed))
            return None
        rule = resource.charge_rule
        if rule == ChargeRule.NONE:
            report.skipped[NOT_CHARGED] += 1
            return None
        try:
            count = _tres_count(tres, "gres/gpu" if rule == ChargeRule.GPU else "billing")
        except ValueError as error:
            report.problem(number, "AllocTRES", str(error))
            report.skipped[UNPARSABLE] += 1
            return None
        charge = count * int(elapsed) * _factor(resource)
        users = account.users.get(user_name.lower(), ())
        if len(users) == 1:
            member = users[0]
        else:
            member = 0
            report.unknown_users[(account.name, user_name)] += 1
        return (
            number,
            job_id,
            account_name,
            user_name,
            account.allocation_id,
            resource.pk,
            member,
            ended_at.date(),
            charge,
        )

    def not_chargeable(
        self,
        number: int,
        name: str,
        partition: str,
        resource: Resource | None,
        tres: str,
        elapsed: int,
    ) -> None:
        report = self.report
        if name not in self.known_accounts:
            report.problem(number, "Account", f"unknown account {name!r}")
            report.skipped[UNKNOWN_ACCOUNT] += 1
            lines_charge = report.unknown_accounts.setdefault(name, [0, 0])
            lines_charge[0] += 1
            if resource is not None and resource.charge_rule != ChargeRule.NONE:
                key = "gres/gpu" if resource.charge_rule == ChargeRule.GPU else "billing"
                with contextlib.suppress(ValueError):  # reported as such below if it mattered
                    lines_charge[1] += _tres_count(tres, key) * elapsed * _factor(resource)
        elif resource is None:
            report.problem(
                number, "Partition", f"no resource for {self.cluster!r} partition {partition!r}"
            )
            report.skipped[NO_RESOURCE] += 1
        else:
            report.problem(number, "Partition", f"resource {resource.code} not awarded to {name}")
            report.skipped[NOT_AWARDED] += 1


def _factor(resource: Resource) -> int:
    """The charge factor × CHARGE_SCALE: an integer (the factor has four decimal places)."""
    return int(resource.charge_factor * CHARGE_SCALE)


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
        columns = ", ".join(f"{c} {t}" for c, t in zip(_STAGE_COLUMNS, _STAGE_TYPES, strict=True))
        with connection.cursor() as cursor:
            for table in ("allot_stage", "allot_latest", "allot_change", "allot_delta"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE allot_stage ({columns})")
            if self.postgresql:
                # Hash aggregates and joins over a million staged rows stay in memory.
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute("SET LOCAL jit = off")

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgresql:
                with cursor.cursor.copy(
                    f"COPY allot_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN"
                ) as copy:
                    copy.write("".join(map(_copy_line, rows)))
            else:
                cursor.executemany(
                    f"INSERT INTO allot_stage ({', '.join(_STAGE_COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))})",
                    rows,
                )

    def merge(self, importer: _Importer) -> None:
        report = importer.report
        records = UsageRecord._meta.db_table
        days = UsageDay._meta.db_table
        with connection.cursor() as cursor:
            execute = cursor.execute
            if self.postgresql:
                execute("ANALYZE allot_stage")
            # The last line of each job.
            execute(
                "CREATE TEMPORARY TABLE allot_latest AS SELECT * FROM allot_stage WHERE line IN "
                "(SELECT MAX(line) FROM allot_stage GROUP BY job_id)"
            )
            # What changes: new jobs and jobs reported otherwise than recorded.
            execute(
                "CREATE TEMPORARY TABLE allot_change AS SELECT n.*, o.id AS old_id, "  # noqa: S608
                "o.allocation_id AS old_allocation_id, o.resource_id AS old_resource_id, "
                "o.member_id AS old_member_id, o.ended_on AS old_ended_on, "
                "o.charge AS old_charge "
                f"FROM allot_latest n LEFT JOIN {records} o "
                "ON o.cluster = %s AND o.job_id = n.job_id "
                "WHERE o.id IS NULL OR o.charge <> n.charge OR o.ended_on <> n.ended_on "
                "OR o.allocation_id <> n.allocation_id OR o.resource_id <> n.resource_id "
                "OR o.member_id <> n.member_id",
                [importer.cluster],
            )
            execute("SELECT COUNT(*) FROM allot_stage")
            staged = cursor.fetchone()[0]
            execute("SELECT old_id IS NULL, COUNT(*) FROM allot_change GROUP BY old_id IS NULL")
            for is_new, count in cursor.fetchall():
                if is_new:
                    report.charged = count
                else:
                    report.corrected = count
            report.duplicates = staged - report.charged - report.corrected
            execute(
                f"INSERT INTO {records} (cluster, job_id, account, user_name, "  # noqa: S608
                "allocation_id, resource_id, member_id, ended_on, charge, usage_file_id, line) "
                "SELECT %s, job_id, account, user_name, allocation_id, resource_id, member_id, "
                "ended_on, charge, %s, line FROM allot_change WHERE true "
                "ON CONFLICT (cluster, job_id) DO UPDATE SET account = excluded.account, "
                "user_name = excluded.user_name, allocation_id = excluded.allocation_id, "
                "resource_id = excluded.resource_id, member_id = excluded.member_id, "
                "ended_on = excluded.ended_on, charge = excluded.charge, "
                "usage_file_id = excluded.usage_file_id, line = excluded.line",
                [importer.cluster, importer.usage_file.pk],
            )
            execute(
                "CREATE TEMPORARY TABLE allot_delta AS "
                "SELECT allocation_id, resource_id, member_id, ended_on AS day, "
                "CAST(SUM(charge) AS bigint) AS delta FROM ("
                "SELECT allocation_id, resource_id, member_id, ended_on, charge "
                "FROM allot_change UNION ALL "
                "SELECT old_allocation_id, old_resource_id, old_member_id, old_ended_on, "
                "-old_charge FROM allot_change WHERE old_id IS NOT NULL) AS parts "
                "GROUP BY allocation_id, resource_id, member_id, ended_on "
                "HAVING SUM(charge) <> 0"
            )
            if self.postgresql:
                deltas = self.append_ledger_in_sql(cursor, importer)
            else:
                execute(
                    "SELECT d.allocation_id, d.resource_id, d.member_id, d.day, "  # noqa: S608
                    f"d.delta, COALESCE(u.charge, 0) FROM allot_delta d LEFT JOIN {days} u "
                    "ON u.allocation_id = d.allocation_id AND u.resource_id = d.resource_id "
                    "AND u.member_id = d.member_id AND u.day = d.day"
                )
                deltas = cursor.fetchall()
            execute(
                f"INSERT INTO {days} (allocation_id, resource_id, member_id, day, charge) "  # noqa: S608
                "SELECT allocation_id, resource_id, member_id, day, delta FROM allot_delta "
                "WHERE true ON CONFLICT (allocation_id, resource_id, member_id, day) "
                f"DO UPDATE SET charge = {days}.charge + excluded.charge"
            )
            for table in ("allot_stage", "allot_latest", "allot_change", "allot_delta"):
                execute(f"DROP TABLE {table}")
        if not self.postgresql:
            self.append_ledger(importer, deltas)

    def append_ledger_in_sql(self, cursor, importer: _Importer) -> list[tuple]:
        """PostgreSQL: the ledger rows of ``append_ledger`` in one INSERT … SELECT (no row
        passes through Python); returns the charge per allocation and resource for the
        report."""
        days = UsageDay._meta.db_table
        ledger = LedgerEntry._meta.db_table
        half, hour = SECONDS_PER_HOUR // 2, SECONDS_PER_HOUR
        cursor.execute(
            f"INSERT INTO {ledger} (allocation_id, resource_id, kind, amount, reason, "  # noqa: S608
            "user_id, occurred_at, source, created_at) "
            "SELECT d.allocation_id, d.resource_id, %s, "
            f"-((COALESCE(u.charge, 0) + d.delta + {half}) / {hour} "
            f"- (COALESCE(u.charge, 0) + {half}) / {hour})::numeric / {LEDGER_PLACES}, '', "
            "NULLIF(d.member_id, 0), (d.day + time '12:00') AT TIME ZONE %s, %s, %s "
            f"FROM allot_delta d LEFT JOIN {days} u "
            "ON u.allocation_id = d.allocation_id AND u.resource_id = d.resource_id "
            "AND u.member_id = d.member_id AND u.day = d.day "
            f"WHERE (COALESCE(u.charge, 0) + d.delta + {half}) / {hour} "
            f"<> (COALESCE(u.charge, 0) + {half}) / {hour}",
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
        names = {a.allocation_id: a.name for a in importer.accounts.values()}
        resources = {r.pk: r for r in importer.resources.values()}
        for allocation_id, resource_id, delta in cursor.fetchall():
            resource = resources[resource_id]
            importer.report.charges[(names[allocation_id], resource.code, resource.unit)] += int(
                delta
            )
        return []

    def append_ledger(self, importer: _Importer, deltas: list[tuple]) -> None:
        """One usage entry per key whose rounded hours change: the new rounded total minus the
        old one (so the ledger always holds the rounded exact total)."""
        report = importer.report
        names = {a.allocation_id: a.name for a in importer.accounts.values()}
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


def _tres_count(tres: str, key: str) -> int:
    """The count of ``key`` in an AllocTRES string such as
    ``billing=96,cpu=288,gres/gpu=4,mem=480G,node=1`` (0 when absent). For ``gres/gpu`` the
    typed counts (``gres/gpu:a100=4``) are added up when there is no untyped one. The string
    has passed ``TRES_RE``."""
    at = tres.find(f"{key}=")
    if at == 0 or (at > 0 and tres[at - 1] == ","):  # the common case, without splitting
        value = tres[at + len(key) + 1 :].split(",", 1)[0]
        if value.isdecimal():
            return int(value)
        raise ValueError(f"{key} is not a whole number: {value!r}")
    if f"{key}:" not in tres:
        return 0
    total = 0
    for item in tres.split(","):
        name, _, value = item.partition("=")
        if name.startswith(f"{key}:"):
            if not value.isdecimal():
                raise ValueError(f"{name} is not a whole number: {value!r}")
            total += int(value)
    return total


# Kept for callers that want an exact day's noon (the seed and tests).
def usage_instant(day: date) -> datetime:
    """When a day's usage counts: noon of ``day`` in the centre's time zone."""
    return datetime.combine(day, NOON, tzinfo=timezone.get_default_timezone())
