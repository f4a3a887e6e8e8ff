"""Benchmark data: many allocations on one cluster's resource, bulk-created in seconds.

``build_allocations()`` makes one awarded call over ``start``–``end``, one PI and one member
per allocation, the awarded proposals, the Allocations (Slurm accounts ``account_name(prefix,
n)``), their members, one AllocationResource each on a Resource mapped to Slurm cluster
``cluster`` (any partition, ``gpu`` charge rule) and the ``award`` ledger entry. Nothing goes
through the services: no audit entries, no emails.

Each person has a ``ClusterLogin`` on ``cluster`` (the import finds members by it):
``user_name(account, "pi")`` and ``user_name(account, "m1")``, also their email's local part.

Deterministic and idempotent per ``prefix``: a second run returns the allocations already there.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from allocations.enums import LedgerKind
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationResource,
    ClusterLogin,
    LedgerEntry,
    Resource,
)
from proposals.calls.models import Call, CallResource
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal

EMAIL_DOMAIN = "usage.bench.allot.example"


def account_name(prefix: str, n: int) -> str:
    return f"{prefix}{n:05d}"


def user_name(account: str, who: str) -> str:
    return f"{account}-{who}"


def cluster_resource(cluster: str) -> Resource:
    resource, _ = Resource.objects.get_or_create(
        code=f"bench-{cluster}",
        defaults={
            "name": f"Benchmark {cluster}",
            "unit": "GPU-hours",
            "charge_rule": "gpu",
            "slurm_cluster": cluster,
            "slurm_partition": "",
        },
    )
    return resource


def build_allocations(
    count: int,
    *,
    prefix: str,
    cluster: str,
    start: date,
    end: date,
    awarded: Decimal = Decimal(500_000),
    policy: str | None = None,
) -> tuple[Resource, list[Allocation]]:
    """``count`` allocations with accounts ``prefix00001``… (see the module docstring)."""
    resource = cluster_resource(cluster)
    code = f"USAGE {prefix.upper()}"
    existing = list(Allocation.objects.filter(proposal__call__code=code).order_by("account"))
    if existing:
        return resource, existing
    now = timezone.now().replace(microsecond=0)
    password = make_password(None)
    with transaction.atomic():
        call = _call(code, prefix, now, count=count, start=start, end=end, policy=policy)
        CallResource.objects.create(
            call=call,
            resource=resource,
            budget=awarded * count,
            min_request=Decimal(1),
            max_request=awarded * 10,
        )
        accounts = [account_name(prefix, n) for n in range(1, count + 1)]
        pis, members = _people(accounts, password)
        proposals = _proposals(call, accounts, pis, now)
        allocations = Allocation.objects.bulk_create(
            [
                Allocation(proposal=proposal, account=account, pi=pi, start=start, end=end)
                for proposal, account, pi in zip(proposals, accounts, pis, strict=True)
            ],
            batch_size=2000,
        )
        starts = datetime.combine(start, time.min, tzinfo=call.tz)
        _allocation_rows(allocations, pis, members, resource, awarded, code, starts)
        ClusterLogin.objects.bulk_create(
            [
                ClusterLogin(user=person, cluster=cluster, login=person.email.split("@")[0])
                for person in pis + members
            ],
            batch_size=2000,
        )
    return resource, allocations


def _call(
    code: str, prefix: str, now: datetime, *, count: int, start: date, end: date, policy
) -> Call:
    """The awarded call, its decisions long published, over ``start``–``end``."""
    extra = {"quota_policy": policy} if policy else {}
    return Call.objects.create(
        code=code,
        name=f"{code}: benchmark call",
        reference_prefix=prefix.upper()[:12],
        time_zone="Europe/Berlin",
        opens_at=now - timedelta(days=400),
        closes_at=now - timedelta(days=300),
        review_due_at=now - timedelta(days=250),
        decisions_due_at=now - timedelta(days=200),
        period_start=start,
        period_end=end,
        last_reference_number=count,
        **extra,
    )


def _people(accounts: list[str], password: str) -> tuple[list[User], list[User]]:
    """A PI and a member per account, named as the import finds them."""
    people = User.objects.bulk_create(
        [
            User(
                email=f"{user_name(account, who)}@{EMAIL_DOMAIN}",
                password=password,
                full_name=f"{who.upper()} of {account}",
                affiliation="Benchmark Institute",
                country="DE",
            )
            for account in accounts
            for who in ("pi", "m1")
        ],
        batch_size=2000,
    )
    return people[0::2], people[1::2]


def _proposals(call: Call, accounts: list[str], pis: list[User], now: datetime) -> list[Proposal]:
    return Proposal.objects.bulk_create(
        [
            Proposal(
                call=call,
                pi=pi,
                status=ProposalStatus.AWARDED,
                reference=f"{call.reference_prefix}-{n:05d}",
                reference_number=n,
                title=f"Usage benchmark project {n}",
                acronym=account,
                abstract="A benchmark proposal.",
                field="PE6",
                pi_affiliation=pi.affiliation,
                pi_country="DE",
                submitted_at=now - timedelta(days=310),
                updated_by=pi,
            )
            for n, (account, pi) in enumerate(zip(accounts, pis, strict=True), start=1)
        ],
        batch_size=2000,
    )


def _allocation_rows(
    allocations: list[Allocation],
    pis: list[User],
    members: list[User],
    resource: Resource,
    awarded: Decimal,
    code: str,
    starts: datetime,
) -> None:
    """Each allocation's two members, its resource and its award in the ledger."""
    AllocationMember.objects.bulk_create(
        [
            AllocationMember(allocation=allocation, user=user, added_by=pi)
            for allocation, pi, member in zip(allocations, pis, members, strict=True)
            for user in (pi, member)
        ],
        batch_size=4000,
    )
    AllocationResource.objects.bulk_create(
        [
            AllocationResource(allocation=allocation, resource=resource, awarded=awarded)
            for allocation in allocations
        ],
        batch_size=4000,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                allocation=allocation,
                resource=resource,
                kind=LedgerKind.AWARD,
                amount=awarded,
                reason=f"Award of {code}",
                occurred_at=starts,
            )
            for allocation in allocations
        ],
        batch_size=4000,
    )
