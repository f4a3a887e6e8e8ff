"""Enforcing awards in Slurm (PRODUCT §8): the ``sacctmgr`` commands that bring one cluster to
the wanted state, each after a comment line that says why.

Three parts:

* ``wanted_accounts(cluster=..., today=..., grace_days=...)`` reads the database: per Slurm
  account with a resource on the cluster, its latest allocation that has started (a chain of
  continued allocations shares one account), as a ``WantedAccount`` in one of three states:
  *active* (``start ≤ today ≤ end``), *grace* (the period ended less than ``SLURM_GRACE_DAYS``
  days ago: jobs still run) or *ended* (the grace period is over: the account runs nothing).
  Today is in the call's time zone unless given.
* ``parse_current(text, cluster=...)`` reads what the cluster has now, from the output of
  ``sacctmgr -P show assoc format=Cluster,Account,User,GrpTRESMins,QOS`` (a header line, then
  ``|``-separated rows, columns in any order; rows of other clusters are ignored).
* ``plan(wanted, cluster=..., current=...)`` is pure: the commands, one per line, each with
  ``-i`` (non-interactive) and each after a ``#`` comment that explains it (so the output can
  be read and still be piped into ``sh``). Without ``current`` it prints the whole wanted state
  (adding an account or a user that exists already fails harmlessly in ``sacctmgr``); with it
  only the difference, and nothing for what already matches.

What is wanted, per active (or grace) account:

* the account, ``Description`` the proposal reference, ``Organization`` the PI's affiliation;
* a user association for every current member, under **the member's cluster login**
  (``ClusterLogin``: set by centre staff or taken from the identity provider's claim), never a
  name made from the email address. A member without a login on the cluster gets no
  association and is reported (``WantedAccount.missing``, a comment line and stderr);
* users to take off the account: with a current state, every user association of the account
  that is not a current member's login; without one, the logins of removed members;
* ``GrpTRESMins``: per charged resource on the cluster, the total award (award + adjustments in
  the ledger, not minus usage) in hours × 60 / charge factor, rounded down, on ``gres/gpu``
  (charge rule gpu) or ``billing`` (charge rule billing); resources of the same rule on the
  cluster add up; charge rule none sets no limit. A managed TRES limit the cluster has but the
  award no longer has is cleared (``=-1``);
* the QOS: ``LOW_PRIORITY_QOS`` when today's month of any charged resource on the cluster is in
  low priority (``allocations.quota``), otherwise ``NORMAL_QOS``. ``DefaultQOS`` is set with it,
  as Slurm requires the default to be in the list.

An ended account gets ``GrpTRESMins`` 0 on every managed TRES (Slurm then starts none of its
jobs; its associations stay, so its data and accounting stay reachable and a continuation can
open it again). With a current state, an ended account the cluster does not have, or has
stopped already, gets nothing.

Accounts of the cluster that no allocation names (``root``, accounts the centre manages by
hand) are left alone.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.utils import timezone

from allocations.enums import ChargeRule
from allocations.models import SLURM_USER_RE, Allocation, ClusterLogin
from allocations.quota import MonthState
from allocations.selectors.ledger import monthly_sums_by_allocation, resource_ledgers, today_for

LOW_PRIORITY_QOS = "lowprio"
NORMAL_QOS = "normal"

TRES_BY_RULE: dict[str, str] = {ChargeRule.GPU: "gres/gpu", ChargeRule.BILLING: "billing"}
MANAGED_TRES = frozenset(TRES_BY_RULE.values())

SLURM_USER = re.compile(SLURM_USER_RE)


class AccountState:
    ACTIVE = "active"
    GRACE = "grace"
    ENDED = "ended"


@dataclass(frozen=True)
class WantedAccount:
    account: str
    description: str
    organization: str
    users: tuple[str, ...]
    removed_users: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)  # TRES → minutes
    low_priority: bool = False
    missing: tuple[str, ...] = ()  # current members without a login on the cluster
    state: str = AccountState.ACTIVE
    end: date | None = None
    runs_until: date | None = None  # the last day of the grace period
    award: tuple[str, ...] = ()  # what the limits come from: "JUPITER Booster 13200 GPU-hours"


@dataclass
class CurrentAccount:
    users: set[str] = field(default_factory=set)
    limits: dict[str, int] = field(default_factory=dict)
    qos: set[str] = field(default_factory=set)


class CurrentStateError(ValueError):
    pass


def minutes(awarded: Decimal, charge_factor: Decimal) -> int:
    """Hours awarded as minutes of the raw TRES: hours × 60 / charge factor, rounded down."""
    if awarded <= 0:
        return 0
    return int((awarded * 60 / charge_factor).quantize(Decimal(1), rounding=ROUND_DOWN))


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _quoted(value: str) -> str:
    """A value in double quotes, safe for a POSIX shell (no expansion, one line)."""
    value = " ".join(value.split())
    return '"' + re.sub(r'(["\\$`])', r"\\\1", value) + '"'


def _comment(text: str) -> str:
    """A comment line: one line, whatever the names in it hold."""
    return "# " + " ".join(text.split())


def _latest_per_account(cluster: str, today: date | None) -> list[tuple[Allocation, date]]:
    """The latest allocation of each account on ``cluster`` that has started (today in its
    call's zone unless ``today`` is given), with that day and what ``wanted_accounts`` reads."""
    near = (today or timezone.localdate()) + timedelta(days=1)
    surely = near - timedelta(days=3)  # started in every time zone
    # Per account the latest that may have started, and the latest that surely has.
    latest: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = (
        Allocation.objects.filter(resources__resource__slurm_cluster=cluster, start__lte=near)
        .distinct()
        .order_by("account", "start", "pk")
        .values_list("account", "pk", "start")
    )
    for account, pk, start in rows:
        latest[account][0] = pk
        if start <= surely:
            latest[account][1] = pk
    loaded = (
        Allocation.objects.filter(pk__in={pk for pks in latest.values() for pk in pks if pk})
        .select_related("pi", "proposal__call")
        .prefetch_related("members__user", "resources__resource")
    )
    by_pk = {allocation.pk: allocation for allocation in loaded}
    chosen = []
    for account in sorted(latest):
        for pk in latest[account]:
            allocation = by_pk.get(pk)
            if allocation is None:
                continue
            day = today or today_for(allocation)
            if allocation.start <= day:
                chosen.append((allocation, day))
                break
    return chosen


def wanted_accounts(
    *, cluster: str, today: date | None = None, grace_days: int | None = None
) -> list[WantedAccount]:
    """The wanted state of ``cluster`` from the database, by account name. Members' logins
    and the ledgers of the running accounts: a constant number of queries."""
    grace = timedelta(days=settings.SLURM_GRACE_DAYS if grace_days is None else grace_days)
    chosen = _latest_per_account(cluster, today)
    running = [a for a, day in chosen if day <= a.end + grace]
    sums = monthly_sums_by_allocation(running)
    member_ids = {m.user_id for a in running for m in a.members.all()}
    logins = dict(
        ClusterLogin.objects.filter(cluster=cluster, user_id__in=member_ids).values_list(
            "user_id", "login"
        )
    )
    result = []
    for allocation, day in chosen:
        reference = allocation.proposal.reference
        assert reference is not None  # set when the proposal was submitted, long before an award
        ended = WantedAccount(
            account=allocation.account,
            description=reference,
            organization=allocation.pi.affiliation,
            users=(),
            state=AccountState.ENDED,
            end=allocation.end,
            runs_until=allocation.end + grace,
        )
        if day > allocation.end + grace:
            result.append(ended)
            continue
        resources = [
            row.resource
            for row in allocation.resources.all()
            if row.resource.slurm_cluster == cluster and row.resource.charge_rule in TRES_BY_RULE
        ]
        limits: dict[str, int] = defaultdict(int)
        award = []
        low = False
        for ledger in resource_ledgers(allocation, resources, sums[allocation.pk], day):
            tres = TRES_BY_RULE[ledger.resource.charge_rule]
            limits[tres] += minutes(ledger.totals.awarded, ledger.resource.charge_factor)
            award.append(
                f"{ledger.resource.name} {_hours(ledger.totals.awarded)} {ledger.resource.unit}"
            )
            summary = ledger.quota.today
            low = low or (summary is not None and summary.state == MonthState.LOW_PRIORITY)
        users: set[str] = set()
        removed: set[str] = set()
        missing = []
        for member in allocation.members.all():
            login = logins.get(member.user_id)
            if member.removed_at is None and login is None:
                missing.append(member.user.email)
            elif login is not None:
                (users if member.removed_at is None else removed).add(login)
        result.append(
            replace(
                ended,
                users=tuple(sorted(users)),
                removed_users=tuple(sorted(removed - users)),
                limits=dict(limits),
                low_priority=low,
                missing=tuple(sorted(missing)),
                state=AccountState.ACTIVE if day <= allocation.end else AccountState.GRACE,
                award=tuple(sorted(award)),
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


def _stop(want: WantedAccount, where: str, have: CurrentAccount | None) -> list[str]:
    """An ended account: no TRES minutes left, so Slurm starts none of its jobs."""
    if have is not None and all(have.limits.get(tres) == 0 for tres in MANAGED_TRES):
        return []
    tres_mins = ",".join(f"{tres}=0" for tres in sorted(MANAGED_TRES))
    return [
        _comment(
            f"{want.account}: the period ended on {want.end}, the grace period on"
            f" {want.runs_until}: no more jobs run"
        ),
        f"sacctmgr -i modify account where Name={want.account} {where} set GrpTRESMins={tres_mins}",
    ]


def _account_plan(
    want: WantedAccount, where: str, have: CurrentAccount | None, known: bool
) -> list[str]:
    """The commands of one running account; ``known``: the cluster's state was given."""
    account = want.account
    commands = []
    if have is None:
        commands += [
            _comment(f"{account}: new account for {want.description}"),
            f"sacctmgr -i add account {account} {where}"
            f" Description={_quoted(want.description)}"
            f" Organization={_quoted(want.organization)}",
        ]
    have_users = set() if have is None else have.users
    for user in want.users:
        if user not in have_users:
            commands += [
                _comment(f"{account}: {user} is a member"),
                f"sacctmgr -i add user {user} Account={account} {where}",
            ]
    # Without a current state only the removed members are known to be gone.
    gone = sorted(want.removed_users if not known else have_users - set(want.users))
    for user in gone:
        commands += [
            _comment(f"{account}: {user} is no longer a member"),
            f"sacctmgr -i remove user where Name={user} Account={account} {where}",
        ]
    have_limits = {} if have is None else have.limits
    changes = {
        tres: amount for tres, amount in want.limits.items() if have_limits.get(tres) != amount
    }
    if have is not None:
        for tres in sorted(MANAGED_TRES & set(have_limits) - set(want.limits)):
            changes[tres] = -1
    if changes:
        award = ", ".join(want.award) or "nothing charged on this cluster"
        tres_mins = ",".join(f"{tres}={changes[tres]}" for tres in sorted(changes))
        commands += [
            _comment(f"{account}: limits of the award: {award}"),
            f"sacctmgr -i modify account where Name={account} {where} set GrpTRESMins={tres_mins}",
        ]
    have_low = have is not None and LOW_PRIORITY_QOS in have.qos
    if have is None or want.low_priority != have_low:
        qos = LOW_PRIORITY_QOS if want.low_priority else NORMAL_QOS
        why = (
            "over this month's quota: low priority"
            if want.low_priority
            else "within this month's quota: normal priority"
        )
        commands += [
            _comment(f"{account}: {why}"),
            f"sacctmgr -i modify account where Name={account} {where}"
            f" set QOS={qos} DefaultQOS={qos}",
        ]
    notes = [
        _comment(f"{account}: no login on this cluster for {email}; not added")
        for email in want.missing
    ]
    if commands and want.state == AccountState.GRACE:
        notes.insert(
            0,
            _comment(
                f"{account}: the period ended on {want.end}; jobs run until the grace period"
                f" ends on {want.runs_until}"
            ),
        )
    return notes + commands


def plan(
    wanted: list[WantedAccount],
    *,
    cluster: str,
    current: dict[str, CurrentAccount] | None = None,
) -> list[str]:
    """The ``sacctmgr`` commands bringing ``cluster`` from ``current`` (None: unknown) to
    ``wanted``, account by account, each after a comment line that explains it: add the
    account, add users, remove users, the limits, the QOS; or stop an ended account."""
    lines = []
    where = f"Cluster={cluster}"
    for want in sorted(wanted, key=lambda w: w.account):
        have = None if current is None else current.get(want.account)
        if want.state == AccountState.ENDED:
            if current is None or have is not None:
                lines += _stop(want, where, have)
        else:
            lines += _account_plan(want, where, have, current is not None)
    return lines
