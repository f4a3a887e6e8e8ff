"""Usage from Slurm (PRODUCT §8): import ``sacct -a -X -P`` output into the ledger.

The first line is the header: ``|``-separated column names in any order. Every other line is one
job. A job is charged against the allocation whose ``account`` is the job's Account, on the
Resource mapped to the job's Cluster and Partition (fallback: the cluster's resource with an
empty partition), in the resource's unit:

* ``gpu`` rule: ``gres/gpu`` count × ElapsedRaw / 3600 × charge factor,
* ``billing`` rule: ``billing`` × ElapsedRaw / 3600 × charge factor,
* ``none``: not charged.

Each job's entries carry ``source = "<cluster>:<JobIDRaw>"``. What a job has been charged so far
is the sum of the entries with its source, so importing the same job again writes nothing
(a duplicate), and a job re-reported with another charge gets one correcting entry of the
difference: usage if it uses more, an adjustment with a reason if it uses less. Entries are
never updated.

Bad input never stops the rest: unknown accounts, malformed lines and unparsable fields are
reported with their line number and field. Times from sacct are read in the default time zone
(``settings.TIME_ZONE``, the centre's).

Speed and memory (PRODUCT §10, ``benchmarks/usage_import.py``): the accounts, their awards and
users are loaded once, in four queries; the input is read line by line; every ``BATCH_SIZE`` jobs
one query finds what they were charged before (by the index on ``source``) and one bulk write
(``COPY`` on PostgreSQL) appends the entries. Memory holds one batch, not the file. All of it is
one transaction; a dry run writes and rolls back, so its report is that of the real import.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from allocations.enums import ChargeRule, LedgerKind
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationResource,
    LedgerEntry,
    Resource,
)

BATCH_SIZE = 5_000
MAX_PROBLEMS = 1_000
PLACES = Decimal("0.0001")
ZERO = Decimal(0)
SECONDS_PER_HOUR = Decimal(3600)

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

# Reasons a line is skipped, as the summary shows them.
MALFORMED = "malformed line"
UNPARSABLE = "unparsable field"
UNKNOWN_ACCOUNT = "unknown account"
NO_RESOURCE = "no resource for cluster and partition"
NOT_AWARDED = "resource not awarded to the account"
NOT_CHARGED = "resource not charged from jobs"
NOT_ENDED = "not ended"
OTHER_CLUSTER = "other cluster"
ZERO_CHARGE = "zero charge"


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"line {self.line}: {prefix}{self.field}: {self.message}"


@dataclass
class ImportReport:
    cluster: str
    dry_run: bool = False
    lines_read: int = 0
    charged: int = 0
    corrected: int = 0
    duplicates: int = 0
    skipped: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    problems_left_out: int = 0
    # (account, resource code, unit) → hours charged by this import (corrections included).
    hours: dict[tuple[str, str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def problem(self, line: int, field_name: str, message: str, *, warning: bool = False) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, field_name, message, warning))
        else:
            self.problems_left_out += 1

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def lines(self) -> list[str]:
        out = [f"Usage import from cluster {self.cluster}" + (" (dry run)" if self.dry_run else "")]
        out += [str(p) for p in self.problems]
        if self.problems_left_out:
            out.append(f"… and {self.problems_left_out} more problems")
        out.append(f"Lines read: {self.lines_read}")
        out.append(f"Jobs charged: {self.charged}")
        out.append(f"Jobs corrected: {self.corrected}")
        out.append(f"Duplicates: {self.duplicates}")
        out.append(f"Skipped: {sum(self.skipped.values())}")
        out += [f"  {reason}: {count}" for reason, count in sorted(self.skipped.items())]
        out.append("Hours per allocation:")
        for (account, code, unit), hours in sorted(self.hours.items()):
            out.append(f"  {account} {code}: {hours} {unit}")
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _Job(NamedTuple):
    line: int
    job_id: str
    source: str
    account: "_Account"
    resource: Resource
    user_id: int | None
    charge: Decimal  # positive, in the resource's unit
    ended_at: datetime


@dataclass
class _Account:
    allocation_id: int
    name: str
    resource_ids: set[int] = field(default_factory=set)
    # Slurm user name (the email's local part, lower case) → user ids of the PI and members.
    users: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


class _DryRun(Exception):
    """Raised inside the import's savepoint to undo a dry run's writes."""


def usage_import(
    *,
    lines: Iterable[str],
    cluster: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 100_000,
) -> ImportReport:
    """Import ``sacct -a -X -P`` output of ``cluster`` into the ledger; see the module doc.

    ``progress``, if given, is called with the number of lines read every ``progress_every``
    lines. With ``dry_run`` nothing is kept: the entries are written and rolled back, so that
    the report is exactly that of a real import."""
    importer = _Importer(cluster=cluster, dry_run=dry_run)
    try:
        with transaction.atomic():
            importer.run(lines, progress, progress_every)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return importer.report


class _Importer:
    def __init__(self, *, cluster: str, dry_run: bool) -> None:
        self.cluster = cluster
        self.report = ImportReport(cluster=cluster, dry_run=dry_run)
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
            AllocationMember.objects.filter(allocation__in=by_id).values_list(
                "allocation_id", "user_id", "user__email"
            )
        )
        for allocation_id, user_id, email in sorted(people):
            users = by_id[allocation_id].users[email.split("@")[0].lower()]
            if user_id not in users:
                users.append(user_id)

    def run(self, lines: Iterable[str], progress, progress_every: int) -> None:
        report = self.report
        iterator = iter(lines)
        header = next(iterator, None)
        if header is None:
            return
        report.lines_read = 1
        names = [name.strip() for name in header.rstrip("\r\n").split("|")]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            report.problem(1, "header", f"missing columns: {', '.join(missing)}")
            return
        self.load()
        writer = _Writer(report)
        width = len(names)
        pick = itemgetter(*(names.index(name) for name in REQUIRED_COLUMNS))
        parse = self.parse
        pending: list[_Job] = []
        number = 1
        for number, raw in enumerate(iterator, start=2):
            if progress and number % progress_every == 0:
                progress(number)
            values = raw.rstrip("\r\n").split("|")
            if len(values) != width:
                if len(values) == width + 1 and values[-1] == "":  # `sacct -p`: a trailing "|"
                    values.pop()
                elif len(values) == 1 and not values[0].strip():
                    continue
                else:
                    report.problem(number, "line", f"{len(values)} fields, expected {width}")
                    report.skip(MALFORMED)
                    continue
            row = pick(values)
            if " " in raw:  # sacct -P pads nothing, but a hand-edited file may
                row = [value.strip() for value in row]
            job = parse(number, row)
            if job is not None:
                pending.append(job)
                if len(pending) >= BATCH_SIZE:
                    writer.write(pending)
                    pending = []
        report.lines_read = number
        writer.write(pending)

    def parse(self, number: int, row: Sequence[str]) -> _Job | None:
        """One job line, its fields in REQUIRED_COLUMNS order, to a job to charge (or None,
        with the reason counted and, where someone should look, reported)."""
        report = self.report
        job_id, cluster, account_name, user_name, partition, state, _, end, elapsed, tres = row
        cluster = cluster or self.cluster
        if cluster != self.cluster:
            report.problem(number, "Cluster", f"job of cluster {cluster!r}, not {self.cluster!r}")
            report.skip(OTHER_CLUSTER)
            return None
        if not job_id.isdecimal():
            report.problem(number, "JobIDRaw", f"not a job id: {job_id!r}")
            report.skip(UNPARSABLE)
            return None
        if state.split(" ")[0].upper() in NOT_ENDED_STATES or end.lower() in NO_END_VALUES:
            report.skip(NOT_ENDED)
            return None
        resource = self.resources.get(partition) or self.resources.get("")
        account = self.accounts.get(account_name)
        if account is None or resource is None or resource.pk not in account.resource_ids:
            self.not_chargeable(number, account_name, partition, resource)
            return None
        if resource.charge_rule == ChargeRule.NONE:
            report.skip(NOT_CHARGED)
            return None
        try:
            ended_at = datetime.fromisoformat(end)
        except ValueError:
            report.problem(number, "End", f"not a date and time: {end!r}")
            report.skip(UNPARSABLE)
            return None
        if ended_at.tzinfo is None:
            ended_at = ended_at.replace(tzinfo=self.tz)
        if not elapsed.isdecimal():
            report.problem(number, "ElapsedRaw", f"not a number of seconds: {elapsed!r}")
            report.skip(UNPARSABLE)
            return None
        try:
            count = _tres_count(
                tres, "gres/gpu" if resource.charge_rule == ChargeRule.GPU else "billing"
            )
        except ValueError as error:
            report.problem(number, "AllocTRES", str(error))
            report.skip(UNPARSABLE)
            return None
        charge = (count * int(elapsed) / SECONDS_PER_HOUR * resource.charge_factor).quantize(
            PLACES, rounding=ROUND_HALF_UP
        )
        return _Job(
            number,
            job_id,
            f"{cluster}:{job_id}",
            account,
            resource,
            self.user(number, account, user_name),
            charge,
            ended_at,
        )

    def not_chargeable(
        self, number: int, name: str, partition: str, resource: Resource | None
    ) -> None:
        report = self.report
        if name not in self.known_accounts:
            report.problem(number, "Account", f"unknown account {name!r}")
            report.skip(UNKNOWN_ACCOUNT)
        elif resource is None:
            report.problem(
                number, "Partition", f"no resource for {self.cluster!r} partition {partition!r}"
            )
            report.skip(NO_RESOURCE)
        else:
            report.problem(number, "Partition", f"resource {resource.code} not awarded to {name}")
            report.skip(NOT_AWARDED)

    def user(self, number: int, account: _Account, name: str) -> int | None:
        found = account.users.get(name.lower(), ())
        if len(found) == 1:
            return found[0]
        why = "ambiguous" if found else "unknown"
        self.report.problem(
            number,
            "User",
            f"{why} user {name!r} on {account.name}; charged without a user",
            warning=True,
        )
        return None


class _Writer:
    """Charges batches of parsed jobs: what each was charged before (one query per batch), the
    new and correcting entries, one bulk write. Counts its part of the report.

    Measured (``benchmarks/usage_import.py``, 1,000,000 lines): about half the time is the
    server's own work per ledger row (its indexes and three foreign-key checks), half is Python
    parsing and writing. Handing the batches to a second thread on the same connection, so that
    the two overlap, gained under 10 % (the threads wait for each other's GIL): not worth a
    thread inside a Celery task. Hence one.
    """

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.postgresql = connection.vendor == "postgresql"
        if self.postgresql:
            # The per-batch lookup looks expensive to the planner (thousands of probes), which
            # then spends more time compiling it (JIT, ~70 ms) than running it (~10 ms).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")

    def write(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        report = self.report
        charged = self._charged_so_far({job.source for job in jobs})
        rows = []
        hours = report.hours
        for job in jobs:
            old = charged.get(job.source)  # ≤ 0 normally; None: never charged
            new = -job.charge
            difference = new - (old or ZERO)
            if difference == 0:
                if old is None:
                    report.skip(ZERO_CHARGE)
                else:
                    report.duplicates += 1
                continue
            if old is None:
                kind, reason = LedgerKind.USAGE, ""
                report.charged += 1
            else:
                kind = LedgerKind.USAGE if difference < 0 else LedgerKind.ADJUSTMENT
                reason = f"Correction of job {job.job_id}: {-old} → {job.charge}"
                report.corrected += 1
            resource = job.resource
            rows.append(
                (job.account.allocation_id, resource.pk, kind, difference, reason, job.user_id)
                + (job.ended_at, job.source)
            )
            charged[job.source] = new
            hours[(job.account.name, resource.code, resource.unit)] -= difference
        self._append(rows)

    def _charged_so_far(self, sources: set[str]) -> dict[str, Decimal]:
        """What each job (by source) has been charged so far: the sum of its entries."""
        if self.postgresql:
            # The sources as one "|"-separated text (no source holds a "|": it separates sacct's
            # fields), not thousands of placeholders nor an array, which psycopg quotes element
            # by element. A correlated subquery per job, so that each is an index probe: as a
            # join, the planner, misled by statistics from before the import began, may sort
            # and scan the whole (growing) ledger once per batch.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT job.source, (SELECT SUM(l.amount) FROM "  # noqa: S608
                    f"{_table()} l WHERE l.source = job.source AND l.source <> '') "
                    "FROM unnest(string_to_array(%s, '|')) AS job(source)",
                    ["|".join(sources)],
                )
                totals = cursor.fetchall()
        else:
            totals = (
                LedgerEntry.objects.filter(source__in=sources)
                .values_list("source")
                .annotate(total=Sum("amount"))
                .order_by()
            )
        return {
            source: Decimal(total).quantize(PLACES) for source, total in totals if total is not None
        }

    def _append(self, rows: list[tuple]) -> None:
        """Append the entries: on PostgreSQL with COPY, elsewhere with bulk_create. Either way
        every row passes the ledger's constraints and triggers."""
        if not rows:
            return
        now = timezone.now()
        if not self.postgresql:
            LedgerEntry.objects.bulk_create(
                LedgerEntry(**dict(zip(_COLUMNS, (*row, now), strict=True))) for row in rows
            )
            return
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {_table()} ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, now))


_COLUMNS: tuple[str, ...] = ("allocation_id", "resource_id", "kind", "amount", "reason", "user_id")
_COLUMNS += ("occurred_at", "source", "created_at")


def _table() -> str:
    return connection.ops.quote_name(LedgerEntry._meta.db_table)


def _tres_count(tres: str, key: str) -> int:
    """The count of ``key`` in an AllocTRES string such as
    ``billing=96,cpu=288,gres/gpu=4,mem=480G,node=1`` (0 when absent). For ``gres/gpu`` the
    typed counts (``gres/gpu:a100=4``) are added up when there is no untyped one."""
    at = tres.find(f"{key}=")
    if at == 0 or (at > 0 and tres[at - 1] == ","):  # the common case, without splitting
        value = tres[at + len(key) + 1 :].split(",", 1)[0]
        if value.isdecimal():
            return int(value)
    counts: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in tres.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"not name=value: {item!r}")
        if name == key or name.startswith(f"{key}:"):
            if not value.isdecimal():
                raise ValueError(f"{name} is not a whole number: {value!r}")
            counts[name] = int(value)
    if key in counts:
        return counts[key]
    return sum(counts.values())
