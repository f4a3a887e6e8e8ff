"""Publishing a call's decisions, the PI's answer to an award, and the waitlist (PRODUCT §6).

Each service runs one transaction that calls the proposals' half
(``proposals.decisions.services.publishing``: states, budgets, audit) and then does what
belongs to this app: the allocations of the awards, the ledger, and the emails.
``allocations`` may import ``proposals``; never the other way round.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from accounts.selectors import active_call_managers
from allocations.enums import LedgerKind
from allocations.models import Allocation, LedgerEntry
from allocations.services.awards import allocation_create_for_award
from allocations.services.quota_state import quota_states_refresh
from notifications.enums import EmailKind
from notifications.services import outbox_queue_each
from proposals.calls.audit import audit_record
from proposals.calls.models import AuditEntry, Call
from proposals.decisions.enums import AWARDING, DecisionOutcome
from proposals.decisions.models import Decision
from proposals.decisions.selectors.applicant import team_recipients
from proposals.decisions.services.publishing import (
    decision_promote,
    decision_respond,
    decisions_mark_published,
)
from proposals.submission.models import Proposal

DECLINE_REASON = "Award declined by the PI"
# The ledger's precision (LedgerEntry.amount has four decimal places).
LEDGER_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PublishResult:
    """What publishing did. ``already``: the call was published before (at
    ``published_at``) and nothing changed this time."""

    published_at: datetime
    already: bool
    decisions: int = 0
    allocations: int = 0
    emails: int = 0


def _amounts_of(decision: Decision) -> list[dict]:
    """The awarded amounts of a decision for the emails: resource, unit, amount."""
    if decision.outcome not in AWARDING:
        return []
    return [
        {
            "resource": line.call_resource.resource.name,
            "unit": line.call_resource.resource.unit,
            "amount": line.amount,
        }
        for line in decision.lines.filter(amount__gt=0).select_related("call_resource__resource")
    ]


def _email_team(
    *, decision: Decision, people: list[User], event: str, promoted: bool = False
) -> int:
    """Queue the ``decision-published`` email of ``decision`` to each of ``people`` once
    for ``event``. Returns how many were queued."""
    proposal = decision.proposal
    context = {
        "proposal": proposal,
        "call": proposal.call,
        "decision": decision,
        "outcome": DecisionOutcome(decision.outcome).label,
        "is_award": decision.outcome in AWARDING,
        "amounts": _amounts_of(decision),
        "promoted": promoted,
    }
    return outbox_queue_each(
        kind=EmailKind.DECISION_PUBLISHED, event=event, people=people, context=context
    )


def decisions_publish(
    *, call: Call, by: User, now: datetime | None = None, reason: str = ""
) -> PublishResult:
    """Publish every decision of ``call`` at once (PRODUCT §6). Running it again changes
    nothing and says so (``PublishResult.already``).

    Refusals (nothing changes): PermissionDenied unless ``by`` manages the call;
    MissingDecisions listing the proposals in competition without a decision;
    PublishNeedsReason when reviews are missing or the review due date is ahead and ``reason``
    (the manager's, kept in the audit trail) is blank.

    Side effects, in one transaction with the call row locked: those of
    ``decisions_mark_published`` (published decisions, proposal statuses, the call's
    ``decisions_published_at``, an audit entry); an allocation for every award
    (``allocation_create_for_award``: members, resources, award ledger entries, audit); a
    ``decision-published`` email (event ``decision-published:<proposal id>``) to the PI and
    each accepted co-investigator of every decided proposal, sent after the commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        decisions = decisions_mark_published(call=call, by=by, now=now, reason=reason)
        if decisions is None:
            # Already published: decisions_mark_published copied the moment onto ``call``.
            assert call.decisions_published_at is not None
            return PublishResult(published_at=call.decisions_published_at, already=True)
        people = team_recipients(proposals=[d.proposal for d in decisions])
        allocations = emails = 0
        for decision in decisions:
            decision.proposal.call = call
            if decision.outcome in AWARDING:
                allocation_create_for_award(decision=decision, by=by)
                allocations += 1
            emails += _email_team(
                decision=decision,
                people=people[decision.proposal_id],
                event=f"decision-published:{decision.proposal_id}",
            )
    return PublishResult(
        published_at=now,
        already=False,
        decisions=len(decisions),
        allocations=allocations,
        emails=emails,
    )


def award_decline_release(
    *, decision: Decision, by: User, now: datetime | None = None
) -> list[LedgerEntry]:
    """Give back the hours of a declined award: a ``forfeit`` ledger entry of the whole
    balance of each resource of its allocation, with the reason "Award declined by the PI".

    Nothing happens when the award has no allocation or nothing is left. Side effects: the
    allocation row locked; the forfeit entries (the ledger is append-only: balances become 0,
    nothing is edited); an audit entry ``allocation.forfeited`` with the amounts. Returns the
    entries written.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = Allocation.objects.select_for_update().filter(proposal_id=decision.proposal_id)
        allocation = rows.first()
        if allocation is None:
            return []
        balances = (
            LedgerEntry.objects.filter(allocation=allocation)
            .order_by("resource_id")
            .values("resource_id", "resource__code")
            .annotate(balance=Sum("amount"))
            .values_list("resource_id", "resource__code", "balance")
        )
        forfeited: dict[str, str] = {}
        entries = []
        for resource_id, code, total in balances:
            balance = Decimal(total).quantize(LEDGER_PLACES)
            if balance <= 0:
                continue
            entries.append(
                LedgerEntry.objects.create(
                    allocation=allocation,
                    resource_id=resource_id,
                    kind=LedgerKind.FORFEIT,
                    amount=-balance,
                    reason=DECLINE_REASON,
                    author=by,
                    occurred_at=now,
                )
            )
            forfeited[code] = str(balance)
        if entries:
            audit_record(
                subject=allocation,
                action="allocation.forfeited",
                actor=by,
                call=decision.proposal.call,
                after={"reason": DECLINE_REASON, "forfeited": forfeited},
            )
            quota_states_refresh([allocation.pk])
    return entries


def _email_managers_declined(decision: Decision) -> None:
    """Tell every call manager that an award was declined: its hours can go to the waitlist."""
    proposal = decision.proposal
    context = {"proposal": proposal, "call": proposal.call, "amounts": _amounts_of(decision)}
    outbox_queue_each(
        kind=EmailKind.AWARD_DECLINED,
        event=f"award-declined:{proposal.pk}",
        people=active_call_managers(),
        context=context,
    )


def award_respond(
    *, decision: Decision, by: User, accept: bool, now: datetime | None = None
) -> Decision:
    """The PI accepts or declines a published award (PRODUCT §6).

    Refusals: those of ``decision_respond`` (not the PI, not published, not an award, already
    answered); nothing changes.

    Side effects: those of ``decision_respond`` (the answer, an audit entry); on a decline
    also ``award_decline_release`` (forfeit entries of the allocation's whole balance, so the
    hours count as free in the call's budget) and an ``award-declined`` email to the call
    managers (event ``award-declined:<proposal id>``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = decision_respond(decision=decision, by=by, accept=accept, now=now)
        if not accept:
            award_decline_release(decision=locked, by=by, now=now)
            _email_managers_declined(locked)
    return locked


def waitlist_promote(
    *,
    call: Call,
    proposal: Proposal,
    by: User,
    amounts: dict[int, Decimal | None],
    now: datetime | None = None,
) -> Allocation:
    """Award a waitlisted proposal within what the budgets have left (PRODUCT §6: when an
    awardee declines), create its allocation and tell its team.

    Refusals (nothing changes): those of ``decision_promote`` (not a manager, not published,
    not waitlisted, a wrong amount, OverBudget).

    Side effects: those of ``decision_promote`` (outcome, lines, proposal status, audit);
    the allocation (``allocation_create_for_award``); a ``decision-published`` email to the PI
    and accepted co-investigators, event ``decision-updated:<proposal id>:<n>`` where n counts
    the decision's promotions (1 for the first).
    """
    now = now or timezone.now()
    if proposal.call_id != call.pk:
        raise ValueError("The proposal belongs to another call.")
    with transaction.atomic():
        decision = decision_promote(decision=proposal.decision, by=by, amounts=amounts, now=now)
        decision.proposal.call = call
        allocation = allocation_create_for_award(decision=decision, by=by)
        number = AuditEntry.objects.filter(
            subject_type="decision", subject_id=decision.pk, action="decision.promoted"
        ).count()
        people = team_recipients(proposals=[decision.proposal])[decision.proposal_id]
        _email_team(
            decision=decision,
            people=people,
            event=f"decision-updated:{decision.proposal_id}:{number}",
            promoted=True,
        )
    return allocation
