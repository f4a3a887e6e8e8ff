"""Reads for the committee's decisions and the applicant's view of them (PRODUCT §6).

The decisions page is the ranking (``proposals.selectors.ranking.call_ranking``) with, per
proposal, the saved decision, the default amounts and the running total of awards from the
top. What counts against a budget is decided once, here (``counted_award_lines``): the award
lines of awarded and partially awarded proposals still in competition, except an award its PI
declined, which frees its hours.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.models import Call, CallResource
from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.decisions.enums import AWARDING, AwardResponse, DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import TechnicalRecommendation
from proposals.review.rules import can_read_all_reviews
from proposals.review.selectors.ranking import Ranking, RankingRow, call_ranking
from proposals.submission.enums import IN_COMPETITION, TeamStatus
from proposals.submission.models import Proposal, ResourceRequest, TeamMember
from proposals.submission.rules import is_team_member

ZERO = Decimal(0)
# Rows per page of the decisions form: each row posts 2 + one field per resource, and Django
# refuses a form of more than 1,000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS).
DECISIONS_PAGE_SIZE = 100


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


# --- Amounts --------------------------------------------------------------------------------------


def default_amount(requested: Decimal | None, recommended: Decimal | None) -> Decimal:
    """The default award of one resource (PRODUCT §6): the request, capped by the technical
    recommendation when there is one; nothing asked, nothing given."""
    if requested is None:
        return ZERO
    if recommended is None:
        return requested
    return min(requested, recommended)


def counted_award_lines(call: Call) -> QuerySet[AwardLine]:
    """The award lines that use a budget of ``call``: awards (full or partial) of proposals in
    competition, except those the PI declined (their lines stay for the record)."""
    return AwardLine.objects.filter(
        decision__proposal__call=call,
        decision__proposal__status__in=IN_COMPETITION,
        decision__outcome__in=AWARDING,
    ).exclude(decision__response=AwardResponse.DECLINED)


def awarded_totals(*, call: Call) -> dict[int, Decimal]:
    """What the call's awards use of each budget, by call resource id. One query."""
    totals = (
        counted_award_lines(call)
        .order_by()
        .values("call_resource_id")
        .annotate(total=Sum("amount"))
        .values_list("call_resource_id", "total")
    )
    return dict(totals)


def default_amounts(*, proposal_ids: Iterable[int]) -> dict[int, dict[int, Decimal]]:
    """The default award per resource (``default_amount``) of each proposal, by proposal id
    then call resource id; only resources with a positive default are listed.

    The recommendation is that of the latest submitted technical review, as in the ranking.
    Two queries.
    """
    ids = set(proposal_ids)
    requested: dict[int, dict[int, Decimal]] = {pk: {} for pk in ids}
    for proposal_id, offer_id, amount in (
        ResourceRequest.objects.filter(proposal_id__in=ids)
        .order_by()
        .values_list("proposal_id", "call_resource_id", "amount")
    ):
        requested[proposal_id][offer_id] = amount
    latest: dict[int, int] = {}  # proposal id → its latest submitted technical review's id
    recommended: dict[int, dict[int, Decimal]] = {pk: {} for pk in ids}
    rows = (
        TechnicalRecommendation.objects.filter(
            review__proposal_id__in=ids,
            review__kind=ReviewKind.TECHNICAL,
            review__state=ReviewState.SUBMITTED,
        )
        .order_by("review__proposal_id", "-review__submitted_at", "-review_id")
        .values_list("review__proposal_id", "review_id", "call_resource_id", "amount")
    )
    for proposal_id, review_id, offer_id, amount in rows:
        if latest.setdefault(proposal_id, review_id) == review_id:
            recommended[proposal_id][offer_id] = amount
    result: dict[int, dict[int, Decimal]] = {}
    for proposal_id in ids:
        amounts = {
            offer_id: default_amount(amount, recommended[proposal_id].get(offer_id))
            for offer_id, amount in requested[proposal_id].items()
        }
        result[proposal_id] = {key: value for key, value in amounts.items() if value > 0}
    return result


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
    def outcome_label(self) -> str:
        return DecisionOutcome(self.outcome).label

    @property
    def is_award(self) -> bool:
        return self.outcome in AWARDING

    @property
    def declined(self) -> bool:
        return self.response == AwardResponse.DECLINED

    @property
    def response_label(self) -> str:
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
    def shown_label(self) -> str:
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
class DecisionSheet:
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

    @property
    def undecided(self) -> list[DecisionRow]:
        return [row for row in self.all_rows if row.saved is None]

    @property
    def waitlist(self) -> list[DecisionRow]:
        return [
            row
            for row in self.all_rows
            if row.saved is not None and row.saved.outcome == DecisionOutcome.WAITLISTED
        ]

    @property
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

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


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
    page: int = 1,
    shown: Mapping[int, ShownDecision] | None = None,
    per_page: int | None = None,
) -> DecisionSheet:
    """The decisions page of ``call`` for ``user`` (who may read it: ``get_call_for_decisions``).

    Rows follow the ranking, with the same rows left out for a committee member in conflict
    (``call_ranking``). Each row shows its saved decision, or what ``shown`` holds for it (a
    suggestion, or what a refused form held); the running totals and the budget totals add
    up the shown awards, an award its PI declined counting as nothing. The ranking's queries
    and two more (ten for a manager), whatever the number of proposals.
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
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(page, 1), pages)
    return DecisionSheet(
        call=call,
        ranking=ranking,
        offers=offers,
        rows=rows[(page - 1) * per_page : page * per_page],
        all_rows=rows,
        totals=[BudgetTotal(offer=offer, awarded=running[offer.pk]) for offer in offers],
        page=page,
        pages=pages,
        per_page=per_page,
        counts=counts,
    )


def proposals_by_id(*, call: Call, ids: Iterable[int]) -> dict[int, Proposal]:
    """The call's proposals among ``ids``, by id. One query."""
    return Proposal.objects.filter(call=call).in_bulk(list(ids))


# --- The applicant's page -------------------------------------------------------------------------


class DecisionAudience:
    TEAM = "team"
    COMMITTEE = "committee"


@dataclass(frozen=True)
class AwardedAmount:
    resource: str
    unit: str
    amount: Decimal


@dataclass(frozen=True)
class ProposalDecision:
    """The decision on one proposal as its reader may see it. ``decision`` is None when there
    is none to show: none saved yet, or (for the team) not published yet."""

    audience: str
    published: bool
    decision: Decision | None
    amounts: list[AwardedAmount]

    @property
    def is_award(self) -> bool:
        return self.decision is not None and self.decision.outcome in AWARDING


def can_read_decision(user: User, proposal: Proposal) -> bool:
    """The proposal's team (who see it once published), call managers, and committee members
    not in conflict (who see it as soon as it is saved)."""
    return is_team_member(user, proposal) or can_read_all_reviews(user, proposal)


def proposal_decision(*, proposal: Proposal, user: User) -> ProposalDecision:
    """The decision on ``proposal`` for ``user``, who may read it (``can_read_decision``).

    The team never gets an unpublished decision: no outcome, amount or message before the
    call's decisions are published. Someone on the team gets the team's view whatever other
    role they hold in the call. Two queries.
    """
    published = proposal.call.decisions_published_at is not None
    audience = (
        DecisionAudience.TEAM if is_team_member(user, proposal) else DecisionAudience.COMMITTEE
    )
    if audience == DecisionAudience.TEAM and not published:
        return ProposalDecision(audience=audience, published=False, decision=None, amounts=[])
    decision = (
        Decision.objects.filter(proposal=proposal)
        .select_related("responded_by", "decided_by")
        .first()
    )
    if decision is None or (audience == DecisionAudience.TEAM and decision.published_at is None):
        return ProposalDecision(audience=audience, published=published, decision=None, amounts=[])
    lines = AwardLine.objects.filter(decision=decision, amount__gt=0).select_related(
        "call_resource__resource"
    )
    amounts = [
        AwardedAmount(
            resource=line.call_resource.resource.name,
            unit=line.call_resource.resource.unit,
            amount=line.amount,
        )
        for line in lines
    ]
    if decision.outcome not in AWARDING:
        amounts = []
    return ProposalDecision(
        audience=audience, published=published, decision=decision, amounts=amounts
    )


def team_recipients(*, proposals: list[Proposal]) -> dict[int, list[User]]:
    """The PI first, then each co-investigator who accepted, each person once, by proposal
    id. The proposals come with their PIs; one query for every team."""
    people: dict[int, dict[int, User]] = {p.pk: {p.pi_id: p.pi} for p in proposals}
    members = (
        TeamMember.objects.filter(
            proposal__in=[p.pk for p in proposals], status=TeamStatus.ACCEPTED
        )
        .select_related("user")
        .order_by("invited_at", "id")
    )
    for member in members:
        people[member.proposal_id].setdefault(member.user_id, member.user)
    return {key: list(value.values()) for key, value in people.items()}
