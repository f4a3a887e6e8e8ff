"""Usage import is idempotent (PRODUCT §8, issue 12): any split of a file into consecutive
parts, imported in order with parts imported again at any later point, gives the records and
the ledger of one import of the whole."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocations.models import LedgerEntry, UsageDay, UsageRecord
from allocations.services.usage_import import usage_import
from tests.allocation_factories import make_allocation
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"


class Rollback(Exception):
    pass


@pytest.fixture
def allocation(pi):
    member = make_user("mia@uni.example", full_name="Mia Member")
    cpu = make_resource(
        "jupiter-cpu",
        name="JUPITER Cluster",
        unit="core-hours",
        slurm_partition="batch",
        charge_rule="billing",
        charge_factor=Decimal("0.3333"),
    )
    return make_allocation(pi=pi, awarded={make_resource(): 12_000, cpu: 50_000}, members=[member])


def line(n, acct, job_id, user, partition, day, elapsed, gpus):
    return "|".join(
        [
            str(job_id),
            "jupiter",
            acct,
            user,
            partition,
            "COMPLETED",
            f"2027-06-01T00:{n // 60 % 60:02d}:{n % 60:02d}",  # every line its own
            f"2027-06-{day:02d}T23:59:59",
            str(elapsed),
            f"billing={gpus * 7},cpu=288,gres/gpu={gpus},mem=480G,node=1",
        ]
    )


def state():
    records = sorted(
        UsageRecord.objects.values_list(
            "cluster", "job_id", "allocation_id", "resource_id", "member_id", "ended_on", "charge"
        )
    )
    ledger: dict = defaultdict(Decimal)
    for key in LedgerEntry.objects.filter(kind="usage").values_list(
        "allocation_id", "resource_id", "user_id", "occurred_at", "amount"
    ):
        ledger[key[:4]] += key[4]
    days = sorted(
        UsageDay.objects.exclude(charge=0).values_list(
            "allocation_id", "resource_id", "member_id", "day", "charge"
        )
    )
    return records, {k: v for k, v in ledger.items() if v}, days


def imported(*files):
    with transaction.atomic():
        for lines in files:
            usage_import(lines=[HEADER, *lines], cluster="jupiter")
        result = state()
        transaction.set_rollback(True)
    return result


jobs = st.lists(
    st.tuples(
        st.integers(1, 12),  # job id: few, so that jobs are re-reported
        st.sampled_from(["mia", "pi", "bob"]),
        st.sampled_from(["booster", "batch"]),
        st.integers(1, 3),  # day
        st.integers(0, 90_000),  # elapsed seconds
        st.integers(0, 8),  # GPUs
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(jobs=jobs, data=st.data())
def test_any_split_with_repeats_equals_one_import(allocation, jobs, data):
    lines = [line(n, allocation.account, *job) for n, job in enumerate(jobs)]
    cuts = sorted(data.draw(st.sets(st.integers(1, max(len(lines) - 1, 1)), max_size=5)))
    parts = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True) if a < b]
    order = []
    for index in range(len(parts)):
        order.append(index)
        if data.draw(st.booleans()):  # a part imported again, later
            order.append(data.draw(st.integers(0, index)))
    whole = imported(lines)
    assert imported(*(parts[i] for i in order)) == whole
    assert imported(lines, lines) == whole


def test_a_file_then_a_longer_version_equals_the_longer_one(allocation):
    acct = allocation.account
    first = [
        line(0, acct, 1, "mia", "booster", 1, 3600, 4),
        line(1, acct, 2, "pi", "batch", 1, 60, 1),
    ]
    longer = [
        *first,
        line(2, acct, 1, "mia", "booster", 1, 1800, 4),
        line(3, acct, 3, "bob", "booster", 2, 7, 1),
    ]
    assert imported(first, longer) == imported(longer)
    records, ledger, days = imported(first, longer)
    # Job 1 shrank from 4 to 2 GPU-hours: a usage entry gave 2 back; the day total is exact.
    assert [r[6] for r in records if r[1] == "1"] == [1800 * 4 * 10_000]
