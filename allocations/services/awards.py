"""Writes of allocations (PRODUCT §8).

``allocations`` may import ``proposals``, never the other way round: publishing a call's
decisions, which creates the allocations, is therefore a service of this app.
"""

import re
from datetime import datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from allocations.enums import LedgerKind
from allocations.models import Allocation, AllocationMember, AllocationResource, LedgerEntry
from allocations.services.quota_state import quota_states_refresh
from proposals.calls.audit import audit_record
from proposals.decisions.enums import AWARDING
from proposals.decisions.models import Decision
from proposals.submission.enums import TeamStatus

ACCOUNT_MAX = 32


def suggest_account_name(decision: Decision) -> str:
    """A Slurm-safe account name from the acronym and the call, unique among allocations:
    ``sparse-moe-jup27-1``, then ``sparse-moe-jup27-1-2`` … when taken."""
    proposal = decision.proposal
    base = slugify(f"{proposal.acronym or 'project'}-{proposal.call.reference_prefix}")
    base = re.sub(r"[^a-z0-9_-]", "", base.lower()) or "project"
    if not base[0].isalpha():
        base = f"p{base}"
    base = base[: ACCOUNT_MAX - 4].rstrip("-_")
    name, n = base, 1
    while Allocation.objects.filter(account=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def allocation_create_for_award(*, decision: Decision, by: User | None) -> Allocation:
    """Create the allocation of an awarded proposal, once (a second call returns the first).

    Side effects: an Allocation (the call's period; the account suggested from the acronym, or
    for a proposal that continues an allocation not continued yet, that allocation's account
    and a link to it), a
    member row for the PI and each accepted co-investigator, an AllocationResource and an
    ``award`` ledger entry per awarded resource with a positive amount, an audit entry.
    """
    if decision.outcome not in AWARDING:
        raise ValueError("Only an awarded or partially awarded proposal gets an allocation.")
    proposal = decision.proposal
    with transaction.atomic():
        existing = Allocation.objects.select_for_update().filter(proposal=proposal).first()
        if existing is not None:
            return existing
        call = proposal.call
        # A continuation keeps the earlier allocation's Slurm account (PRODUCT §8), unless
        # another allocation continues it already: then the award gets an account of its own.
        earlier = (
            Allocation.objects.select_for_update(of=("self",))
            .filter(proposal_id=proposal.continues_id, continued_by__isnull=True)
            .first()
            if proposal.continues_id
            else None
        )
        allocation = Allocation.objects.create(
            proposal=proposal,
            account=earlier.account if earlier else suggest_account_name(decision),
            continues=earlier,
            pi=proposal.pi,
            start=call.period_start,
            end=call.period_end,
        )
        members = [proposal.pi] + [
            m.user for m in proposal.team.filter(status=TeamStatus.ACCEPTED).select_related("user")
        ]
        AllocationMember.objects.bulk_create(
            [AllocationMember(allocation=allocation, user=u, added_by=by) for u in members]
        )
        starts = datetime.combine(call.period_start, time.min, tzinfo=call.tz)
        awarded: dict[str, str] = {}
        for line in decision.lines.select_related("call_resource__resource"):
            if line.amount <= Decimal(0):
                continue
            resource = line.call_resource.resource
            AllocationResource.objects.create(
                allocation=allocation, resource=resource, awarded=line.amount
            )
            LedgerEntry.objects.create(
                allocation=allocation,
                resource=resource,
                kind=LedgerKind.AWARD,
                amount=line.amount,
                reason=f"Award of {call.code}",
                author=by,
                occurred_at=starts,
            )
            awarded[resource.code] = str(line.amount)
        audit_record(
            subject=allocation,
            action="allocation.created",
            actor=by,
            call=call,
            after={
                "account": allocation.account,
                "awarded": awarded,
                **({"continues_allocation": earlier.pk} if earlier else {}),
            },
        )
        quota_states_refresh([allocation.pk])
    return allocation
