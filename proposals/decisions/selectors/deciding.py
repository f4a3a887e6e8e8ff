"""Reads for the committee's decisions (PRODUCT §6): who reads and who decides, and the
decisions page.

The decisions page is the ranking (``proposals.review.selectors.ranking.call_ranking``) with,
per proposal, the saved decision, the default amounts and the running total of awards from the
top; an award its PI declined counts as nothing (``amounts.counted_award_lines``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.models import Call, CallResource
from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.decisions.enums import AWARDING, AwardResponse, DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.selectors.amounts import ZERO, default_amount
from proposals.review.ranking import PageLinks, Ranking, RankingRow
from proposals.review.selectors.ranking import call_ranking
from proposals.submission.enums import IN_COMPETITION
from proposals.submission.models import Proposal

# Rows per page of the decisions form (50: each row is a form, 100 made 273 KB of HTML at
# 3,000 proposals): each row posts 2 + one field per resource, and Django
# refuses a form of more than 1,000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS).
DECISIONS_PAGE_SIZE = 50
# Undecided proposals named in the message that refuses publishing; the rest are counted.
UNDECIDED_NAMED = 50


# --- Who reads and who decides --------------------------------------------------------------------


def can_read_decisions(user: User, call: Call) -> bool:
    """Call managers, who decide, and the call's committee, who read them (PRODUCT §1)."""
    return can_manage_call(user, call) or is_committee_member(user, call)


def get_call_for_decisions(*, user: User, pk: int) -> Call:
    """The call (404 when there is none) if ``user`` may read its decisions, else 403.

    Every call's page is public, so knowing the call exists is no secret: 403, not 404.
    """
    call = get_object_or_404(Call, pk=pk)
    if not can_read_decisions(user, call):
        raise PermissionDenied(
            _("Only the call's committee and the call managers see its decisions.")
        )
    return call


def get_waitlisted_for_manager(*, user: User, call: Call, proposal_pk: int) -> Proposal:
    """A proposal of ``call`` that has a decision (404 otherwise); 403 unless ``user``
    manages the call. Whether it is waitlisted is the service's check."""
    if not can_manage_call(user, call):
        raise PermissionDenied(_("Only call managers promote proposals from the waitlist."))
    proposal = (
        Proposal.objects.select_related("call", "pi", "decision")
        .filter(call=call, pk=proposal_pk, decision__isnull=False)
        .first()
    )
    if proposal is None:
        raise Http404("No such decision.")
    return proposal


# --- The decisions page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownDecision:
    """What the page shows in a row: an outcome ("" when undecided), the amounts by call
    resource id (a resource left out of an award gets its default) and the message (None:
    the saved one). Saved values, or a suggestion, or what a refused form held."""

    outcome: str
    amounts: Mapping[int, Decimal]
    message: str | None = None


@dataclass(frozen=True)
class SavedDecision:
    """A decision as saved, in plain values."""

    pk: int
    outcome: str
    amounts: dict[int, Decimal]
    message: str
    response: str
    published_at: datetime | None

    @property
    def outcome_label(self) -> str | Promise:
        return DecisionOutcome(self.outcome).label

    @property
    def is_award(self) -> bool:
        return self.outcome in AWARDING

    @property
    def declined(self) -> bool:
        return self.response == AwardResponse.DECLINED

    @property
    def response_label(self) -> str | Promise:
        return AwardResponse(self.response).label


@dataclass(frozen=True)
class AmountCell:
    """One resource of one row: the request, the recommendation, the default award, the
    amount shown, and the running total of shown awards from the top of the ranking."""

    offer: CallResource
    requested: Decimal | None
    recommended: Decimal | None
    default: Decimal
    shown: Decimal | None
    running: Decimal
    over_budget: bool


@dataclass(frozen=True)
class DecisionRow:
    ranking: RankingRow
    saved: SavedDecision | None
    shown: ShownDecision
    cells: list[AmountCell]

    @property
    def proposal_id(self) -> int:
        return self.ranking.proposal_id

    @property
    def defaults(self) -> dict[int, Decimal]:
        return {cell.offer.pk: cell.default for cell in self.cells if cell.default > 0}

    @property
    def shown_label(self) -> str | Promise:
        return DecisionOutcome(self.shown.outcome).label if self.shown.outcome else ""


@dataclass(frozen=True)
class BudgetTotal:
    """One resource: its budget and what the shown awards use of it."""

    offer: CallResource
    awarded: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.offer.budget - self.awarded

    @property
    def over(self) -> bool:
        return self.awarded > self.offer.budget


@dataclass(frozen=True)
class DecisionSheet(PageLinks):
    call: Call
    ranking: Ranking
    offers: list[CallResource]
    # The rows of this page, and every row (the counts, the waitlist and the declined awards).
    rows: list[DecisionRow]
    all_rows: list[DecisionRow]
    totals: list[BudgetTotal]
    page: int
    pages: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        return self.call.decisions_published_at is not None

    @cached_property
    def undecided(self) -> list[DecisionRow]:
        return [row for row in self.all_rows if row.saved is None]

    @property
    def undecided_references(self) -> str:
        """The first ``UNDECIDED_NAMED`` undecided proposals' references, "…" for the rest
        (a call of 3,000 has them all undecided at first; the count is said beside)."""
        named = [row.ranking.reference or "—" for row in self.undecided[:UNDECIDED_NAMED]]
        return ", ".join(named) + (", …" if len(self.undecided) > UNDECIDED_NAMED else "")

    @cached_property
    def waitlist(self) -> list[DecisionRow]:
        return [
            row
            for row in self.all_rows
            if row.saved is not None and row.saved.outcome == DecisionOutcome.WAITLISTED
        ]

    @cached_property
    def declined(self) -> list[DecisionRow]:
        return [
            row
            for row in self.all_rows
            if row.saved is not None and row.saved.is_award and row.saved.declined
        ]

    @property
    def remaining(self) -> dict[int, Decimal]:
        return {total.offer.pk: total.remaining for total in self.totals}

    @property
    def first_rank(self) -> int:
        return self.rows[0].ranking.rank if self.rows else 0

    @property
    def last_rank(self) -> int:
        return self.rows[-1].ranking.rank if self.rows else 0


def _saved_decisions(call: Call, ids: set[int]) -> dict[int, SavedDecision]:
    """The saved decisions of the proposals ``ids`` (of ``call``, in competition), by proposal
    id. Read for the whole call and kept for ``ids``: no list of thousands of ids is sent to
    the database. Two queries."""
    of_call = {"proposal__call": call, "proposal__status__in": IN_COMPETITION}
    decisions = [
        values
        for values in Decision.objects.filter(**of_call)
        .order_by()
        .values_list("pk", "proposal_id", "outcome", "message", "response", "published_at")
        if values[1] in ids
    ]
    amounts: dict[int, dict[int, Decimal]] = {values[0]: {} for values in decisions}
    for decision_id, offer_id, amount in (
        AwardLine.objects.filter(
            decision__proposal__call=call, decision__proposal__status__in=IN_COMPETITION
        )
        .order_by()
        .values_list("decision_id", "call_resource_id", "amount")
    ):
        if decision_id in amounts:
            amounts[decision_id][offer_id] = amount
    return {
        proposal_id: SavedDecision(
            pk=pk,
            outcome=outcome,
            amounts=amounts[pk],
            message=message,
            response=response,
            published_at=published_at,
        )
        for pk, proposal_id, outcome, message, response, published_at in decisions
    }


def _counts(shown: ShownDecision, saved: SavedDecision | None) -> bool:
    """Whether the amounts shown in a row use the budget: an award its PI has not declined."""
    return shown.outcome in AWARDING and not (saved is not None and saved.declined)


def decision_sheet(
    *,
    call: Call,
    user: User,
    page: int | str | None = 1,
    shown: Mapping[int, ShownDecision] | None = None,
    per_page: int | None = None,
) -> DecisionSheet:
    """The decisions page of ``call`` for ``user`` (who may read it: ``get_call_for_decisions``).

    Rows follow the ranking, with the same rows left out for a committee member in conflict
    (``call_ranking``). Each row shows its saved decision, or what ``shown`` holds for it (a
    suggestion, or what a refused form held); the running totals and the budget totals add
    up the shown awards, an award its PI declined counting as nothing. ``page`` is read by
    Django's ``Paginator``: past the end is the last page, not a number the first. The
    ranking's queries and two more (ten for a manager), whatever the number of proposals.
    """
    shown = shown or {}
    per_page = per_page or DECISIONS_PAGE_SIZE
    ranking = call_ranking(call=call, user=user, page=None)
    offers = ranking.offers
    ids = {row.proposal_id for row in ranking.rows}
    saved = _saved_decisions(call, ids)
    running = {offer.pk: ZERO for offer in offers}
    rows: list[DecisionRow] = []
    counts = dict.fromkeys(DecisionOutcome.values, 0)
    for ranked in ranking.rows:
        decision = saved.get(ranked.proposal_id)
        saved_message = decision.message if decision is not None else ""
        values = shown.get(ranked.proposal_id)
        if values is None:
            values = (
                ShownDecision(decision.outcome, decision.amounts, saved_message)
                if decision is not None
                else ShownDecision("", {}, "")
            )
        elif values.message is None:
            values = ShownDecision(values.outcome, values.amounts, saved_message)
        if decision is not None:
            counts[decision.outcome] += 1
        counted = _counts(values, decision)
        cells = []
        for cell in ranked.cells:
            default = default_amount(cell.requested, cell.recommended)
            amount = values.amounts.get(cell.offer.pk)
            if amount is None and values.outcome in AWARDING:
                amount = ZERO if ranked.proposal_id not in shown else default
            if counted and amount:
                running[cell.offer.pk] += amount
            cells.append(
                AmountCell(
                    offer=cell.offer,
                    requested=cell.requested,
                    recommended=cell.recommended,
                    default=default,
                    shown=amount,
                    running=running[cell.offer.pk],
                    over_budget=running[cell.offer.pk] > cell.offer.budget,
                )
            )
        rows.append(DecisionRow(ranking=ranked, saved=decision, shown=values, cells=cells))
    paginator = Paginator(rows, per_page)
    shown_page = paginator.get_page(page)
    return DecisionSheet(
        call=call,
        ranking=ranking,
        offers=offers,
        rows=list(shown_page.object_list),
        all_rows=rows,
        totals=[BudgetTotal(offer=offer, awarded=running[offer.pk]) for offer in offers],
        page=shown_page.number,
        pages=paginator.num_pages,
        per_page=per_page,
        counts=counts,
    )


def proposals_by_id(*, call: Call, ids: Iterable[int]) -> dict[int, Proposal]:
    """The call's proposals among ``ids``, by id. One query."""
    return Proposal.objects.filter(call=call).in_bulk(list(ids))
