"""Builders for allocations in tests (PRODUCT §8).

``make_allocation`` goes through the real path: a call whose allocation period and quota policy
are the ones asked for, a proposal of ``pi`` to it, an awarding Decision with one AwardLine per
resource, then ``allocation_create_for_award`` (members, AllocationResource rows, ``award``
ledger entries, the audit entry). The proposal's status and reference are written directly, as
the submission and decision steps are tested on their own.

``add_usage`` / ``add_entry`` append ledger entries directly, for tests that need usage.
"""

import importlib
import itertools
import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from accounts.models import User
from allocations.enums import LedgerKind
from allocations.models import Allocation, LedgerEntry, Resource
from allocations.services.awards import allocation_create_for_award
from allocations.services.quota_state import quota_states_refresh
from proposals.calls.enums import QuotaPolicy
from proposals.calls.models import Call, CallResource
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal
from tests.factories import make_call, make_resource
from tests.proposal_factories import make_proposal

_numbers = itertools.count(1)

DEFAULT_START = date(2027, 5, 1)
DEFAULT_END = date(2028, 4, 30)


def make_allocation(
    *,
    pi: User,
    awarded: dict[Resource, Decimal | int] | None = None,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    policy: str = QuotaPolicy.MONTHLY,
    call: Call | None = None,
    acronym: str = "",
    members: list[User] | None = None,
    by: User | None = None,
) -> Allocation:
    """An allocation of ``pi`` with ``awarded`` (default: 12,000 of the JUPITER Booster) over
    ``start``–``end`` under ``policy``.

    Each call makes a new call (``JUPITER 27NN``) unless ``call`` is given, in which case its
    period and policy are used and the awarded resources are added to it when missing.
    ``members`` are added as allocation members next to the PI.
    """
    n = next(_numbers)
    if awarded is None:
        awarded = {make_resource(): Decimal(12_000)}
    if call is None:
        call = make_call(
            f"ALLOC {n:04d}",
            reference_prefix=f"AL{n:04d}",
            resources=[],
            period_start=start,
            period_end=end,
            quota_policy=policy,
        )
    offers: dict[int, CallResource] = {}
    for resource in awarded:
        offers[resource.pk], _ = CallResource.objects.get_or_create(
            call=call,
            resource=resource,
            defaults={
                "budget": Decimal(10_000_000),
                "min_request": Decimal(1),
                "max_request": Decimal(1_000_000),
            },
        )
    proposal = make_proposal(call, pi, acronym=acronym or f"proj{n}", title=f"Project {n}")
    Proposal.objects.filter(pk=proposal.pk).update(
        status=ProposalStatus.AWARDED,
        reference=f"{call.reference_prefix}-{n:03d}",
        reference_number=n,
    )
    proposal.refresh_from_db()
    decision = Decision.objects.create(proposal=proposal, outcome=DecisionOutcome.AWARDED)
    for resource, amount in awarded.items():
        AwardLine.objects.create(
            decision=decision, call_resource=offers[resource.pk], amount=Decimal(amount)
        )
    allocation = allocation_create_for_award(decision=decision, by=by)
    for user in members or []:
        allocation.members.create(user=user, added_by=pi)
    return allocation


def add_entry(
    allocation: Allocation,
    resource: Resource,
    *,
    kind: str,
    amount: Decimal | int,
    on: date,
    user: User | None = None,
    reason: str = "",
    source: str = "",
) -> LedgerEntry:
    """One ledger entry, written directly (noon in the call's time zone on ``on``), and the
    quota's state refreshed as every service that writes the ledger does."""
    tz = allocation.proposal.call.tz
    entry = LedgerEntry.objects.create(
        allocation=allocation,
        resource=resource,
        kind=kind,
        amount=Decimal(amount),
        reason=reason or ("Test adjustment" if kind == LedgerKind.ADJUSTMENT else ""),
        user=user,
        occurred_at=datetime.combine(on, time(12), tzinfo=tz),
        source=source,
    )
    quota_states_refresh([allocation.pk])
    return entry


def add_usage(
    allocation: Allocation,
    resource: Resource,
    amount: Decimal | int,
    *,
    on: date,
    user: User | None = None,
) -> LedgerEntry:
    """Usage of ``amount`` (a positive number of hours; stored negative) on ``on``."""
    return add_entry(
        allocation,
        resource,
        kind=LedgerKind.USAGE,
        amount=-Decimal(amount),
        on=on,
        user=user or allocation.pi,
        source=f"test:{next(_numbers)}",
    )


def this_month(offset: int = 0, *, zone: str = "Europe/Berlin") -> date:
    """The first day of the month ``offset`` months from today's (in ``zone``)."""
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(zone))
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def period_around_today(*, started_months_ago: int = 2, months: int = 12) -> tuple[date, date]:
    """A period of ``months`` whole months that began ``started_months_ago`` months before this
    month (0: this month; negative: it starts later), for pages that compute from today."""
    start = this_month(-started_months_ago)
    return start, this_month(months - started_months_ago) - timedelta(days=1)


def empty_ledger() -> None:
    """Empty the ledger, which the database refuses to delete from (PRODUCT §8), so that the
    flush ending a transactional test can run: the append-only triggers are lifted just long
    enough, then put back as they were."""
    triggers = importlib.import_module("allocations.migrations.0003_ledger_append_only")
    with connection.schema_editor() as editor:
        triggers.backward(None, editor)
        editor.execute("DELETE FROM allocations_ledgerentry")
        triggers.forward(None, editor)
