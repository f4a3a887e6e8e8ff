"""Usage from Slurm (PRODUCT §8): ``sacct -a -X -P`` output into the ledger."""

import re
from datetime import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from allocations.models import LedgerEntry
from allocations.services import usage_import as usage_import_module
from allocations.services.usage_import import usage_import
from tests.allocation_factories import make_allocation
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"
TRES = "billing=96,cpu=288,gres/gpu=4,mem=480G,node=1"
START = "2027-06-01T10:00:00"
END = "2027-06-01T12:00:00"


@pytest.fixture
def booster():
    return make_resource()  # gpu rule, jupiter/booster, factor 1


@pytest.fixture
def devel():
    return make_resource(
        "jupiter-devel",
        name="JUPITER Devel",
        slurm_partition="develbooster",
        charge_factor=Decimal("1.5"),
    )


@pytest.fixture
def cpu():
    return make_resource(
        "jupiter-cpu",
        name="JUPITER Cluster",
        unit="core-hours",
        slurm_partition="",
        charge_rule="billing",
        charge_factor=Decimal("0.5"),
    )


@pytest.fixture
def member(db):
    return make_user("mia@uni.example", full_name="Mia Member")


@pytest.fixture
def allocation(pi, member, booster, devel, cpu):
    return make_allocation(
        pi=pi, awarded={booster: 12_000, devel: 1_000, cpu: 100_000}, members=[member]
    )


def job(
    acct,
    job_id="1001",
    *,
    user="mia",
    partition="booster",
    state="COMPLETED",
    end=END,
    elapsed="7200",
    tres=TRES,
    cluster="jupiter",
):
    return "|".join([job_id, cluster, acct, user, partition, state, START, end, elapsed, tres])


def run(*rows, header=HEADER, dry_run=False):
    return usage_import(lines=[header, *rows], cluster="jupiter", dry_run=dry_run)


def entries():
    return list(
        LedgerEntry.objects.exclude(kind="award")
        .order_by("pk")
        .values_list(
            "allocation__account",
            "resource__code",
            "kind",
            "amount",
            "user__email",
            "source",
            "reason",
            "occurred_at",
        )
    )


def at(value: str):
    return timezone.make_aware(datetime.fromisoformat(value))


def test_a_gpu_job_is_charged_gpus_times_hours(allocation, booster):
    report = run(job(allocation.account))
    assert entries() == [
        (
            allocation.account,
            "jupiter-booster",
            "usage",
            Decimal("-8.0000"),
            "mia@uni.example",
            "jupiter:1001",
            "",
            at(END),
        ),
    ]
    assert report.lines() == [
        "Usage import from cluster jupiter",
        "Lines read: 2",
        "Jobs charged: 1",
        "Jobs corrected: 0",
        "Duplicates: 0",
        "Skipped: 0",
        "Hours per allocation:",
        f"  {allocation.account} jupiter-booster: 8.0000 GPU-hours",
    ]


def test_reordered_columns_are_read_by_name(allocation):
    header = "AllocTRES|End|State|ElapsedRaw|User|Account|Partition|Cluster|Start|JobIDRaw"
    row = "|".join(
        [
            TRES,
            END,
            "COMPLETED",
            "1800",
            "pi",
            allocation.account,
            "booster",
            "jupiter",
            START,
            "77",
        ]
    )
    report = run(row, header=header)
    assert entries() == [
        (
            allocation.account,
            "jupiter-booster",
            "usage",
            Decimal("-2.0000"),
            "pi@uni.example",
            "jupiter:77",
            "",
            at(END),
        ),
    ]
    assert report.charged == 1


def test_gpu_and_billing_rules_with_charge_factors(allocation):
    report = run(
        job(allocation.account, "1", partition="develbooster", elapsed="3600"),
        job(allocation.account, "2", partition="batch", elapsed="900"),  # cluster fallback
    )
    assert entries() == [
        # 4 GPUs × 1 h × 1.5
        (
            allocation.account,
            "jupiter-devel",
            "usage",
            Decimal("-6.0000"),
            "mia@uni.example",
            "jupiter:1",
            "",
            at(END),
        ),
        # billing 96 × 0.25 h × 0.5
        (
            allocation.account,
            "jupiter-cpu",
            "usage",
            Decimal("-12.0000"),
            "mia@uni.example",
            "jupiter:2",
            "",
            at(END),
        ),
    ]
    assert report.lines()[-3:] == [
        "Hours per allocation:",
        f"  {allocation.account} jupiter-cpu: 12.0000 core-hours",
        f"  {allocation.account} jupiter-devel: 6.0000 GPU-hours",
    ]


def test_the_same_job_twice_counts_once(allocation):
    run(job(allocation.account))
    report = run(job(allocation.account), job(allocation.account))
    assert len(entries()) == 1
    assert (report.charged, report.corrected, report.duplicates) == (0, 0, 2)
    assert "Duplicates: 2" in report.lines()


def test_a_longer_elapsed_time_adds_the_difference_as_usage(allocation):
    run(job(allocation.account, elapsed="7200"))
    report = run(job(allocation.account, elapsed="9000"))
    assert entries()[1:] == [
        (
            allocation.account,
            "jupiter-booster",
            "usage",
            Decimal("-2.0000"),
            "mia@uni.example",
            "jupiter:1001",
            "Correction of job 1001: 8.0000 → 10.0000",
            at(END),
        ),
    ]
    assert (report.charged, report.corrected) == (0, 1)
    assert f"  {allocation.account} jupiter-booster: 2.0000 GPU-hours" in report.lines()


def test_a_shorter_elapsed_time_is_an_adjustment_back(allocation):
    run(job(allocation.account, elapsed="7200"))
    run(job(allocation.account, elapsed="3600"))
    report = run(job(allocation.account, elapsed="3600"))
    assert entries()[1:] == [
        (
            allocation.account,
            "jupiter-booster",
            "adjustment",
            Decimal("4.0000"),
            "mia@uni.example",
            "jupiter:1001",
            "Correction of job 1001: 8.0000 → 4.0000",
            at(END),
        ),
    ]
    assert report.duplicates == 1


def test_running_and_pending_jobs_are_not_charged(allocation):
    report = run(
        job(allocation.account, "1", state="RUNNING", end="Unknown"),
        job(allocation.account, "2", state="PENDING", end=""),
        job(allocation.account, "3", state="COMPLETED", end="Unknown"),
    )
    assert entries() == []
    assert report.lines()[1:] == [
        "Lines read: 4",
        "Jobs charged: 0",
        "Jobs corrected: 0",
        "Duplicates: 0",
        "Skipped: 3",
        "  not ended: 3",
        "Hours per allocation:",
    ]


def test_bad_lines_are_reported_and_the_rest_is_imported(allocation):
    good = job(allocation.account, "9")
    report = run(
        job("nope", "1"),
        "2|jupiter|too|few",
        job(allocation.account, "3", elapsed="12:00"),
        job(allocation.account, "4", tres="billing=96,gres/gpu=four"),
        job(allocation.account, "5", tres="garbage"),
        job(allocation.account, "6", end="yesterday"),
        job(allocation.account, "7", user="bob"),
        good,
    )
    assert report.lines() == [
        "Usage import from cluster jupiter",
        "line 2: Account: unknown account 'nope'",
        "line 3: line: 4 fields, expected 10",
        "line 4: ElapsedRaw: not a number of seconds: '12:00'",
        "line 5: AllocTRES: gres/gpu is not a whole number: 'four'",
        "line 6: AllocTRES: not name=value: 'garbage'",
        "line 7: End: not a date and time: 'yesterday'",
        f"line 8: warning: User: unknown user 'bob' on {allocation.account}; "
        "charged without a user",
        "Lines read: 9",
        "Jobs charged: 2",
        "Jobs corrected: 0",
        "Duplicates: 0",
        "Skipped: 6",
        "  malformed line: 1",
        "  unknown account: 1",
        "  unparsable field: 4",
        "Hours per allocation:",
        f"  {allocation.account} jupiter-booster: 16.0000 GPU-hours",
    ]
    assert [(e[4], e[5]) for e in entries()] == [
        (None, "jupiter:7"),
        ("mia@uni.example", "jupiter:9"),
    ]


def test_a_header_without_needed_columns_stops_with_a_report(allocation):
    report = run(job(allocation.account), header="JobIDRaw|Account")
    assert entries() == []
    assert str(report.problems[0]) == (
        "line 1: header: missing columns: Cluster, User, Partition, State, Start, End, "
        "ElapsedRaw, AllocTRES"
    )


def test_a_dry_run_writes_nothing(allocation):
    report = run(job(allocation.account), dry_run=True)
    assert entries() == []
    assert report.charged == 1
    assert report.lines()[-1] == "Dry run: nothing was written."


def test_the_command_prints_the_report(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    path.write_text(f"{HEADER}\n{job(allocation.account)}\n")
    out = StringIO()
    call_command("import_usage", str(path), "--cluster", "jupiter", stdout=out)
    assert "Jobs charged: 1\n" in out.getvalue()
    assert len(entries()) == 1


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_job_repeated_in_a_later_batch_counts_once_or_corrects(allocation, monkeypatch, dry_run):
    """Batches are written as they fill: a later batch finds what an earlier one charged, in a
    dry run too (which writes, then rolls back)."""
    monkeypatch.setattr(usage_import_module, "BATCH_SIZE", 2)
    acct = allocation.account
    report = run(
        job(acct, "1"),
        job(acct, "2"),
        job(acct, "1"),  # a duplicate, in the second batch
        job(acct, "2", elapsed="9000"),  # corrected: 8 → 10 GPU-hours
        job(acct, "3", elapsed="3600"),
        dry_run=dry_run,
    )
    assert (report.charged, report.corrected, report.duplicates) == (3, 1, 1)
    assert f"  {acct} jupiter-booster: 22.0000 GPU-hours" in report.lines()
    expected = [
        ("jupiter:1", Decimal("-8.0000"), ""),
        ("jupiter:2", Decimal("-8.0000"), ""),
        ("jupiter:2", Decimal("-2.0000"), "Correction of job 2: 8.0000 → 10.0000"),
        ("jupiter:3", Decimal("-4.0000"), ""),
    ]
    assert [(e[5], e[3], e[6]) for e in entries()] == ([] if dry_run else expected)


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_draws_a_progress_bar_on_a_terminal(allocation, tmp_path, monkeypatch):
    monkeypatch.setattr("allocations.management.commands.import_usage.PROGRESS_EVERY", 2)
    path = tmp_path / "sacct.txt"
    rows = [job(allocation.account, str(n)) for n in range(1, 6)]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    out = Terminal()
    call_command("import_usage", str(path), "--cluster", "jupiter", stdout=out)
    bars = re.findall(r"\r\[([#.]{30})\] +(\d+) %  (\d+) lines  [\d,]+ lines/s", out.getvalue())
    assert [(percent, lines) for _, percent, lines in bars] == [
        ("28", "2"),  # 2 lines of 6, 28 % of the file's characters
        ("64", "4"),
        ("100", "6"),
    ]
    assert [bar.count("#") for bar, _, _ in bars] == [8, 19, 30]
    assert "\nUsage import from cluster jupiter\n" in out.getvalue()
    assert "Jobs charged: 5\n" in out.getvalue()


def test_the_command_refuses_a_cluster_no_resource_is_on(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    path.write_text(f"{HEADER}\n{job(allocation.account)}\n")
    with pytest.raises(CommandError) as error:
        call_command("import_usage", str(path), "--cluster", "juwels", stdout=StringIO())
    assert str(error.value) == (
        "No resource is on Slurm cluster 'juwels', so none of its jobs could be charged. "
        "Clusters of the resources: jupiter."
    )
    assert entries() == []


def test_the_command_says_when_the_file_cannot_be_read(allocation, tmp_path):
    with pytest.raises(CommandError, match=r"^Cannot read .*missing\.txt: \[Errno 2\]"):
        call_command(
            "import_usage", str(tmp_path / "missing.txt"), "--cluster", "jupiter", stdout=StringIO()
        )
