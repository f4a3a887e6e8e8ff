"""Decisions and awards (PRODUCT §6): the committee's decisions within the budget, the
suggestion, and the proposals' half of publishing, answering an award and promoting from the
waitlist.

``allocations.publishing`` holds the other half of the last three (allocations, the ledger,
emails) and calls these inside its own transaction: ``proposals`` never imports
``allocations``. These are the services that move a proposal to a decided status
(``ProposalStatus.AWARDED`` … ``REJECTED``), besides the lifecycle services of
``proposals.services.lifecycle``.

The budget (PRODUCT §6: never exceeded, even when two managers save at the same moment): every
write that can add to a budget first locks the call's ``CallResource`` rows, in primary-key
order (``_lock_budgets``), then writes, then adds up the call's award lines per resource and
raises ``OverBudget`` when one is over (``_check_budgets``), which rolls the whole transaction
back. Two saves at once take turns at the lock, and the second one's sum includes the first's
awards. An award its PI declined counts as nothing (``counted_award_lines``).

Refusals someone can act on are ``ValidationError``; acting in the wrong role is
``PermissionDenied``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from accounts.formatting import amount as format_amount
from accounts.models import User
from proposals.calls.models import Call, CallResource
from proposals.calls.rules import can_manage_call
from proposals.calls.services import audit_record
from proposals.decisions.enums import AWARDING, AwardResponse, DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.selectors.amounts import awarded_totals, default_amount, default_amounts
from proposals.decisions.selectors.deciding import proposals_by_id
from proposals.review.selectors.ranking import call_ranking
from proposals.submission.enums import IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.rules import is_pi

ZERO = Decimal(0)
CENTS = Decimal("0.01")


@dataclass
class DecisionData:
    """One proposal's decision as the committee sets it. ``amounts`` are by call resource id;
    for an award, a resource left out gets its default (the request capped by the technical
    recommendation) and 0 gives nothing of it. A waitlisted or rejected proposal gets no
    amounts, whatever ``amounts`` holds."""

    proposal: Proposal
    outcome: str
    amounts: dict[int, Decimal] = field(default_factory=dict)
    message: str = ""


class OverBudget(ValidationError):
    """The awards of one resource add up to more than its budget in the call."""

    def __init__(self, *, offer: CallResource, total: Decimal):
        self.offer = offer
        self.total = total
        self.budget = offer.budget
        unit = offer.resource.unit
        super().__init__(
            _(
                "%(resource)s: the awards add up to %(total)s %(unit)s, more than the budget "
                "of %(budget)s %(unit)s. Nothing was saved."
            )
            % {
                "resource": offer.resource.name,
                "total": format_amount(total),
                "budget": format_amount(offer.budget),
                "unit": unit,
            },
            code="over_budget",
        )


class MissingDecisions(ValidationError):
    """Publishing needs a decision on every proposal in competition; ``references`` lists
    those without one."""

    def __init__(self, references: list[str]):
        self.references = references
        super().__init__(
            _("Every proposal in competition needs a decision first. Still undecided: %(list)s.")
            % {"list": get_text_list(references, _("and"))},
            code="undecided",
        )


# --- The budget lock and check --------------------------------------------------------------------


def _lock_budgets(call: Call) -> list[CallResource]:
    """Lock the call's resources, always in the same order (no deadlock between two savers),
    and return them. Every write that adds to a budget takes this lock first."""
    return list(
        CallResource.objects.select_for_update(of=("self",))
        .filter(call_id=call.pk)
        .select_related("resource")
        .order_by("pk")
    )


def _check_budgets(call: Call, offers: Sequence[CallResource]) -> None:
    """Raise OverBudget for the first resource whose counted awards exceed its budget. Run
    after the writes and before the commit, under ``_lock_budgets``."""
    totals = awarded_totals(call=call)
    for offer in offers:
        total = totals.get(offer.pk, ZERO)
        if total > offer.budget:
            raise OverBudget(offer=offer, total=total)


def _published(call: Call) -> bool:
    """Read from the database, not from the caller's object: another transaction may just
    have published."""
    return Call.objects.filter(pk=call.pk, decisions_published_at__isnull=False).exists()


# --- Amounts --------------------------------------------------------------------------------------


def _clean_amounts(
    *,
    outcome: str,
    amounts: Mapping[int, Decimal | None],
    offers: Mapping[int, CallResource],
    defaults: Mapping[int, Decimal],
    label: str,
) -> dict[int, Decimal]:
    """The amounts to save for ``outcome``, by call resource id, positive ones only; raises
    ValidationError naming the proposal (``label``) and the resource when one is wrong."""
    if outcome not in AWARDING:
        return {}
    unknown = [key for key in amounts if key not in offers]
    if unknown:
        raise ValidationError(
            _("%(proposal)s: an amount is given for a resource this call does not offer.")
            % {"proposal": label},
            code="unknown_resource",
        )
    result: dict[int, Decimal] = {}
    for offer_id, offer in offers.items():
        value = amounts.get(offer_id)
        value = defaults.get(offer_id, ZERO) if value is None else Decimal(value)
        if value < 0:
            raise ValidationError(
                _("%(proposal)s: the amount of %(resource)s cannot be negative.")
                % {"proposal": label, "resource": offer.resource.name},
                code="negative",
            )
        if value > offer.max_request:
            raise ValidationError(
                _(
                    "%(proposal)s: at most %(max)s %(unit)s of %(resource)s can be awarded to "
                    "one proposal."
                )
                % {
                    "proposal": label,
                    "max": format_amount(offer.max_request),
                    "unit": offer.resource.unit,
                    "resource": offer.resource.name,
                },
                code="above_maximum",
            )
        if value > 0:
            result[offer_id] = value
    if not result:
        raise ValidationError(
            _("%(proposal)s: an award needs an amount of at least one resource.")
            % {"proposal": label},
            code="empty_award",
        )
    return result


def _state(
    decision: Decision | None, lines: Mapping[int, Decimal], offers: Mapping[int, CallResource]
) -> dict[str, Any]:
    """A decision as the audit trail records it (amounts by resource code, as strings)."""
    if decision is None:
        return {}
    return {
        "outcome": decision.outcome,
        "amounts": {
            offers[key].resource.code: str(Decimal(value).quantize(CENTS))
            for key, value in sorted(lines.items())
        },
        "message": decision.message,
    }


def _write_lines(decision: Decision, amounts: Mapping[int, Decimal]) -> None:
    decision.lines.all().delete()
    AwardLine.objects.bulk_create(
        [
            AwardLine(decision=decision, call_resource_id=offer_id, amount=value)
            for offer_id, value in sorted(amounts.items())
        ]
    )


# --- Saving ---------------------------------------------------------------------------------------


def decisions_save(
    *, call: Call, by: User, rows: Sequence[DecisionData], now: datetime | None = None
) -> list[Decision]:
    """Save the decisions ``rows`` of ``call`` in one transaction, within the budgets.

    Refusals (nothing is saved): PermissionDenied unless ``by`` manages the call;
    ValidationError when the decisions are published, a proposal is not in competition in this
    call or comes twice, an outcome is unknown, or an amount is negative, above the call's
    maximum per proposal, for a resource the call does not offer, or an award has no amount;
    OverBudget when, after the writes, the awards of a resource (of every proposal of the call,
    not only these rows; declined awards count as nothing) add up to more than its budget.

    Side effects: the call's resource rows locked until the commit; per row whose outcome,
    amounts or message changed, the Decision written (``decided_by``) with its AwardLines
    replaced, and an audit entry ``decision.saved`` with the state before and after. Rows that
    change nothing write nothing. No email: applicants learn decisions when they are published.
    Returns the decisions written.
    """
    now = now or timezone.now()
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers can save decisions."))
    with transaction.atomic():
        offers_list = _lock_budgets(call)
        if _published(call):
            raise ValidationError(
                _("The decisions of %(call)s are published; they can no longer be changed.")
                % {"call": call.code},
                code="published",
            )
        offers = {offer.pk: offer for offer in offers_list}
        ids = [row.proposal.pk for row in rows]
        if len(set(ids)) != len(ids):
            raise ValidationError(_("A proposal is decided twice."), code="duplicate")
        in_call = dict(
            Proposal.objects.filter(call=call, pk__in=ids, status__in=IN_COMPETITION).values_list(
                "pk", "reference"
            )
        )
        problems: list[str] = []
        for row in rows:
            if row.proposal.pk not in in_call:
                problems.append(
                    _("%(proposal)s is not a proposal in competition in this call.")
                    % {"proposal": row.proposal.reference or row.proposal.pk}
                )
            elif row.outcome not in DecisionOutcome.values:
                problems.append(
                    _("%(proposal)s: choose a decision.") % {"proposal": in_call[row.proposal.pk]}
                )
        if problems:
            raise ValidationError(problems, code="invalid")
        defaults = default_amounts(proposal_ids=ids)
        existing = {
            decision.proposal_id: decision
            for decision in Decision.objects.select_for_update(of=("self",)).filter(
                proposal_id__in=ids
            )
        }
        saved_lines: dict[int, dict[int, Decimal]] = {d.pk: {} for d in existing.values()}
        for decision_id, offer_id, value in AwardLine.objects.filter(
            decision__in=list(existing.values())
        ).values_list("decision_id", "call_resource_id", "amount"):
            saved_lines[decision_id][offer_id] = value

        written: list[Decision] = []
        for row in rows:
            label = in_call[row.proposal.pk]
            amounts = _clean_amounts(
                outcome=row.outcome,
                amounts=row.amounts,
                offers=offers,
                defaults=defaults.get(row.proposal.pk, {}),
                label=label,
            )
            message = row.message.strip()
            decision = existing.get(row.proposal.pk)
            before = _state(decision, saved_lines.get(decision.pk, {}) if decision else {}, offers)
            if decision is None:
                decision = Decision(proposal_id=row.proposal.pk)
            decision.outcome = row.outcome
            decision.message = message
            after = _state(decision, amounts, offers)
            if before == after:
                continue
            decision.decided_by = by
            decision.save()
            _write_lines(decision, amounts)
            audit_record(
                subject=decision,
                action="decision.saved",
                actor=by,
                call=call,
                before=before,
                after=after,
            )
            written.append(decision)
        _check_budgets(call, offers_list)
    return written


def decisions_suggest(*, call: Call, by: User) -> list[DecisionData]:
    """A decision for every proposal in competition, walking the ranking from the top
    (PRODUCT §6). Nothing is saved.

    - Below the fundable threshold (or without a score): rejected.
    - At or above it, while every resource it asks for fits in what is left of its budget:
      awarded the default amounts (the request capped by the technical recommendation).
    - The first one that does not fit: partially awarded what is left of each resource (when
      anything is left), and from then on the budget is out: every later proposal at or above
      the threshold is waitlisted, even one that would fit in what another resource has left,
      so that no proposal is funded before a better-ranked one.
    - One whose default award is nothing (the technical review recommends nothing): rejected.

    Raises PermissionDenied unless ``by`` manages the call (the suggestion needs the whole
    ranking, which only managers see).
    """
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers can ask for suggested awards."))
    ranking = call_ranking(call=call, user=by, page=None)
    proposals = proposals_by_id(call=call, ids=[row.proposal_id for row in ranking.rows])
    remaining = {offer.pk: offer.budget for offer in ranking.offers}
    out = False
    result = []
    for row in ranking.rows:
        proposal = proposals[row.proposal_id]
        wanted = {
            cell.offer.pk: default_amount(cell.requested, cell.recommended) for cell in row.cells
        }
        wanted = {key: value for key, value in wanted.items() if value > 0}
        if not row.fundable or not wanted:
            result.append(DecisionData(proposal=proposal, outcome=DecisionOutcome.REJECTED))
            continue
        if out:
            result.append(DecisionData(proposal=proposal, outcome=DecisionOutcome.WAITLISTED))
            continue
        if all(value <= remaining[key] for key, value in wanted.items()):
            outcome, given = DecisionOutcome.AWARDED, wanted
        else:
            out = True
            # Explicit zeros: a resource left out of DecisionData gets its default.
            given = {key: min(value, remaining[key]) for key, value in wanted.items()}
            if any(value > 0 for value in given.values()):
                outcome = DecisionOutcome.PARTIALLY_AWARDED
            else:
                outcome, given = DecisionOutcome.WAITLISTED, {}
        for key, value in given.items():
            remaining[key] -= value
        result.append(DecisionData(proposal=proposal, outcome=outcome, amounts=dict(given)))
    return result


# --- The proposals' half of publishing, answering and promoting -----------------------------------


def decisions_mark_published(*, call: Call, by: User, now: datetime) -> list[Decision] | None:
    """Make the call's decisions visible: the proposals' half of
    ``allocations.publishing.decisions_publish``, which calls it in its transaction and
    creates the allocations and emails. Returns None, changing nothing, when the call is
    already published; else the decisions, each with its proposal (and PI).

    Refusals: PermissionDenied unless ``by`` manages the call; MissingDecisions listing the
    proposals in competition without a decision.

    Side effects: the call row, its resources and its proposals in competition locked; each
    decision's ``published_at``; each proposal's status set to its outcome (awarded, partially
    awarded, waitlisted, rejected); the call's ``decisions_published_at``; an audit entry
    ``decisions.published`` with the count per outcome. The caller's call object is updated.
    """
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers can publish decisions."))
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if locked.decisions_published_at is not None:
            call.decisions_published_at = locked.decisions_published_at
            return None
        _lock_budgets(locked)
        proposals = list(
            Proposal.objects.select_for_update(of=("self",))
            .filter(call=locked, status__in=IN_COMPETITION)
            .select_related("pi")
            .order_by("reference_number", "pk")
        )
        decisions = {
            decision.proposal_id: decision
            for decision in Decision.objects.filter(proposal__in=proposals)
        }
        missing = [p.reference or str(p.pk) for p in proposals if p.pk not in decisions]
        if missing:
            raise MissingDecisions(missing)
        by_outcome: dict[str, list[int]] = {outcome: [] for outcome in DecisionOutcome.values}
        for proposal in proposals:
            decision = decisions[proposal.pk]
            by_outcome[decision.outcome].append(proposal.pk)
            decision.published_at = now
            decision.proposal = proposal
            proposal.status = ProposalStatus(decision.outcome)
        Decision.objects.filter(pk__in=[d.pk for d in decisions.values()]).update(published_at=now)
        for outcome, ids in by_outcome.items():
            if ids:
                Proposal.objects.filter(pk__in=ids).update(status=ProposalStatus(outcome))
        locked.decisions_published_at = now
        locked.save(update_fields=["decisions_published_at", "updated_at"])
        audit_record(
            subject=locked,
            action="decisions.published",
            actor=by,
            call=locked,
            before={"decisions_published_at": None},
            after={
                "decisions_published_at": now.isoformat(),
                "outcomes": {key: len(ids) for key, ids in by_outcome.items()},
            },
        )
    call.decisions_published_at = now
    return [decisions[proposal.pk] for proposal in proposals]


def decision_respond(
    *, decision: Decision, by: User, accept: bool, now: datetime | None = None
) -> Decision:
    """The PI accepts or declines a published award, once: the proposals' half of
    ``allocations.publishing.award_respond``, which also releases a declined award's hours.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError when the decision is
    not published, is not an award, or was already answered.

    Side effects: the decision's ``response`` (accepted or declined), ``responded_at`` and
    ``responded_by``; an audit entry ``award.accepted`` or ``award.declined``. A declined
    award's lines stay, but count as nothing against the budget from then on. The caller's
    object is updated; returns the locked decision (with its proposal and call).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Decision.objects.select_for_update(of=("self",))
            .select_related("proposal__call", "proposal__pi")
            .get(pk=decision.pk)
        )
        if not is_pi(by, locked.proposal):
            raise PermissionDenied(_("Only the principal investigator answers an award."))
        if locked.published_at is None:
            raise ValidationError(_("This decision is not published yet."), code="unpublished")
        if locked.outcome not in AWARDING:
            raise ValidationError(
                _("Only an award can be accepted or declined."), code="not_an_award"
            )
        if locked.response != AwardResponse.PENDING:
            raise ValidationError(
                _("This award was already answered: %(response)s.")
                % {"response": locked.get_response_display().lower()},
                code="answered",
            )
        locked.response = AwardResponse.ACCEPTED if accept else AwardResponse.DECLINED
        locked.responded_at = now
        locked.responded_by = by
        locked.save(update_fields=["response", "responded_at", "responded_by", "updated_at"])
        audit_record(
            subject=locked,
            action="award.accepted" if accept else "award.declined",
            actor=by,
            call=locked.proposal.call,
            before={"response": AwardResponse.PENDING.value},
            after={"response": locked.response, "responded_at": now.isoformat()},
        )
    for name in ("response", "responded_at", "responded_by"):
        setattr(decision, name, getattr(locked, name))
    return locked


def decision_promote(
    *,
    decision: Decision,
    by: User,
    amounts: Mapping[int, Decimal | None],
    now: datetime | None = None,
) -> Decision:
    """Award a waitlisted proposal after publication, within what the budgets have left (the
    hours of declined awards, and any never awarded): the proposals' half of
    ``allocations.publishing.waitlist_promote``, which creates the allocation and emails the
    team.

    ``amounts`` as in ``DecisionData`` (a resource left out gets its default). The outcome is
    awarded when every resource gets at least its default, else partially awarded.

    Refusals: PermissionDenied unless ``by`` manages the call; ValidationError unless the
    call's decisions are published and the proposal is waitlisted, or for a wrong amount (as
    ``decisions_save``); OverBudget when a budget would be exceeded (nothing is saved).

    Side effects: the call's resource rows locked; the decision's outcome, ``decided_by`` and
    AwardLines; the proposal's status; an audit entry ``decision.promoted`` with before and
    after. The PI's answer starts as pending. Returns the locked decision.
    """
    now = now or timezone.now()
    call = decision.proposal.call
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers promote proposals from the waitlist."))
    with transaction.atomic():
        offers_list = _lock_budgets(call)
        offers = {offer.pk: offer for offer in offers_list}
        locked = (
            Decision.objects.select_for_update(of=("self",))
            .select_related("proposal__call", "proposal__pi")
            .get(pk=decision.pk)
        )
        proposal = locked.proposal
        if not _published(call):
            raise ValidationError(
                _("The decisions are not published yet: change the decision on the page."),
                code="unpublished",
            )
        if locked.outcome != DecisionOutcome.WAITLISTED:
            raise ValidationError(
                _("%(proposal)s is not on the waitlist.") % {"proposal": proposal.reference},
                code="not_waitlisted",
            )
        defaults = default_amounts(proposal_ids=[proposal.pk]).get(proposal.pk, {})
        given = _clean_amounts(
            outcome=DecisionOutcome.AWARDED,
            amounts=amounts,
            offers=offers,
            defaults=defaults,
            label=proposal.reference,
        )
        full = all(given.get(key, ZERO) >= value for key, value in defaults.items())
        before = _state(locked, {}, offers)
        locked.outcome = DecisionOutcome.AWARDED if full else DecisionOutcome.PARTIALLY_AWARDED
        locked.decided_by = by
        locked.response = AwardResponse.PENDING
        locked.save(update_fields=["outcome", "decided_by", "response", "updated_at"])
        _write_lines(locked, given)
        proposal.status = ProposalStatus(locked.outcome)
        proposal.save(update_fields=["status"])
        audit_record(
            subject=locked,
            action="decision.promoted",
            actor=by,
            call=call,
            before=before,
            after={**_state(locked, given, offers), "promoted_at": now.isoformat()},
        )
        _check_budgets(call, offers_list)
    return locked
