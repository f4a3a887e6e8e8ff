"""Enforcing awards in Slurm (PRODUCT §8): the ``sacctmgr`` commands that bring one cluster to
the wanted state.

Three parts:

* ``wanted_accounts(cluster=..., today=...)`` reads the database: one ``WantedAccount`` per
  allocation active today (``start ≤ today ≤ end``, today in the call's time zone unless given)
  with a resource on the cluster.
* ``parse_current(text, cluster=...)`` reads what the cluster has now, from the output of
  ``sacctmgr -P show assoc format=Cluster,Account,User,GrpTRESMins,QOS`` (a header line, then
  ``|``-separated rows, columns in any order; rows of other clusters are ignored).
* ``plan(wanted, cluster=..., current=...)`` is pure: the commands, one per line, each with
  ``-i`` (non-interactive). Without ``current`` it prints the whole wanted state (adding an
  account or a user that exists already fails harmlessly in ``sacctmgr``); with it only the
  difference, and nothing for what already matches.

What is wanted, per account:

* the account, ``Description`` the proposal reference, ``Organization`` the PI's affiliation;
* a user association for every current member (``removed_at`` empty). **The Slurm user name is
  the local part of the member's email address**, lower-cased (``ada.l@fz-juelich.de`` →
  ``ada.l``). A member whose local part is not a valid Slurm/POSIX user name is skipped and
  reported in ``WantedAccount.skipped`` (never put in a shell command);
* users to take off the account: with a current state, every user association of the account
  that is not a current member; without one, the users of removed members;
* ``GrpTRESMins``: per charged resource on the cluster, the total award (award + adjustments in
  the ledger, not minus usage) in hours × 60 / charge factor, rounded down, on ``gres/gpu``
  (charge rule gpu) or ``billing`` (charge rule billing); resources of the same rule on the
  cluster add up; charge rule none sets no limit. A managed TRES limit the cluster has but the
  award no longer has is cleared (``=-1``);
* the QOS: ``LOW_PRIORITY_QOS`` when today's month of any charged resource on the cluster is in
  low priority (``allocations.quota``), otherwise ``NORMAL_QOS``. ``DefaultQOS`` is set with it,
  as Slurm requires the default to be in the list.

Accounts of the cluster that are not wanted (ended allocations, ``root``, accounts the centre
manages by hand) are left alone.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from allocations.enums import ChargeRule
from allocations.models import Allocation
from allocations.quota import MonthState
from allocations.selectors.ledger import monthly_sums_by_allocation, resource_ledgers, today_for

LOW_PRIORITY_QOS = "lowprio"
NORMAL_QOS = "normal"

TRES_BY_RULE: dict[str, str] = {ChargeRule.GPU: "gres/gpu", ChargeRule.BILLING: "billing"}
MANAGED_TRES = frozenset(TRES_BY_RULE.values())

SLURM_USER_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class WantedAccount:
    account: str
    description: str
    organization: str
    users: tuple[str, ...]
    removed_users: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)  # TRES → minutes
    low_priority: bool = False
    skipped: tuple[str, ...] = ()  # emails with no valid Slurm user name


@dataclass
class CurrentAccount:
    users: set[str] = field(default_factory=set)
    limits: dict[str, int] = field(default_factory=dict)
    qos: set[str] = field(default_factory=set)


class CurrentStateError(ValueError):
    pass


def slurm_user(email: str) -> str | None:
    """The Slurm user name of a member: the local part of the email, lower-cased; None when it
    is not a valid user name."""
    name = email.rpartition("@")[0].lower()
    return name if SLURM_USER_RE.match(name) else None


def minutes(awarded: Decimal, charge_factor: Decimal) -> int:
    """Hours awarded as minutes of the raw TRES: hours × 60 / charge factor, rounded down."""
    if awarded <= 0:
        return 0
    return int((awarded * 60 / charge_factor).quantize(Decimal(1), rounding=ROUND_DOWN))


def _quoted(value: str) -> str:
    """A value in double quotes, safe for a POSIX shell (no expansion, one line)."""
    value = " ".join(value.split())
    return '"' + re.sub(r'(["\\$`])', r"\\\1", value) + '"'


def wanted_accounts(*, cluster: str, today: date | None = None) -> list[WantedAccount]:
    """The wanted state of ``cluster`` from the database, by account name."""
    near = timezone.localdate()
    candidates = list(
        Allocation.objects.filter(
            resources__resource__slurm_cluster=cluster,
            start__lte=(today or near) + timedelta(days=1),
            end__gte=(today or near) - timedelta(days=1),
        )
        .distinct()
        .select_related("pi", "proposal__call")
        .prefetch_related("members__user", "resources__resource")
        .order_by("account")
    )
    active = [a for a in candidates if a.start <= (today or today_for(a)) <= a.end]
    sums = monthly_sums_by_allocation(active)
    result = []
    for allocation in active:
        day = today or today_for(allocation)
        resources = [
            row.resource
            for row in allocation.resources.all()
            if row.resource.slurm_cluster == cluster and row.resource.charge_rule in TRES_BY_RULE
        ]
        limits: dict[str, int] = defaultdict(int)
        low = False
        for ledger in resource_ledgers(allocation, resources, sums[allocation.pk], day):
            tres = TRES_BY_RULE[ledger.resource.charge_rule]
            limits[tres] += minutes(ledger.totals.awarded, ledger.resource.charge_factor)
            summary = ledger.quota.today
            low = low or (summary is not None and summary.state == MonthState.LOW_PRIORITY)
        users, removed, skipped = [], [], []
        for member in allocation.members.all():
            name = slurm_user(member.user.email)
            if name is None:
                skipped.append(member.user.email)
            elif member.removed_at is None:
                users.append(name)
            else:
                removed.append(name)
        reference = allocation.proposal.reference
        assert reference is not None  # set when the proposal was submitted, long before an award
        result.append(
            WantedAccount(
                account=allocation.account,
                description=reference,
                organization=allocation.pi.affiliation,
                users=tuple(sorted(set(users))),
                removed_users=tuple(sorted(set(removed) - set(users))),
                limits=dict(limits),
                low_priority=low,
                skipped=tuple(skipped),
            )
        )
    return result


def _parse_tres(value: str) -> dict[str, int]:
    limits = {}
    for part in filter(None, value.split(",")):
        name, _, amount = part.partition("=")
        try:
            limits[name.strip()] = int(amount)
        except ValueError as error:
            raise CurrentStateError(
                f"GrpTRESMins {value!r}: {part!r} is not TRES=minutes"
            ) from error
    return limits


def parse_current(text: str, *, cluster: str) -> dict[str, CurrentAccount]:
    """The associations of ``cluster`` in ``sacctmgr -P show assoc
    format=Cluster,Account,User,GrpTRESMins,QOS`` output, by account. The account's own row
    (empty User) gives the limits and the QOS."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return {}
    header = [name.strip().lower() for name in lines[0].split("|")]
    needed = ["cluster", "account", "user", "grptresmins", "qos"]
    missing = [name for name in needed if name not in header]
    if missing:
        raise CurrentStateError(f"Header line lacks column(s): {', '.join(missing)}")
    col = {name: header.index(name) for name in needed}
    accounts: dict[str, CurrentAccount] = defaultdict(CurrentAccount)
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("|")
        if len(cells) < len(header):
            raise CurrentStateError(f"Line {number}: {len(cells)} fields, expected {len(header)}")
        row = {name: cells[i].strip() for name, i in col.items()}
        if row["cluster"] != cluster or not row["account"]:
            continue
        current = accounts[row["account"]]
        if row["user"]:
            current.users.add(row["user"])
        else:
            try:
                current.limits = _parse_tres(row["grptresmins"])
            except CurrentStateError as error:
                raise CurrentStateError(f"Line {number}: {error}") from error
            current.qos = {q for q in row["qos"].split(",") if q}
    return dict(accounts)


def plan(
    wanted: list[WantedAccount],
    *,
    cluster: str,
    current: dict[str, CurrentAccount] | None = None,
) -> list[str]:
    """The ``sacctmgr`` commands bringing ``cluster`` from ``current`` (None: unknown) to
    ``wanted``, account by account: add the account, add users, remove users, the limits, the
    QOS."""
    commands = []
    where = f"Cluster={cluster}"
    for want in sorted(wanted, key=lambda w: w.account):
        account = want.account
        have = None if current is None else current.get(account)
        if have is None:
            commands.append(
                f"sacctmgr -i add account {account} {where}"
                f" Description={_quoted(want.description)}"
                f" Organization={_quoted(want.organization)}"
            )
        have_users = set() if have is None else have.users
        for user in want.users:
            if user not in have_users:
                commands.append(f"sacctmgr -i add user {user} Account={account} {where}")
        # Without a current state only the removed members are known to be gone.
        gone = sorted(want.removed_users if current is None else have_users - set(want.users))
        for user in gone:
            commands.append(f"sacctmgr -i remove user where Name={user} Account={account} {where}")
        have_limits = {} if have is None else have.limits
        changes = {
            tres: amount for tres, amount in want.limits.items() if have_limits.get(tres) != amount
        }
        if have is not None:
            for tres in sorted(MANAGED_TRES & set(have_limits) - set(want.limits)):
                changes[tres] = -1
        if changes:
            tres_mins = ",".join(f"{tres}={changes[tres]}" for tres in sorted(changes))
            commands.append(
                f"sacctmgr -i modify account where Name={account} {where}"
                f" set GrpTRESMins={tres_mins}"
            )
        have_low = have is not None and LOW_PRIORITY_QOS in have.qos
        if have is None or want.low_priority != have_low:
            qos = LOW_PRIORITY_QOS if want.low_priority else NORMAL_QOS
            commands.append(
                f"sacctmgr -i modify account where Name={account} {where}"
                f" set QOS={qos} DefaultQOS={qos}"
            )
    return commands
