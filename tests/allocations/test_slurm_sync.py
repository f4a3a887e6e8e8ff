"""Enforcing awards in Slurm (PRODUCT §8; the rules are in ``allocations.slurm_sync``).

The worked example, on cluster ``jupiter``, today in the third month of a 12-month period:

* ``alpha`` (PI Paula, Uni Example): 12,000 GPU-hours of the Booster plus an adjustment of
  +1,200 (13,200 h × 60 = 792,000 gres/gpu minutes) and 1,000 h of the Cluster module charged
  by billing at factor 2 (1,000 × 60 / 2 = 30,000 billing minutes); members Paula, Ada and Bob,
  Bob removed; normal priority.
* ``beta`` (PI Lena, Lab "North"): 6,000 GPU-hours (360,000 minutes), monthly shares of 500;
  2,000 h used this month — beyond 500 carried + 500 share + 500 borrowable, so low priority.
* Not wanted: an allocation on another cluster, one that ended.
"""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from allocations.enums import LedgerKind
from allocations.selectors.slurm_sync import (
    LOW_PRIORITY_QOS,
    CurrentStateError,
    minutes,
    parse_current,
    plan,
    slurm_user,
    wanted_accounts,
)
from tests.allocation_factories import add_entry, add_usage, make_allocation, this_month
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(pi):
    booster = make_resource()
    cluster_module = make_resource(
        "jupiter-cluster",
        name="JUPITER Cluster",
        unit="core-hours",
        slurm_partition="cluster",
        charge_rule="billing",
        charge_factor=Decimal(2),
    )
    juwels = make_resource("juwels", name="JUWELS", slurm_cluster="juwels")
    start, end = this_month(-2), this_month(10) - timedelta(days=1)
    ada = make_user("Ada.L@uni.example", affiliation="Uni Example")
    bob = make_user("bob@uni.example", affiliation="Uni Example")
    alpha = make_allocation(
        pi=pi,
        acronym="alpha",
        awarded={booster: 12_000, cluster_module: 1_000},
        start=start,
        end=end,
        members=[ada, bob],
    )
    add_entry(alpha, booster, kind=LedgerKind.ADJUSTMENT, amount=1_200, on=this_month(-1))
    alpha.members.filter(user=bob).update(removed_at=timezone.now())
    lena = make_user("lena@north.example", affiliation='Lab "North"')
    beta = make_allocation(pi=lena, acronym="beta", awarded={booster: 6_000}, start=start, end=end)
    add_usage(beta, booster, 2_000, on=this_month(0))
    make_allocation(pi=pi, acronym="gamma", awarded={juwels: 100}, start=start, end=end)
    make_allocation(
        pi=pi,
        acronym="delta",
        awarded={booster: 100},
        start=this_month(-14),
        end=this_month(-2) - timedelta(days=1),
    )
    return alpha, beta


def expected_full(alpha, beta) -> list[str]:
    a, b = alpha.account, beta.account
    return [
        f'sacctmgr -i add account {a} Cluster=jupiter Description="{alpha.proposal.reference}"'
        ' Organization="Uni Example"',
        f"sacctmgr -i add user ada.l Account={a} Cluster=jupiter",
        f"sacctmgr -i add user pi Account={a} Cluster=jupiter",
        f"sacctmgr -i remove user where Name=bob Account={a} Cluster=jupiter",
        f"sacctmgr -i modify account where Name={a} Cluster=jupiter"
        " set GrpTRESMins=billing=30000,gres/gpu=792000",
        f"sacctmgr -i modify account where Name={a} Cluster=jupiter"
        " set QOS=normal DefaultQOS=normal",
        f'sacctmgr -i add account {b} Cluster=jupiter Description="{beta.proposal.reference}"'
        ' Organization="Lab \\"North\\""',
        f"sacctmgr -i add user lena Account={b} Cluster=jupiter",
        f"sacctmgr -i modify account where Name={b} Cluster=jupiter"
        " set GrpTRESMins=gres/gpu=360000",
        f"sacctmgr -i modify account where Name={b} Cluster=jupiter"
        " set QOS=lowprio DefaultQOS=lowprio",
    ]


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("slurm_sync", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_whole_wanted_state_without_a_current_state(example):
    alpha, beta = example
    assert run("--cluster", "jupiter") == expected_full(alpha, beta)


def test_only_the_difference_with_a_current_state(example, tmp_path):
    alpha, beta = example
    a, b = alpha.account, beta.account
    current = tmp_path / "assoc.txt"
    current.write_text(
        "Cluster|Account|User|GrpTRESMins|QOS\n"
        "jupiter|root|||normal\n"
        f"jupiter|{a}||billing=30000,gres/gpu=720000|normal\n"
        f"jupiter|{a}|pi||normal\n"
        f"jupiter|{a}|bob||normal\n"
        f"jupiter|{b}||gres/gpu=360000|normal\n"
        f"jupiter|{b}|lena||normal\n"
        f"juwels|{b}|someone||normal\n"
    )
    assert run("--cluster", "jupiter", "--current", str(current)) == [
        f"sacctmgr -i add user ada.l Account={a} Cluster=jupiter",
        f"sacctmgr -i remove user where Name=bob Account={a} Cluster=jupiter",
        f"sacctmgr -i modify account where Name={a} Cluster=jupiter"
        " set GrpTRESMins=gres/gpu=792000",
        f"sacctmgr -i modify account where Name={b} Cluster=jupiter"
        " set QOS=lowprio DefaultQOS=lowprio",
    ]


def test_nothing_when_the_cluster_matches(example, tmp_path):
    alpha, beta = example
    a, b = alpha.account, beta.account
    current = tmp_path / "assoc.txt"
    current.write_text(
        "Account|User|Cluster|QOS|GrpTRESMins\n"  # any column order
        f"{a}||jupiter|normal|gres/gpu=792000,billing=30000\n"
        f"{a}|pi|jupiter|normal|\n"
        f"{a}|ada.l|jupiter|normal|\n"
        f"{b}||jupiter|{LOW_PRIORITY_QOS}|gres/gpu=360000\n"
        f"{b}|lena|jupiter|{LOW_PRIORITY_QOS}|\n"
    )
    assert run("--cluster", "jupiter", "--current", str(current)) == []


def test_back_to_normal_and_a_dropped_limit_is_cleared():
    from allocations.selectors.slurm_sync import CurrentAccount, WantedAccount

    wanted = [
        WantedAccount("alpha", "R-1", "Uni", ("pi",), limits={"gres/gpu": 60}, low_priority=False)
    ]
    current = {
        "alpha": CurrentAccount(
            users={"pi"}, limits={"gres/gpu": 60, "billing": 5, "cpu": 9}, qos={"lowprio"}
        )
    }
    assert plan(wanted, cluster="c", current=current) == [
        "sacctmgr -i modify account where Name=alpha Cluster=c set GrpTRESMins=billing=-1",
        "sacctmgr -i modify account where Name=alpha Cluster=c set QOS=normal DefaultQOS=normal",
    ]


def test_a_fixed_today_outside_the_period_wants_nothing(example):
    assert wanted_accounts(cluster="jupiter", today=date(2000, 1, 1)) == []


def test_user_names_and_minutes():
    assert slurm_user("Ada.L@uni.example") == "ada.l"
    assert slurm_user("$(reboot)@evil.example") is None
    assert minutes(Decimal("10.5"), Decimal("0.7")) == 900
    assert minutes(Decimal(1), Decimal(3)) == 20


def test_a_malformed_current_state_is_refused(example, tmp_path):
    bad = tmp_path / "assoc.txt"
    bad.write_text("Cluster|Account|User\njupiter|x|\n")
    with pytest.raises(CommandError, match="lacks column"):
        run("--cluster", "jupiter", "--current", str(bad))
    with pytest.raises(CurrentStateError, match="Line 2"):
        parse_current(
            "Cluster|Account|User|GrpTRESMins|QOS\njupiter|x||gres/gpu=lots|\n", cluster="jupiter"
        )
