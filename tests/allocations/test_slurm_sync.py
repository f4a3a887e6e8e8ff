"""Enforcing awards in Slurm (PRODUCT §8; the rules are in ``allocations.selectors.slurm_sync``).

The worked example, on cluster ``jupiter``, on 15 July 2027, the third month of a 12-month
period (1 May 2027 – 30 April 2028):

* ``alpha`` (PI Paula, Uni Example): 12,000 GPU-hours of the Booster plus an adjustment of
  +1,200 (13,200 h × 60 = 792,000 gres/gpu minutes) and 1,000 h of the Cluster module charged
  by billing at factor 2 (1,000 × 60 / 2 = 30,000 billing minutes); members Paula, Ada and Bob,
  Bob removed, Carl without a login on jupiter; normal priority.
* ``beta`` (PI Lena, Lab "North"): 6,000 GPU-hours (360,000 minutes), monthly shares of 500;
  2,000 h used this month — beyond 500 carried + 500 share + 500 borrowable, so low priority.
* ``delta``: ended on 30 April 2027; with the grace period of 14 days over, it is stopped.
* Not wanted: an allocation on another cluster.

Logins are set by staff (``cluster_login_set``): the email addresses give none.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from allocations.enums import LedgerKind
from allocations.selectors.slurm_sync import (
    LOW_PRIORITY_QOS,
    CurrentStateError,
    minutes,
    parse_current,
    plan,
    wanted_accounts,
)
from allocations.services.logins import cluster_login_set
from tests.allocation_factories import add_entry, add_usage, make_allocation
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db

TODAY = "2027-07-15"
START, END = date(2027, 5, 1), date(2028, 4, 30)


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.SLURM_GRACE_DAYS = 14


@pytest.fixture
def example(pi, manager):
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
    ada = make_user("Ada.L@uni.example", affiliation="Uni Example")
    bob = make_user("bob@uni.example", affiliation="Uni Example")
    carl = make_user("carl@uni.example", affiliation="Uni Example")
    lena = make_user("lena@north.example", affiliation='Lab "North"')
    for person, login in [(pi, "paula1"), (ada, "lovelace1"), (bob, "bob7"), (lena, "lena")]:
        cluster_login_set(user=person, cluster="jupiter", login=login, by=manager)
    alpha = make_allocation(
        pi=pi,
        acronym="alpha",
        awarded={booster: 12_000, cluster_module: 1_000},
        start=START,
        end=END,
        members=[ada, bob, carl],
    )
    add_entry(alpha, booster, kind=LedgerKind.ADJUSTMENT, amount=1_200, on=date(2027, 6, 1))
    alpha.members.filter(user=bob).update(removed_at=datetime(2027, 6, 2, tzinfo=UTC))
    beta = make_allocation(pi=lena, acronym="beta", awarded={booster: 6_000}, start=START, end=END)
    add_usage(beta, booster, 2_000, on=date(2027, 7, 1))
    make_allocation(pi=pi, acronym="gamma", awarded={juwels: 100}, start=START, end=END)
    delta = make_allocation(
        pi=pi,
        acronym="delta",
        awarded={booster: 100},
        start=date(2026, 5, 1),
        end=date(2027, 4, 30),
    )
    return alpha, beta, delta


def expected_full(alpha, beta, delta) -> list[str]:
    a, b, d = alpha.account, beta.account, delta.account
    return [
        f"# {a}: no login on this cluster for carl@uni.example; not added",
        f"# {a}: new account for {alpha.proposal.reference}",
        f'sacctmgr -i add account {a} Cluster=jupiter Description="{alpha.proposal.reference}"'
        ' Organization="Uni Example"',
        f"# {a}: lovelace1 is a member",
        f"sacctmgr -i add user lovelace1 Account={a} Cluster=jupiter",
        f"# {a}: paula1 is a member",
        f"sacctmgr -i add user paula1 Account={a} Cluster=jupiter",
        f"# {a}: bob7 is no longer a member",
        f"sacctmgr -i remove user where Name=bob7 Account={a} Cluster=jupiter",
        f"# {a}: limits of the award: JUPITER Booster 13200 GPU-hours,"
        " JUPITER Cluster 1000 core-hours",
        f"sacctmgr -i modify account where Name={a} Cluster=jupiter"
        " set GrpTRESMins=billing=30000,gres/gpu=792000",
        f"# {a}: within this month's quota: normal priority",
        f"sacctmgr -i modify account where Name={a} Cluster=jupiter"
        " set QOS=normal DefaultQOS=normal",
        f"# {b}: new account for {beta.proposal.reference}",
        f'sacctmgr -i add account {b} Cluster=jupiter Description="{beta.proposal.reference}"'
        ' Organization="Lab \\"North\\""',
        f"# {b}: lena is a member",
        f"sacctmgr -i add user lena Account={b} Cluster=jupiter",
        f"# {b}: limits of the award: JUPITER Booster 6000 GPU-hours",
        f"sacctmgr -i modify account where Name={b} Cluster=jupiter"
        " set GrpTRESMins=gres/gpu=360000",
        f"# {b}: over this month's quota: low priority",
        f"sacctmgr -i modify account where Name={b} Cluster=jupiter"
        " set QOS=lowprio DefaultQOS=lowprio",
        f"# {d}: the period ended on 2027-04-30, the grace period on 2027-05-14: no more jobs run",
        f"sacctmgr -i modify account where Name={d} Cluster=jupiter"
        " set GrpTRESMins=billing=0,gres/gpu=0",
    ]


def run(*args: str, today: str = TODAY, stderr: StringIO | None = None) -> list[str]:
    out = StringIO()
    call_command("slurm_sync", *args, "--today", today, stdout=out, stderr=stderr or StringIO())
    return out.getvalue().splitlines()


def test_the_whole_wanted_state_without_a_current_state(example):
    err = StringIO()
    assert run("--cluster", "jupiter", stderr=err) == expected_full(*example)
    assert err.getvalue().splitlines() == [
        f"{example[0].account}: carl@uni.example has no login on jupiter; not added."
        " Set it on the allocation's logins page or in the admin."
    ]


def test_only_the_difference_with_a_current_state(example, tmp_path):
    alpha, beta, delta = example
    a, b, d = alpha.account, beta.account, delta.account
    current = tmp_path / "assoc.txt"
    current.write_text(
        "Cluster|Account|User|GrpTRESMins|QOS\n"
        "jupiter|root|||normal\n"
        f"jupiter|{a}||billing=30000,gres/gpu=720000|normal\n"
        f"jupiter|{a}|paula1||normal\n"
        f"jupiter|{a}|bob7||normal\n"
        f"jupiter|{a}|pi||normal\n"  # the name an older sync made from the email address
        f"jupiter|{b}||gres/gpu=360000|normal\n"
        f"jupiter|{b}|lena||normal\n"
        f"jupiter|{d}||gres/gpu=6000|normal\n"
        f"jupiter|{d}|paula1||normal\n"
        f"juwels|{b}|someone||normal\n"
    )
    assert run("--cluster", "jupiter", "--current", str(current)) == [
        f"# {a}: no login on this cluster for carl@uni.example; not added",
        f"# {a}: lovelace1 is a member",
        f"sacctmgr -i add user lovelace1 Account={a} Cluster=jupiter",
        f"# {a}: bob7 is no longer a member",
        f"sacctmgr -i remove user where Name=bob7 Account={a} Cluster=jupiter",
        f"# {a}: pi is no longer a member",
        f"sacctmgr -i remove user where Name=pi Account={a} Cluster=jupiter",
        f"# {a}: limits of the award: JUPITER Booster 13200 GPU-hours,"
        " JUPITER Cluster 1000 core-hours",
        f"sacctmgr -i modify account where Name={a} Cluster=jupiter"
        " set GrpTRESMins=gres/gpu=792000",
        f"# {b}: over this month's quota: low priority",
        f"sacctmgr -i modify account where Name={b} Cluster=jupiter"
        " set QOS=lowprio DefaultQOS=lowprio",
        f"# {d}: the period ended on 2027-04-30, the grace period on 2027-05-14: no more jobs run",
        f"sacctmgr -i modify account where Name={d} Cluster=jupiter"
        " set GrpTRESMins=billing=0,gres/gpu=0",
    ]


def test_nothing_but_the_missing_login_when_the_cluster_matches(example, tmp_path):
    alpha, beta, delta = example
    a, b, d = alpha.account, beta.account, delta.account
    current = tmp_path / "assoc.txt"
    current.write_text(
        "Account|User|Cluster|QOS|GrpTRESMins\n"  # any column order
        f"{a}||jupiter|normal|gres/gpu=792000,billing=30000\n"
        f"{a}|paula1|jupiter|normal|\n"
        f"{a}|lovelace1|jupiter|normal|\n"
        f"{b}||jupiter|{LOW_PRIORITY_QOS}|gres/gpu=360000\n"
        f"{b}|lena|jupiter|{LOW_PRIORITY_QOS}|\n"
        f"{d}||jupiter|normal|gres/gpu=0,billing=0\n"
    )
    assert run("--cluster", "jupiter", "--current", str(current)) == [
        f"# {a}: no login on this cluster for carl@uni.example; not added",
    ]


def test_within_the_grace_period_the_account_still_runs(example, tmp_path):
    alpha, beta, delta = example
    d = delta.account
    current = tmp_path / "assoc.txt"
    current.write_text(
        "Cluster|Account|User|GrpTRESMins|QOS\n"
        f"jupiter|{d}||gres/gpu=6000|normal\n"
        f"jupiter|{d}|paula1||normal\n"
        f"jupiter|{d}|bob7||normal\n"
    )
    lines = run("--cluster", "jupiter", "--current", str(current), today="2027-05-14")
    assert [line for line in lines if d in line] == [
        f"# {d}: the period ended on 2027-04-30; jobs run until the grace period ends on"
        " 2027-05-14",
        f"# {d}: bob7 is no longer a member",
        f"sacctmgr -i remove user where Name=bob7 Account={d} Cluster=jupiter",
    ]
    stopped = run("--cluster", "jupiter", "--current", str(current), today="2027-05-15")
    assert [line for line in stopped if d in line] == [
        f"# {d}: the period ended on 2027-04-30, the grace period on 2027-05-14: no more jobs run",
        f"sacctmgr -i modify account where Name={d} Cluster=jupiter"
        " set GrpTRESMins=billing=0,gres/gpu=0",
    ]


def test_the_grace_period_is_the_centres_setting(example, settings):
    delta = example[2]
    settings.SLURM_GRACE_DAYS = 0
    lines = run("--cluster", "jupiter", today="2027-05-01")
    assert lines[-2:] == [
        f"# {delta.account}: the period ended on 2027-04-30, the grace period on 2027-04-30:"
        " no more jobs run",
        f"sacctmgr -i modify account where Name={delta.account} Cluster=jupiter"
        " set GrpTRESMins=billing=0,gres/gpu=0",
    ]


def test_an_ended_account_the_cluster_lacks_gets_nothing(example, tmp_path):
    current = tmp_path / "assoc.txt"
    current.write_text("Cluster|Account|User|GrpTRESMins|QOS\n")
    lines = run("--cluster", "jupiter", "--current", str(current))
    assert not [line for line in lines if example[2].account in line]


def test_back_to_normal_and_a_dropped_limit_is_cleared():
    from allocations.selectors.slurm_sync import CurrentAccount, WantedAccount

    wanted = [
        WantedAccount(
            "alpha",
            "R-1",
            "Uni",
            ("pi",),
            limits={"gres/gpu": 60},
            low_priority=False,
            award=("Booster 1 GPU-hours",),
        )
    ]
    current = {
        "alpha": CurrentAccount(
            users={"pi"}, limits={"gres/gpu": 60, "billing": 5, "cpu": 9}, qos={"lowprio"}
        )
    }
    assert plan(wanted, cluster="c", current=current) == [
        "# alpha: limits of the award: Booster 1 GPU-hours",
        "sacctmgr -i modify account where Name=alpha Cluster=c set GrpTRESMins=billing=-1",
        "# alpha: within this month's quota: normal priority",
        "sacctmgr -i modify account where Name=alpha Cluster=c set QOS=normal DefaultQOS=normal",
    ]


def test_before_any_period_nothing_is_wanted(example):
    assert wanted_accounts(cluster="jupiter", today=date(2000, 1, 1)) == []


def test_a_comment_stays_one_line():
    from allocations.selectors.slurm_sync import WantedAccount

    wanted = [WantedAccount("alpha", "R-1\nrm -rf /", "Uni", (), limits={})]
    assert plan(wanted, cluster="c")[:2] == [
        "# alpha: new account for R-1 rm -rf /",
        'sacctmgr -i add account alpha Cluster=c Description="R-1 rm -rf /" Organization="Uni"',
    ]


def test_minutes():
    assert minutes(Decimal("10.5"), Decimal("0.7")) == 900
    assert minutes(Decimal(1), Decimal(3)) == 20


def test_a_bad_day_is_refused(example):
    with pytest.raises(CommandError, match="not a date"):
        run("--cluster", "jupiter", today="15.07.2027")


def test_a_malformed_current_state_is_refused(example, tmp_path):
    bad = tmp_path / "assoc.txt"
    bad.write_text("Cluster|Account|User\njupiter|x|\n")
    with pytest.raises(CommandError, match="lacks column"):
        run("--cluster", "jupiter", "--current", str(bad))
    with pytest.raises(CurrentStateError, match="Line 2"):
        parse_current(
            "Cluster|Account|User|GrpTRESMins|QOS\njupiter|x||gres/gpu=lots|\n", cluster="jupiter"
        )
