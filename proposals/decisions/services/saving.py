"""The committee saves its decisions within the budgets, and asks for suggested awards
(PRODUCT §6). Nothing here is visible to applicants before ``publishing``."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.audit import audit_record
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.selectors.amounts import default_amount, default_amounts
from proposals.decisions.selectors.deciding import proposals_by_id
from proposals.decisions.selectors.reviews import review_gaps
from proposals.decisions.services.budget import (
    audit_state,
    check_budgets,
    clean_amounts,
    decisions_published,
    lock_budgets,
    write_award_lines,
)
from proposals.review.selectors.ranking import call_ranking
from proposals.submission.enums import IN_COMPETITION
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import call_local


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


def decisions_save(
    *, call: Call, by: User, rows: Sequence[DecisionData], now: datetime | None = None
) -> list[Decision]:
    """Save the decisions ``rows`` of ``call`` in one transaction, within the budgets.

    Refusals (nothing is saved): PermissionDenied unless ``by`` manages the call;
    ValidationError before the call's deadline (PRODUCT §6), when the decisions are published,
    a proposal is not in competition in this call or comes twice, an outcome is unknown, or
    an amount is negative, above the call's maximum per proposal, for a resource the call does
    not offer, or an award has no amount;
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
        offers_list = lock_budgets(call)
        if now < call.closes_at:
            raise ValidationError(
                _("The call is still open: decisions wait for its deadline, %(closes)s.")
                % {"closes": call_local(call.closes_at, call)},
                code="call_open",
            )
        if decisions_published(call):
            raise ValidationError(
                _("The decisions of %(call)s are published; they can no longer be changed.")
                % {"call": call.code},
                code="published",
            )
        offers = {offer.pk: offer for offer in offers_list}
        references = _references_in_competition(call, rows)
        ids = [row.proposal.pk for row in rows]
        defaults = default_amounts(proposal_ids=ids)
        existing, saved_lines = _saved_decisions(ids)
        written: list[Decision] = []
        for row in rows:
            amounts = clean_amounts(
                outcome=row.outcome,
                amounts=row.amounts,
                offers=offers,
                defaults=defaults.get(row.proposal.pk, {}),
                label=references[row.proposal.pk],
            )
            decision = existing.get(row.proposal.pk)
            before = audit_state(
                decision, saved_lines.get(decision.pk, {}) if decision else {}, offers
            )
            if decision is None:
                decision = Decision(proposal_id=row.proposal.pk)
            decision.outcome = row.outcome
            decision.message = row.message.strip()
            after = audit_state(decision, amounts, offers)
            if before == after:
                continue
            decision.decided_by = by
            decision.save()
            write_award_lines(decision, amounts)
            audit_record(
                subject=decision,
                action="decision.saved",
                actor=by,
                call=call,
                before=before,
                after=after,
            )
            written.append(decision)
        check_budgets(call, offers_list)
    return written


def _references_in_competition(call: Call, rows: Sequence[DecisionData]) -> dict[int, str]:
    """The reference of each row's proposal, by id; ValidationError when a proposal comes
    twice, or is not in competition in ``call``, or a row has no known outcome."""
    ids = [row.proposal.pk for row in rows]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("A proposal is decided twice."), code="duplicate")
    in_call = {
        pk: reference or str(pk)  # as below: a proposal without a reference goes by its id
        for pk, reference in Proposal.objects.filter(
            call=call, pk__in=ids, status__in=IN_COMPETITION
        ).values_list("pk", "reference")
    }
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
    return in_call


def _saved_decisions(
    ids: list[int],
) -> tuple[dict[int, Decision], dict[int, dict[int, Decimal]]]:
    """The decisions already saved on the proposals ``ids`` (locked), by proposal id, and
    their award lines by decision id then call resource id."""
    existing = {
        decision.proposal_id: decision
        for decision in Decision.objects.select_for_update(of=("self",)).filter(proposal_id__in=ids)
    }
    saved_lines: dict[int, dict[int, Decimal]] = {d.pk: {} for d in existing.values()}
    for decision_id, offer_id, value in AwardLine.objects.filter(
        decision__in=list(existing.values())
    ).values_list("decision_id", "call_resource_id", "amount"):
        saved_lines[decision_id][offer_id] = value
    return existing, saved_lines


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
    - One at or above the threshold with fewer submitted scientific reviews than the call asks
      for: waitlisted, whatever the budget, and it takes none of it: the page lists them
      (``review_gaps``), so no proposal is funded on an incomplete review without a word.

    Raises PermissionDenied unless ``by`` manages the call (the suggestion needs the whole
    ranking, which only managers see).
    """
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers can ask for suggested awards."))
    ranking = call_ranking(call=call, user=by, page=None)
    proposals = proposals_by_id(call=call, ids=[row.proposal_id for row in ranking.rows])
    lacking = {
        gap.proposal_id
        for gap in review_gaps(
            call=call, proposals=[proposals[r.proposal_id] for r in ranking.rows]
        )
    }
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
        if row.proposal_id in lacking:
            # Not funded on fewer reviews than the call asks for: the page says which.
            result.append(DecisionData(proposal=proposal, outcome=DecisionOutcome.WAITLISTED))
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
