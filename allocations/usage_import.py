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
(``settings.TIME_ZONE``, the centre's). The input is read line by line and entries are written in
batches of ``BATCH_SIZE``, all in one transaction.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from allocations.enums import ChargeRule, LedgerKind
from allocations.models import Allocation, AllocationResource, LedgerEntry, Resource

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


@dataclass(frozen=True)
class _Job:
    line: int
    job_id: str
    source: str
    allocation: Allocation
    resource: Resource
    user: User | None
    charge: Decimal  # positive, in the resource's unit
    ended_at: datetime


@dataclass
class _Account:
    allocation: Allocation
    resource_ids: set[int]
    users: dict[str, list[User]]


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
    lines. With ``dry_run`` nothing is written; the report is the same."""
    with transaction.atomic():
        return _Importer(cluster=cluster, dry_run=dry_run).run(lines, progress, progress_every)


class _Importer:
    def __init__(self, *, cluster: str, dry_run: bool) -> None:
        self.cluster = cluster
        self.dry_run = dry_run
        self.report = ImportReport(cluster=cluster, dry_run=dry_run)
        self.resources = {
            r.slurm_partition: r for r in Resource.objects.filter(slurm_cluster=cluster)
        }
        self.accounts: dict[str, _Account | None] = {}
        # What each job touched by this import has been charged after it (negative amounts).
        self.charged: dict[str, Decimal] = {}
        self.pending: list[_Job] = []
        self.tz = timezone.get_default_timezone()

    def run(self, lines: Iterable[str], progress, progress_every: int) -> ImportReport:
        report = self.report
        columns: dict[str, int] | None = None
        width = 0
        for number, raw in enumerate(lines, start=1):
            report.lines_read = number
            if progress and number % progress_every == 0:
                progress(number)
            line = raw.rstrip("\r\n")
            if columns is None:
                names = [name.strip() for name in line.split("|")]
                missing = [c for c in REQUIRED_COLUMNS if c not in names]
                if missing:
                    report.problem(number, "header", f"missing columns: {', '.join(missing)}")
                    break
                columns = {name: names.index(name) for name in REQUIRED_COLUMNS}
                width = len(names)
                continue
            if not line.strip():
                continue
            values = line.split("|")
            if len(values) == width + 1 and values[-1] == "":  # `sacct -p`: a trailing "|"
                values.pop()
            if len(values) != width:
                report.problem(number, "line", f"{len(values)} fields, expected {width}")
                report.skip(MALFORMED)
                continue
            job = self.parse(number, {name: values[i].strip() for name, i in columns.items()})
            if job is not None:
                self.pending.append(job)
                if len(self.pending) >= BATCH_SIZE:
                    self.flush()
        self.flush()
        return report

    def parse(self, number: int, row: dict[str, str]) -> _Job | None:
        report = self.report
        cluster = row["Cluster"] or self.cluster
        if cluster != self.cluster:
            report.problem(number, "Cluster", f"job of cluster {cluster!r}, not {self.cluster!r}")
            report.skip(OTHER_CLUSTER)
            return None
        job_id = row["JobIDRaw"]
        if not job_id.isdigit():
            report.problem(number, "JobIDRaw", f"not a job id: {job_id!r}")
            report.skip(UNPARSABLE)
            return None
        state = row["State"].split(" ")[0].upper()
        if state in NOT_ENDED_STATES or row["End"].lower() in NO_END_VALUES:
            report.skip(NOT_ENDED)
            return None
        account = self.account(row["Account"])
        if account is None:
            report.problem(number, "Account", f"unknown account {row['Account']!r}")
            report.skip(UNKNOWN_ACCOUNT)
            return None
        resource = self.resources.get(row["Partition"]) or self.resources.get("")
        if resource is None:
            report.problem(
                number, "Partition", f"no resource for {cluster!r} partition {row['Partition']!r}"
            )
            report.skip(NO_RESOURCE)
            return None
        if resource.pk not in account.resource_ids:
            report.problem(
                number,
                "Partition",
                f"resource {resource.code} not awarded to {account.allocation.account}",
            )
            report.skip(NOT_AWARDED)
            return None
        if resource.charge_rule == ChargeRule.NONE:
            report.skip(NOT_CHARGED)
            return None
        try:
            ended_at = datetime.fromisoformat(row["End"])
        except ValueError:
            report.problem(number, "End", f"not a date and time: {row['End']!r}")
            report.skip(UNPARSABLE)
            return None
        if timezone.is_naive(ended_at):
            ended_at = timezone.make_aware(ended_at, self.tz)
        elapsed = row["ElapsedRaw"]
        if not elapsed.isdigit():
            report.problem(number, "ElapsedRaw", f"not a number of seconds: {elapsed!r}")
            report.skip(UNPARSABLE)
            return None
        key = "gres/gpu" if resource.charge_rule == ChargeRule.GPU else "billing"
        try:
            count = _tres_count(row["AllocTRES"], key)
        except ValueError as error:
            report.problem(number, "AllocTRES", str(error))
            report.skip(UNPARSABLE)
            return None
        charge = (
            Decimal(count) * Decimal(elapsed) / SECONDS_PER_HOUR * resource.charge_factor
        ).quantize(PLACES, rounding=ROUND_HALF_UP)
        user = self.user(number, account, row["User"])
        return _Job(
            number,
            job_id,
            f"{cluster}:{job_id}",
            account.allocation,
            resource,
            user,
            charge,
            ended_at,
        )

    def account(self, name: str) -> _Account | None:
        if name not in self.accounts:
            allocation = Allocation.objects.filter(account=name).select_related("pi").first()
            if allocation is None:
                self.accounts[name] = None
            else:
                users: dict[str, list[User]] = defaultdict(list)
                people = {allocation.pi.pk: allocation.pi}
                for member in allocation.members.select_related("user"):
                    people[member.user.pk] = member.user
                for person in people.values():
                    users[person.email.split("@")[0].lower()].append(person)
                resource_ids = set(
                    AllocationResource.objects.filter(allocation=allocation).values_list(
                        "resource_id", flat=True
                    )
                )
                self.accounts[name] = _Account(allocation, resource_ids, users)
        return self.accounts[name]

    def user(self, number: int, account: _Account, name: str) -> User | None:
        found = account.users.get(name.lower(), [])
        if len(found) == 1:
            return found[0]
        why = "ambiguous" if found else "unknown"
        self.report.problem(
            number,
            "User",
            f"{why} user {name!r} on {account.allocation.account}; charged without a user",
            warning=True,
        )
        return None

    def flush(self) -> None:
        if not self.pending:
            return
        report = self.report
        unknown = {job.source for job in self.pending if job.source not in self.charged}
        before = {
            row["source"]: Decimal(row["total"]).quantize(PLACES)
            for row in LedgerEntry.objects.filter(source__in=unknown)
            .values("source")
            .annotate(total=Sum("amount"))
            .order_by()
        }
        entries = []
        for job in self.pending:
            known = job.source in self.charged or job.source in before
            old = self.charged.get(job.source, before.get(job.source, ZERO))  # ≤ 0 normally
            new = -job.charge
            difference = new - old
            if difference == 0:
                if known:
                    report.duplicates += 1
                else:
                    report.skip(ZERO_CHARGE)
                continue
            entry = LedgerEntry(
                allocation=job.allocation,
                resource=job.resource,
                amount=difference,
                user=job.user,
                occurred_at=job.ended_at,
                source=job.source,
            )
            if known:
                entry.reason = f"Correction of job {job.job_id}: {-old} → {job.charge}"
                entry.kind = LedgerKind.USAGE if difference < 0 else LedgerKind.ADJUSTMENT
                report.corrected += 1
            else:
                entry.kind = LedgerKind.USAGE
                report.charged += 1
            entries.append(entry)
            self.charged[job.source] = new
            resource = job.resource
            report.hours[(job.allocation.account, resource.code, resource.unit)] -= difference
        self.pending = []
        if entries and not self.dry_run:
            LedgerEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)


def _tres_count(tres: str, key: str) -> Decimal:
    """The count of ``key`` in an AllocTRES string such as
    ``billing=96,cpu=288,gres/gpu=4,mem=480G,node=1`` (0 when absent). For ``gres/gpu`` the
    typed counts (``gres/gpu:a100=4``) are added up when there is no untyped one."""
    counts: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in tres.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"not name=value: {item!r}")
        if name == key or name.startswith(f"{key}:"):
            if not value.isdigit():
                raise ValueError(f"{name} is not a whole number: {value!r}")
            counts[name] = Decimal(value)
    if key in counts:
        return counts[key]
    return sum(counts.values(), ZERO)
