"""Usage from Slurm (PRODUCT §8): ``sacct -a -X -P`` output into the ledger."""

import json
import re
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allocations.models import CHARGE_SCALE, ClusterLogin, LedgerEntry, UsageFile, UsageRecord
from allocations.selectors.ledger import allocation_ledgers
from allocations.services import usage_import as usage_import_module
from allocations.services.usage_import import MAX_CHARGE, usage_import
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
    ClusterLogin.objects.create(user=member, cluster="jupiter", login="mia")
    ClusterLogin.objects.create(user=pi, cluster="jupiter", login="pinvest")
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


def totals(allocation, code="jupiter-booster"):
    ledger = {r.resource.code: r.totals for r in allocation_ledgers(allocation=allocation)}
    t = ledger[code]
    return (t.awarded, t.used, t.balance)


def entries():
    return list(
        LedgerEntry.objects.exclude(kind="award")
        .order_by("pk")
        .values_list(
            "allocation__account", "resource__code", "kind", "amount", "user__email", "occurred_at"
        )
    )


def records():
    return list(
        UsageRecord.objects.order_by("job_id").values_list(
            "cluster", "job_id", "account", "user_name", "ended_on", "charge", "line"
        )
    )


def ledger_by_day():
    """The ledger's usage summed per allocation, resource, member and day."""
    totals: dict = defaultdict(Decimal)
    for account, code, kind, amount, email, when in entries():
        assert kind == "usage"
        totals[(account, code, email, timezone.localtime(when).date())] += amount
    return {key: value for key, value in totals.items() if value}


def noon(day: str):
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(12)))


HOUR = 3600 * CHARGE_SCALE  # a charge of one unit-hour


def test_a_gpu_job_is_a_record_and_a_day_of_usage(allocation, booster):
    report = run(job(allocation.account))
    assert records() == [
        ("jupiter", "1001", allocation.account, "mia", date(2027, 6, 1), 8 * HOUR, 2)
    ]
    assert entries() == [
        (
            allocation.account,
            "jupiter-booster",
            "usage",
            Decimal("-8.0000"),
            "mia@uni.example",
            noon("2027-06-01"),
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
    assert report.outcome == "clean"


def test_jobs_of_one_member_and_day_are_one_ledger_entry(allocation):
    # Three jobs of one GPU-second each: 3 s exactly in the records, 0.0008 h in the ledger
    # (rounded once from the exact day total, not three times).
    run(*(job(allocation.account, str(n), elapsed="1", tres="gres/gpu=1") for n in (1, 2, 3)))
    assert [r[5] for r in records()] == [CHARGE_SCALE] * 3
    assert [e[3] for e in entries()] == [Decimal("-0.0008")]


def test_reordered_columns_are_read_by_name(allocation):
    header = "AllocTRES|End|State|ElapsedRaw|User|Account|Partition|Cluster|Start|JobIDRaw"
    row = "|".join(
        [TRES, END, "COMPLETED", "1800", "pinvest", allocation.account, "booster", "jupiter", START]
        + ["77"]
    )
    report = run(row, header=header)
    assert [(e[3], e[4]) for e in entries()] == [(Decimal("-2.0000"), "pi@uni.example")]
    assert report.charged == 1


def test_gpu_and_billing_rules_with_charge_factors(allocation):
    report = run(
        job(allocation.account, "1", partition="develbooster", elapsed="3600"),
        job(allocation.account, "2", partition="batch", elapsed="900"),  # cluster fallback
        job(allocation.account, "3", elapsed="3600", tres="gres/gpu:a100=2,gres/gpu:h100=1"),
        job(allocation.account, "4", elapsed="3600", tres="gres/gpu=4,gres/gpu:h100=4"),
    )
    assert [(r[1], r[5]) for r in records()] == [
        ("1", 6 * HOUR),  # 4 GPUs × 1 h × 1.5
        ("2", 12 * HOUR),  # billing 96 × 0.25 h × 0.5
        ("3", 3 * HOUR),  # typed GPUs added up
        ("4", 4 * HOUR),  # a typed count beside the untyped one is counted once
    ]
    assert report.lines()[-4:] == [
        "Hours per allocation:",
        f"  {allocation.account} jupiter-booster: 7.0000 GPU-hours",
        f"  {allocation.account} jupiter-cpu: 12.0000 core-hours",
        f"  {allocation.account} jupiter-devel: 6.0000 GPU-hours",
    ]


def test_the_same_job_twice_counts_once(allocation):
    run(job(allocation.account))
    report = run(job(allocation.account), job(allocation.account), job(allocation.account, "2"))
    assert len(records()) == 2
    assert [e[3] for e in entries()] == [Decimal("-8.0000"), Decimal("-8.0000")]
    assert (report.charged, report.corrected, report.duplicates) == (1, 0, 2)


def test_the_same_content_again_changes_nothing(allocation):
    lines = [HEADER, job(allocation.account)]
    usage_import(lines=lines, cluster="jupiter")
    report = usage_import(lines=lines, cluster="jupiter")
    assert report.already_imported
    assert report.lines() == [
        "Usage import from cluster jupiter",
        "This content was imported before: nothing changed.",
    ]
    assert len(entries()) == 1
    assert UsageFile.objects.count() == 1


def test_a_longer_elapsed_time_adds_the_difference_as_usage(allocation):
    run(job(allocation.account, elapsed="7200"))
    report = run(job(allocation.account, elapsed="9000"))
    assert [e[2:4] for e in entries()] == [
        ("usage", Decimal("-8.0000")),
        ("usage", Decimal("-2.0000")),
    ]
    assert records()[0][5] == 10 * HOUR
    assert (report.charged, report.corrected) == (0, 1)
    assert f"  {allocation.account} jupiter-booster: 2.0000 GPU-hours" in report.lines()


def test_a_shorter_elapsed_time_gives_usage_back_not_an_adjustment(allocation):
    run(job(allocation.account, elapsed="7200"))
    run(job(allocation.account, elapsed="3600"))
    report = run(job(allocation.account, elapsed="3600", tres=TRES + ",license/x=1"))
    assert [e[2:4] for e in entries()] == [
        ("usage", Decimal("-8.0000")),
        ("usage", Decimal("4.0000")),
    ]
    assert report.duplicates == 1
    # Awarded stays what was decided; used is net.
    assert totals(allocation) == (Decimal(12_000), Decimal(4), Decimal(11_996))


def test_a_job_reported_on_another_day_moves_its_usage(allocation):
    run(job(allocation.account, end="2027-06-01T12:00:00"))
    run(job(allocation.account, end="2027-06-02T01:00:00"))
    assert ledger_by_day() == {
        (allocation.account, "jupiter-booster", "mia@uni.example", date(2027, 6, 2)): Decimal(-8)
    }


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
    assert report.outcome == "clean"


def test_a_slurm_user_is_a_member_by_their_cluster_login_never_by_their_email(
    allocation, pi, member
):
    """Mia's login is "mia", Paula's "pinvest"; "pi" is the local part of Paula's email and a
    login of nobody; Mia has no login on another cluster, where "mia" is nobody."""
    ClusterLogin.objects.create(user=make_user("other@uni.example"), cluster="jedi", login="pi")
    report = run(
        job(allocation.account, "1", user="mia"),
        job(allocation.account, "2", user="pinvest"),
        job(allocation.account, "3", user="pi"),
    )

    members = dict(UsageRecord.objects.values_list("job_id", "member_id"))
    assert members == {"1": member.pk, "2": pi.pk, "3": 0}  # 0: charged without a member
    assert report.unknown_users == {(allocation.account, "pi"): 1}


def test_bad_lines_are_reported_and_the_rest_is_imported(allocation):
    report = run(
        job("nope", "1"),
        "2|jupiter|too|few",
        job(allocation.account, "3", elapsed="12:00"),
        job(allocation.account, "4", tres="billing=96,gres/gpu=four"),
        job(allocation.account, "5", tres="garbage"),
        job(allocation.account, "6", end="yesterday"),
        job(allocation.account, "7", user="bob"),
        job(allocation.account, "8", user="bob"),
        job(allocation.account, "9") + "|",
        job(allocation.account, "10", tres="billing=96 cpu=288 gres/gpu=4"),
        job(allocation.account, "11", partition="batch", tres="billing=96 cpu=288"),
        job("nope", "12", elapsed="3600"),
        job(allocation.account, "13"),
    )
    assert report.lines() == [
        "Usage import from cluster jupiter",
        "line 2: Account: unknown account 'nope'",
        "line 3: line: 4 fields, expected 10",
        "line 4: ElapsedRaw: not a number of seconds: '12:00'",
        "line 5: AllocTRES: gres/gpu is not a whole number: 'four'",
        "line 6: AllocTRES: not comma-separated name=value pairs: 'garbage'",
        "line 7: End: not a date and time: 'yesterday'",
        "line 10: line: 11 fields, expected 10 (a trailing '|' the header does not have)",
        "line 11: AllocTRES: not comma-separated name=value pairs: 'billing=96 cpu=288 gres/gpu=4'",
        "line 12: AllocTRES: not comma-separated name=value pairs: 'billing=96 cpu=288'",
        "line 13: Account: unknown account 'nope'",
        f"warning: User: unknown user 'bob' on {allocation.account}: 2 jobs charged without "
        "a member",
        "Lines read: 14",
        "Jobs charged: 3",
        "Jobs corrected: 0",
        "Duplicates: 0",
        "Skipped: 10",
        "  malformed line: 2",
        "  unknown account: 2",
        "  unparsable field: 6",
        "Unknown accounts (lines, hours not charged):",
        "  nope: 2 lines, 12.0000 hours",
        "Hours per allocation:",
        f"  {allocation.account} jupiter-booster: 24.0000 GPU-hours",
    ]
    assert report.outcome == "problems"
    assert [r[1] for r in records()] == ["13", "7", "8"]
    assert ledger_by_day() == {
        (allocation.account, "jupiter-booster", None, date(2027, 6, 1)): Decimal(-16),
        (allocation.account, "jupiter-booster", "mia@uni.example", date(2027, 6, 1)): Decimal(-8),
    }


def test_a_trailing_bar_is_fine_where_the_header_has_one(allocation):
    report = run(job(allocation.account) + "|", header=HEADER + "|")
    assert report.outcome == "clean"
    assert report.charged == 1


def test_every_problem_is_kept_in_the_usage_file_record(allocation):
    rows = [job("nope", str(n)) for n in range(1, 1_501)]
    report = run(*rows)
    assert len(report.problems) == 1_500
    usage_file = UsageFile.objects.get()
    assert usage_file.outcome == "problems"
    assert len(usage_file.report["problems"]) == 1_500
    assert usage_file.report["problems"][-1] == {
        "line": 1_501,
        "field": "Account",
        "message": "unknown account 'nope'",
    }
    assert usage_file.report["unknown_accounts"] == [
        {"account": "nope", "lines": 1_500, "hours": "12000.0000"}
    ]


def test_a_header_without_needed_columns_is_not_imported(allocation):
    report = run(job(allocation.account), header="JobIDRaw|Account")
    assert entries() == []
    assert report.outcome == "refused"
    assert report.lines() == [
        "Usage import from cluster jupiter",
        "line 1: header: missing columns: Cluster, User, Partition, State, Start, End, "
        "ElapsedRaw, AllocTRES",
        "Not imported.",
    ]
    assert UsageFile.objects.get().outcome == "refused"


def test_a_dry_run_writes_nothing(allocation):
    report = run(job(allocation.account), dry_run=True)
    assert entries() == []
    assert records() == []
    assert not UsageFile.objects.exists()
    assert report.charged == 1
    assert report.lines()[-1] == "Dry run: nothing was written."


def test_the_command_prints_the_report_and_exits_0_when_clean(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    path.write_text(f"{HEADER}\n{job(allocation.account)}\n")
    out = StringIO()
    call_command("import_usage", str(path), "--cluster", "jupiter", stdout=out)
    assert "Jobs charged: 1\n" in out.getvalue()
    assert len(entries()) == 1
    out = StringIO()
    call_command("import_usage", str(path), "--cluster", "jupiter", stdout=out)
    assert "This content was imported before: nothing changed." in out.getvalue()
    assert len(entries()) == 1


def test_the_command_exits_3_with_problems_and_prints_the_first(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    rows = [job("nope", str(n)) for n in range(1, 31)] + [job(allocation.account, "99")]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_usage", str(path), "--cluster", "jupiter", stdout=out)
    assert exit_.value.code == 3
    text = out.getvalue()
    assert "line 21: Account: unknown account 'nope'" in text
    assert "line 22:" not in text
    assert "… and 10 more problems (all in --json and in the usage file's report)" in text
    assert "  nope: 30 lines, 240.0000 hours" in text
    assert len(entries()) == 1


def test_the_command_exits_4_when_nothing_was_imported(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    path.write_text(f"JobIDRaw|Account\n1|{allocation.account}\n")
    with pytest.raises(SystemExit) as exit_:
        call_command("import_usage", str(path), "--cluster", "jupiter", stdout=StringIO())
    assert exit_.value.code == 4


def test_the_command_prints_json(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    path.write_text(
        f"{HEADER}\n{job(allocation.account)}\n{job(allocation.account, '2', user='x')}\n"
    )
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("import_usage", str(path), "--cluster", "jupiter", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["outcome"] == "problems"
    assert report["jobs_charged"] == 2
    assert report["unknown_users"] == [{"account": allocation.account, "user": "x", "jobs": 1}]
    assert report["hours"] == [
        {
            "account": allocation.account,
            "resource": "jupiter-booster",
            "unit": "GPU-hours",
            "hours": "16.0000",
        }
    ]


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_job_repeated_in_a_later_batch_counts_once_or_corrects(allocation, monkeypatch, dry_run):
    monkeypatch.setattr(usage_import_module, "BATCH_SIZE", 2)
    acct = allocation.account
    report = run(
        job(acct, "1"),
        job(acct, "2"),
        job(acct, "1"),  # the same again, in the second batch
        job(acct, "2", elapsed="9000"),  # the last report wins: 10 GPU-hours
        job(acct, "3", elapsed="3600"),
        dry_run=dry_run,
    )
    assert (report.charged, report.corrected, report.duplicates) == (3, 0, 2)
    assert f"  {acct} jupiter-booster: 22.0000 GPU-hours" in report.lines()
    assert [e[3] for e in entries()] == ([] if dry_run else [Decimal("-22.0000")])


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
    assert "\nUsage import from cluster jupiter" in out.getvalue()
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
    assert error.value.returncode == 4
    assert entries() == []


def test_the_command_says_when_the_file_cannot_be_read(allocation, tmp_path):
    with pytest.raises(CommandError, match=r"^Cannot read .*missing\.txt: \[Errno 2\]"):
        call_command(
            "import_usage", str(tmp_path / "missing.txt"), "--cluster", "jupiter", stdout=StringIO()
        )


def test_a_continued_account_charges_the_allocation_running_when_the_job_ended(pi, member, booster):
    """A continuation keeps its predecessor's Slurm account (PRODUCT §8): a job is charged to
    the latest allocation of the account that had started by the job's end, else the first."""
    ClusterLogin.objects.create(user=member, cluster="jupiter", login="mia")
    earlier, later = (
        make_allocation(
            pi=pi,
            awarded={booster: 1_000},
            start=date(year, 1, 1),
            end=date(year, 12, 31),
            members=[member],
        )
        for year in (2026, 2027)
    )
    # The award service gives a continuation its predecessor's account (walked over HTTP in
    # test_continuation); here only the shared account matters.
    type(later).objects.filter(pk=later.pk).update(account=earlier.account, continues=earlier)
    account = earlier.account

    run(
        job(account, "1", end="2026-06-01T12:00:00"),  # 8 GPU-hours each
        job(account, "2", end="2027-03-01T12:00:00"),
        job(account, "3", end="2025-12-01T12:00:00"),  # before either: the first
        job(account, "4", end="2028-02-01T12:00:00"),  # after the last: the last
    )
    charged = dict(UsageRecord.objects.values_list("job_id", "allocation_id"))
    assert charged == {"1": earlier.pk, "2": later.pk, "3": earlier.pk, "4": later.pk}
    assert (totals(earlier)[1], totals(later)[1]) == (Decimal(16), Decimal(16))

    run(job(account, "2", end="2026-12-31T23:00:00"))  # re-reported: it ended in 2026

    assert UsageRecord.objects.get(job_id="2").allocation_id == earlier.pk
    assert (totals(earlier)[1], totals(later)[1]) == (Decimal(24), Decimal(8))


def test_the_allocations_to_refresh_are_read_once_each_not_once_per_ledger_row(allocation):
    """The quota state of every allocation the file charged is refreshed after the import; the
    ledger's default ordering (occurred_at, id) must not enter that DISTINCT, or a file of ten
    million lines brings every new ledger row back to Python (353 MiB in the benchmark)."""
    with CaptureQueriesContext(connection) as queries:
        run(*(job(allocation.account, str(n), end=f"2027-06-{n:02d}T12:00:00") for n in (1, 2, 3)))

    [select] = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT DISTINCT") and "allocations_ledgerentry" in q["sql"]
    ]
    columns = select.split(" FROM ")[0]
    assert "allocation_id" in columns and "," not in columns, columns


# Hostile values in every field: each is charged or reported by line and field; none stops the
# import or reaches the records, the ledger or the kept report in a form PostgreSQL refuses (a
# NUL) or a terminal obeys (a carriage return).
@pytest.mark.parametrize("user", ["back\\slash", "ünï", "'; DROP TABLE x; --", "a" * 100])
def test_an_odd_but_printable_user_name_is_kept_and_charged_without_a_member(allocation, user):
    report = run(job(allocation.account, "1", user=user))
    assert report.charged == 1
    assert list(UsageRecord.objects.values_list("job_id", "user_name", "member_id")) == [
        ("1", user, 0)
    ]
    assert report.unknown_users == {(allocation.account, user): 1}


@pytest.mark.parametrize("user", ["a\tb", "cr\rin", "nul\x00byte", "esc\x1b[2J", "x" * 101])
def test_a_user_name_with_a_control_character_or_too_long_is_reported(allocation, user):
    report = run(job(allocation.account, "1", user=user), job(allocation.account, "2"))
    assert report.lines()[1] == f"line 2: User: not a user name: {user!r}"
    assert report.charged == 1
    assert list(UsageRecord.objects.values_list("job_id", flat=True)) == ["2"]
    kept = UsageFile.objects.get()
    assert kept.report["problems"] == [
        {"line": 2, "field": "User", "message": f"not a user name: {user!r}"}
    ]
    assert "\x00" not in kept.report_summary and "\r" not in kept.report_summary


@pytest.mark.parametrize("account", ["nul\x00acct", "cr\racct", "y" * 101])
def test_an_account_name_with_a_control_character_or_too_long_is_reported(allocation, account):
    report = run(job(account, "1"), job(allocation.account, "2"))
    assert report.lines()[1] == f"line 2: Account: not an account name: {account!r}"
    assert report.unknown_accounts == {}
    assert report.skipped == {"unparsable field": 1}
    assert json.dumps(UsageFile.objects.get().report).count("not an account name") == 1


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("job_id", "9" * 19, "JobIDRaw: not a job id: '" + "9" * 19 + "'"),
        ("job_id", "٣٤", "JobIDRaw: not a job id: '٣٤'"),
        ("elapsed", "9" * 13, "ElapsedRaw: not a number of seconds: '" + "9" * 13 + "'"),
        ("elapsed", "9" * 5000, "ElapsedRaw: not a number of seconds: '" + "9" * 5000 + "'"),
        ("elapsed", "٣٦٠٠", "ElapsedRaw: not a number of seconds: '٣٦٠٠'"),
        (
            "tres",
            "gres/gpu=" + "9" * 13,
            "AllocTRES: gres/gpu is not a whole number: '" + "9" * 13 + "'",
        ),
        (
            "tres",
            "gres/gpu:a100=" + "9" * 5000,
            "AllocTRES: gres/gpu:a100 is not a whole number: '" + "9" * 5000 + "'",
        ),
        (
            "tres",
            "gres/gpu=999999999999",
            "ElapsedRaw: 999999999999 × 7200 s is more than one job can be charged "
            "(1,000,000,000 hours)",
        ),
        ("end", "2027-02-30T12:00:00", "End: not a date and time: '2027-02-30T12:00:00'"),
        ("end", "0000-01-01T00:00:00", "End: not a date and time: '0000-01-01T00:00:00'"),
    ],
)
def test_a_value_too_large_or_impossible_is_reported(allocation, field, value, problem):
    report = run(
        job(allocation.account, **{"job_id": "1", field: value}), job(allocation.account, "2")
    )
    assert report.lines()[1:2] == [f"line 2: {problem}"]
    assert report.charged == 1
    assert list(UsageRecord.objects.values_list("job_id", flat=True)) == ["2"]


def test_charges_that_add_up_past_what_the_ledger_holds_refuse_the_file(allocation):
    """Each job under the limit, but their day's sum beyond a 64-bit integer: the file is not
    imported, and says why, instead of failing half-way."""
    gpus = MAX_CHARGE // (3600 * 10_000) // 100
    lines = [
        job(allocation.account, str(n), elapsed="360000", tres=f"gres/gpu={gpus}")
        for n in range(1, 300)
    ]
    report = run(*lines)
    assert report.outcome == "refused"
    assert report.lines()[1:] == [
        "line 1: file: the charges of one allocation, member and day add up to more than the "
        "ledger can hold",
        "Not imported.",
    ]
    assert UsageRecord.objects.count() == 0
    assert UsageFile.objects.get().outcome == "refused"


def test_the_day_of_a_job_is_its_end_in_the_centres_time_zone(allocation, settings):
    """A naive End is the centre's own time; one with an offset is moved into the centre's
    zone first, so a job that ended at 23:30 UTC in summer counts on the next day in Berlin."""
    settings.TIME_ZONE = "Europe/Berlin"
    run(
        job(allocation.account, "1", end="2027-06-01T23:30:00"),
        job(allocation.account, "2", end="2027-06-01T23:30:00+00:00"),
        job(allocation.account, "3", end="2027-06-01T23:30:00Z"),
        job(allocation.account, "4", end="20270601T233000"),
        job(allocation.account, "5", end="2027-06-01"),
        job(allocation.account, "6", end="2027-W22-2T12:00"),  # ISO week date: 1 June
    )
    assert {r[1]: r[4] for r in records()} == {
        "1": date(2027, 6, 1),
        "2": date(2027, 6, 2),
        "3": date(2027, 6, 2),
        "4": date(2027, 6, 1),
        "5": date(2027, 6, 1),
        "6": date(2027, 6, 1),
    }


def test_a_byte_order_mark_before_the_header_is_not_part_of_its_first_name(allocation, tmp_path):
    path = tmp_path / "sacct.txt"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + job(allocation.account) + "\r\n").encode())
    out = StringIO()
    call_command("import_usage", str(path), "--cluster", "jupiter", stdout=out)
    assert "Jobs charged: 1" in out.getvalue()
    assert list(UsageRecord.objects.values_list("job_id", "charge")) == [("1001", 8 * HOUR)]


def test_a_job_listed_again_after_later_ids_is_charged_by_its_last_line(allocation):
    """sacct lists jobs by id; a file that does not (a re-reported job appended, files
    concatenated) still charges each job once, by its last line."""
    report = run(
        job(allocation.account, "5", elapsed="3600"),
        job(allocation.account, "7"),
        job(allocation.account, "5", elapsed="10800"),
    )
    assert (report.charged, report.corrected, report.duplicates) == (2, 0, 1)
    assert [(r[1], r[5], r[6]) for r in records()] == [
        ("5", 4 * 3 * HOUR, 4),
        ("7", 4 * 2 * HOUR, 3),
    ]
    assert ledger_by_day() == {
        (allocation.account, "jupiter-booster", "mia@uni.example", date(2027, 6, 1)): Decimal(-20)
    }
