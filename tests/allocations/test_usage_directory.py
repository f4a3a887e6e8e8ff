"""Usage import from a directory (PRODUCT §7, §8): each file once, changed files again."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import override_settings

from allocations.enums import LedgerKind
from allocations.models import LedgerEntry, UsageFile
from allocations.services.usage_directory import cluster_from_name, import_usage_directory
from allocations.tasks import import_usage_directory as import_task
from tests.allocation_factories import make_allocation
from tests.factories import make_resource

pytestmark = pytest.mark.django_db

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"


def job(acct, job_id, *, elapsed=7200, cluster="jupiter", partition="booster"):
    # 4 GPUs: 8 GPU-hours for two hours.
    return "|".join(
        [
            job_id,
            cluster,
            acct,
            "mia",
            partition,
            "COMPLETED",
            "2027-06-01T10:00:00",
            "2027-06-01T12:00:00",
            str(elapsed),
            "billing=96,cpu=288,gres/gpu=4,mem=480G,node=1",
        ]
    )


def write(path, *rows):
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def used(allocation, resource=None):
    entries = LedgerEntry.objects.filter(allocation=allocation).exclude(kind=LedgerKind.AWARD)
    if resource is not None:
        entries = entries.filter(resource=resource)
    return -(entries.aggregate(total=Sum("amount"))["total"] or Decimal(0))


@pytest.fixture
def booster():
    return make_resource()  # gpu rule, jupiter/booster


@pytest.fixture
def allocation(pi, booster):
    return make_allocation(pi=pi, awarded={booster: 12_000})


def test_cluster_is_the_first_part_of_the_name(tmp_path):
    assert cluster_from_name(tmp_path / "jupiter_2027-05-01.txt") == "jupiter"
    assert cluster_from_name(tmp_path / "juwels.sacct") == "juwels"
    assert cluster_from_name(tmp_path / "jureca_booster_x.txt") == "jureca"


def test_two_files_imported_then_nothing(tmp_path, allocation):
    acct = allocation.account
    write(tmp_path / "jupiter_2027-06-01.txt", job(acct, "1"))
    write(tmp_path / "jupiter_2027-06-02.sacct", job(acct, "2"), job(acct, "3"))
    (tmp_path / "notes.md").write_text("not usage")

    imported = import_usage_directory(directory=tmp_path)

    assert [f.path.name for f in imported] == ["jupiter_2027-06-01.txt", "jupiter_2027-06-02.sacct"]
    assert [f.report.charged for f in imported] == [1, 2]
    assert used(allocation) == Decimal(24)
    rows = UsageFile.objects.order_by("path")
    assert [(r.cluster, r.path) for r in rows] == [
        ("jupiter", str(tmp_path / "jupiter_2027-06-01.txt")),
        ("jupiter", str(tmp_path / "jupiter_2027-06-02.sacct")),
    ]
    assert "Jobs charged: 2" in rows[1].report_summary

    assert import_usage_directory(directory=tmp_path) == []
    assert used(allocation) == Decimal(24)
    assert UsageFile.objects.count() == 2


def test_changed_file_is_imported_again_charging_only_the_difference(tmp_path, allocation):
    acct = allocation.account
    path = write(tmp_path / "jupiter_today.txt", job(acct, "1"), job(acct, "2"))
    import_usage_directory(directory=tmp_path)
    first_sha = UsageFile.objects.get().sha256
    assert used(allocation) == Decimal(16)

    # Job 1 unchanged, job 2 re-reported longer (3 h: 12 GPU-hours), job 3 new.
    write(path, job(acct, "1"), job(acct, "2", elapsed=10800), job(acct, "3"))
    [again] = import_usage_directory(directory=tmp_path)

    assert (again.report.duplicates, again.report.corrected, again.report.charged) == (1, 1, 1)
    assert used(allocation) == Decimal(8 + 12 + 8)
    rows = UsageFile.objects.order_by("pk")
    assert [row.sha256 for row in rows] == [first_sha, again.sha256]
    assert import_usage_directory(directory=tmp_path) == []


def test_content_imported_before_changes_nothing_under_any_name(tmp_path, allocation):
    acct = allocation.account
    write(tmp_path / "jupiter_1.txt", job(acct, "1"), job(acct, "2", elapsed=3600))
    import_usage_directory(directory=tmp_path)
    write(tmp_path / "jupiter_2.txt", job(acct, "2", elapsed=10800))  # job 2 re-reported
    import_usage_directory(directory=tmp_path)
    assert used(allocation) == Decimal(8 + 12)
    # The first file's content again, under another name (and the old file rewritten the
    # same): nothing changes, job 2 keeps its later report.
    write(tmp_path / "jupiter_3.txt", job(acct, "1"), job(acct, "2", elapsed=3600))
    (tmp_path / "jupiter_1.txt").touch()
    assert import_usage_directory(directory=tmp_path) == []
    assert used(allocation) == Decimal(8 + 12)
    assert UsageFile.objects.count() == 2


def test_cluster_comes_from_the_file_name(tmp_path, pi, booster):
    juwels = make_resource(
        "juwels-booster", name="JUWELS Booster", slurm_cluster="juwels", slurm_partition="booster"
    )
    allocation = make_allocation(pi=pi, awarded={booster: 1_000, juwels: 1_000})
    acct = allocation.account
    write(tmp_path / "juwels_2027-06-01.txt", job(acct, "7", cluster="juwels"))

    [imported] = import_usage_directory(directory=tmp_path)

    assert imported.cluster == "juwels"
    assert UsageFile.objects.get().cluster == "juwels"
    assert used(allocation, juwels) == Decimal(8)
    assert used(allocation, booster) == Decimal(0)


def test_cluster_rule_can_be_given(tmp_path, allocation):
    write(tmp_path / "usage-42.txt", job(allocation.account, "1"))
    [imported] = import_usage_directory(directory=tmp_path, cluster_of=lambda path: "jupiter")
    assert imported.cluster == "jupiter"
    assert used(allocation) == Decimal(8)


def test_task_does_nothing_without_a_directory(tmp_path, allocation):
    write(tmp_path / "jupiter_1.txt", job(allocation.account, "1"))
    with override_settings(USAGE_IMPORT_DIR=""):
        assert import_task.delay().get() == 0
    assert UsageFile.objects.count() == 0
    with override_settings(USAGE_IMPORT_DIR=str(tmp_path)):
        assert import_task.delay().get() == 1
    assert used(allocation) == Decimal(8)
