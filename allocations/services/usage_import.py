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
statements keep the last report of each job, compare it with the records, insert the new
records and update the changed ones, sum the differences per key beside the day totals, append
the ledger rows and insert or update the day totals. Memory holds one
batch of lines and the report, not the file. Imports run one at a time (a transaction-level
advisory lock on PostgreSQL; SQLite has one writer anyway). A dry run does all of it and rolls
back, so its report is that of the real import.

Times from sacct are read in the centre's time zone (``settings.TIME_ZONE``); a usage entry
counts at noon of its day there, so that its day is the same in any call's time zone.
"""

import contextlib
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter

from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from allocations.enums import ChargeRule
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationResource,
    ClusterLogin,
    LedgerEntry,
    Resource,
    UsageFile,
)
from allocations.services.quota_state import quota_states_refresh
from allocations.services.usage_report import (
    MALFORMED,
    NO_RESOURCE,
    NOON,
    NOT_AWARDED,
    NOT_CHARGED,
    NOT_ENDED,
    OTHER_CLUSTER,
    UNKNOWN_ACCOUNT,
    UNPARSABLE,
    ImportReport,
    Outcome,
)
from allocations.services.usage_stage import _Stage
from allocations.services.usage_values import (
    MAX_CHARGE,
    MAX_DIGITS,
    MAX_JOB_HOURS,
    MAX_JOB_ID_DIGITS,
    OVERFLOW,
    TRES_RE,
    digits_only,
    plain_name,
    scaled_factor,
    tres_count,
)

BATCH_SIZE = 20_000  # lines per write to the staging table

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


@dataclass
class _Account:
    allocation_id: int
    name: str
    start: date
    resource_ids: set[int] = field(default_factory=set)
    # Slurm user name (the person's ClusterLogin on the cluster) → user ids of the PI and members.
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
    quota_states_refresh(
        list(charged.order_by().values_list("allocation_id", flat=True).distinct())
    )


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
        self.factors: dict[int, int] = {}  # resource id → charge factor × CHARGE_SCALE
        # Account name → its allocations, earliest first (a continuation shares the account).
        self.accounts: dict[str, list[_Account]] = defaultdict(list)
        self.known_accounts: set[str] = set()
        self.tz = timezone.get_default_timezone()
        self.increasing = False  # every staged job id greater than the one before

    def load(self) -> None:
        """What the jobs are checked against, in six queries whatever the file's size: the
        cluster's resources, the account names, and for the accounts awarded one of those
        resources their awards, their PI and members, and those people's logins on the
        cluster. A Slurm user is a member by their ``ClusterLogin`` only."""
        self.resources = {
            r.slurm_partition: r for r in Resource.objects.filter(slurm_cluster=self.cluster)
        }
        self.factors = {r.pk: scaled_factor(r) for r in self.resources.values()}
        self.known_accounts = set(Allocation.objects.values_list("account", flat=True))
        awards = AllocationResource.objects.filter(
            resource__in=[r.pk for r in self.resources.values()]
        ).values_list("allocation_id", "allocation__account", "allocation__start", "resource_id")
        by_id: dict[int, _Account] = {}
        for allocation_id, name, start, resource_id in awards.order_by("allocation__start", "pk"):
            account = by_id.get(allocation_id)
            if account is None:
                account = by_id[allocation_id] = _Account(allocation_id, name, start)
                self.accounts[name].append(account)
            account.resource_ids.add(resource_id)
        people = set(Allocation.objects.filter(pk__in=by_id).values_list("pk", "pi_id"))
        people.update(
            AllocationMember.objects.filter(
                allocation__in=by_id, removed_at__isnull=True
            ).values_list("allocation_id", "user_id")
        )
        # Each person's login on this cluster (PRODUCT §8: never derived from the email).
        logins = dict(
            ClusterLogin.objects.filter(
                cluster=self.cluster, user_id__in={user_id for _, user_id in people}
            ).values_list("user_id", "login")
        )
        for allocation_id, user_id in sorted(people):
            if user_id in logins:
                by_id[allocation_id].users[logins[user_id]].append(user_id)

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
        # A byte-order mark (a file saved by a Windows editor) is not part of the first name.
        names = [name.strip() for name in header.rstrip("\r\n").lstrip("\ufeff").split("|")]
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
        try:
            self.read(iterator, stage, names, progress, progress_every)
        finally:
            stage.finish()  # a COPY left open would break the connection for what follows
        self.merge(stage)

    def read(self, lines: Iterator[str], stage: _Stage, names: list[str], progress, every: int):
        """Check each line after the header and stage its job (or report why not)."""
        report = self.report
        digest = self.digest
        width = len(names)
        trailing = names[-1] == ""
        pick = itemgetter(*(names.index(name) for name in REQUIRED_COLUMNS))
        parse = self.parse
        batch: list[tuple] = []
        number = 1
        increasing, last_job = True, -1
        for number, raw in enumerate(lines, start=2):
            if digest is not None:
                digest.update(raw.encode())
            if progress and number % every == 0:
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
                if increasing:  # sacct lists jobs by id: then no job can be there twice
                    job_number = int(job[1])
                    increasing = job_number > last_job
                    last_job = job_number
                batch.append(job)
                if len(batch) >= BATCH_SIZE:
                    stage.write(batch)
                    batch = []
        report.lines_read = number
        self.increasing = increasing
        stage.write(batch)

    def merge(self, stage: _Stage) -> None:
        """Merge the staged jobs in a savepoint: sums past a 64-bit integer refuse the file
        (with that reason) and undo the merge alone, so the usage file keeps its report."""
        report = self.report
        try:
            with transaction.atomic():
                stage.merge(self)
        except (DataError, OperationalError) as error:
            # PostgreSQL: numeric_value_out_of_range (22003); SQLite: "integer overflow".
            if getattr(error.__cause__, "sqlstate", None) != "22003" and (
                "integer overflow" not in str(error)
            ):
                raise
            report.problem(1, "file", OVERFLOW)
            report.refused = True
            report.charged = report.corrected = report.duplicates = 0
            report.charges.clear()

    def account_names(self) -> dict[int, str]:
        """The account name of each allocation the file may charge, by allocation id."""
        return {a.allocation_id: a.name for chain in self.accounts.values() for a in chain}

    def _allocation_of(self, account_name: str, day: date) -> _Account | None:
        """The allocation of ``account_name`` a job that ended on ``day`` is charged to: the
        latest that had started by then (as ``slurm_sync`` follows it), else the first."""
        chain = self.accounts.get(account_name)
        if not chain:
            return None
        if len(chain) == 1:
            return chain[0]
        started = [account for account in chain if account.start <= day]
        return started[-1] if started else chain[0]

    def parse(self, number: int, row) -> tuple | None:
        """One job line, its fields in REQUIRED_COLUMNS order, to a staging row (or None, with
        the reason counted and, where someone should look, reported)."""
        report = self.report
        job_id, cluster, account_name, user_name, partition, state, _, end, elapsed, tres = row
        if cluster and cluster != self.cluster:
            report.problem(number, "Cluster", f"job of cluster {cluster!r}, not {self.cluster!r}")
            report.skipped[OTHER_CLUSTER] += 1
            return None
        if not digits_only(job_id) or len(job_id) > MAX_JOB_ID_DIGITS:
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
        if not digits_only(elapsed) or len(elapsed) > MAX_DIGITS:
            report.problem(number, "ElapsedRaw", f"not a number of seconds: {elapsed!r}")
            report.skipped[UNPARSABLE] += 1
            return None
        resource = self.resources.get(partition) or self.resources.get("")
        account = self._allocation_of(account_name, ended_at.date())
        if account is None or resource is None or resource.pk not in account.resource_ids:
            self.not_chargeable(number, account_name, partition, resource, tres, int(elapsed))
            return None
        rule = resource.charge_rule
        if rule == ChargeRule.NONE:
            report.skipped[NOT_CHARGED] += 1
            return None
        try:
            count = tres_count(tres, "gres/gpu" if rule == ChargeRule.GPU else "billing")
        except ValueError as error:
            report.problem(number, "AllocTRES", str(error))
            report.skipped[UNPARSABLE] += 1
            return None
        charge = count * int(elapsed) * self.factors[resource.pk]
        if charge > MAX_CHARGE:
            report.problem(
                number,
                "ElapsedRaw",
                f"{count} × {elapsed} s is more than one job can be charged "
                f"({MAX_JOB_HOURS:,} hours)",
            )
            report.skipped[UNPARSABLE] += 1
            return None
        if not plain_name(user_name):
            report.problem(number, "User", f"not a user name: {user_name!r}")
            report.skipped[UNPARSABLE] += 1
            return None
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
            _day(end, ended_at),
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
        if not plain_name(name):
            report.problem(number, "Account", f"not an account name: {name!r}")
            report.skipped[UNPARSABLE] += 1
        elif name not in self.known_accounts:
            report.problem(number, "Account", f"unknown account {name!r}")
            report.skipped[UNKNOWN_ACCOUNT] += 1
            lines_charge = report.unknown_accounts.setdefault(name, [0, 0])
            lines_charge[0] += 1
            if resource is not None and resource.charge_rule != ChargeRule.NONE:
                key = "gres/gpu" if resource.charge_rule == ChargeRule.GPU else "billing"
                with contextlib.suppress(ValueError):  # reported as such below if it mattered
                    lines_charge[1] += tres_count(tres, key) * elapsed * self.factors[resource.pk]
        elif resource is None:
            report.problem(
                number, "Partition", f"no resource for {self.cluster!r} partition {partition!r}"
            )
            report.skipped[NO_RESOURCE] += 1
        else:
            report.problem(number, "Partition", f"resource {resource.code} not awarded to {name}")
            report.skipped[NOT_AWARDED] += 1


def _day(end: str, ended_at: datetime) -> str | date:
    """A job's day as COPY and SQLite take it: a naive End written ``YYYY-MM-DD…`` starts with
    it (no formatting on the hot path); other ISO forms (a week date, ``2027-W22-2``) and Ends
    moved into the centre's zone go through the date."""
    if ended_at.tzinfo is None and end[4:5] == end[7:8] == "-":
        return end[:10]
    return ended_at.date()


# Kept for callers that want an exact day's noon (the seed and tests).
def usage_instant(day: date) -> datetime:
    """When a day's usage counts: noon of ``day`` in the centre's time zone."""
    return datetime.combine(day, NOON, tzinfo=timezone.get_default_timezone())
