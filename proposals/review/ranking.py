"""A call's ranking with its budget line, computed on plain values (PRODUCT §5.3): no
database. ``proposals.review.selectors.ranking.call_ranking`` reads the call into
``RankingFacts`` and hands them to ``rank_proposals``.

A row carries only what the ranking shows of a proposal, as plain values: a template cannot
show what the reader was never given.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Paginator
from django.utils.functional import Promise

from accounts.enums import ScienceField
from proposals.calls.models import Call, CallResource
from proposals.review.enums import TechnicalVerdict
from proposals.review.scoring import ProposalScore, Scale, rounded


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposal in competition that the reader may see, as the ranking reads it."""

    proposal_id: int
    reference: str | None  # nullable in the table: given at submission
    reference_number: int | None
    acronym: str
    title: str
    field_code: str
    pi_name: str


@dataclass(frozen=True)
class RankingFacts:
    """Everything the ranking is computed from, read for the whole call by plain joins and
    kept for the visible proposals. Flat dictionaries of numbers (one per resource where
    needed), not a container per proposal: thousands of small containers would wake the
    garbage collector up."""

    candidates: list[Candidate]
    # Left out for this reader (conflicts of interest, their own proposals).
    hidden: int
    figures: dict[int, ProposalScore]  # by proposal id
    requested: dict[int, dict[int, Decimal]]  # call resource id → proposal id → amount
    recommended: dict[int, dict[int, Decimal]]  # the same, by the latest technical review
    assigned: dict[int, int]  # active scientific reviews, by proposal id
    submitted: dict[int, int]  # submitted scientific reviews, by proposal id
    verdicts: dict[int, str]  # the latest technical review's verdict, by proposal id


@dataclass(frozen=True)
class ResourceCell:
    """One resource of one ranked proposal: what it asks, what the technical review
    recommends, and the running total of requests from the top of the ranking."""

    offer: CallResource
    requested: Decimal | None
    recommended: Decimal | None
    cumulative: Decimal
    over_budget: bool


@dataclass(frozen=True)
class RankingRow:
    """One ranked proposal, with plain values: only what the ranking shows of it."""

    rank: int
    proposal_id: int
    reference: str | None
    acronym: str
    title: str
    field_code: str
    pi_name: str
    submitted: int
    assigned: int
    score: Decimal | None
    normalised: Decimal | None
    spread: Decimal | None
    spread_flagged: bool
    verdict: str
    cells: list[ResourceCell]
    fundable: bool
    # Markers drawn just above this row: the threshold, and each budget that runs out here.
    threshold_above: bool = False
    budgets_end_above: list[CallResource] = field(default_factory=list)

    @property
    def verdict_label(self) -> str | Promise:
        return TechnicalVerdict(self.verdict).label if self.verdict else ""

    @property
    def field_label(self) -> str | Promise:
        if self.field_code in ScienceField.values:
            return ScienceField(self.field_code).label
        return ""


@dataclass(frozen=True)
class BudgetEnd:
    """Where a resource's budget runs out: the first rank whose cumulative request exceeds
    it (None: every request fits)."""

    offer: CallResource
    rank: int | None
    page: int | None
    requested: Decimal


class PageLinks:
    """The pages beside ``page`` of ``pages``, for a paged list's links (None: no such page)."""

    page: int
    pages: int

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


@dataclass(frozen=True)
class Ranking(PageLinks):
    call: Call
    offers: list[CallResource]
    scale: Scale | None
    threshold: Decimal
    rows: list[RankingRow]
    total: int
    hidden: int
    page: int
    pages: int
    per_page: int
    # The first rank below the threshold (None: every proposal is above it).
    threshold_rank: int | None
    budget_ends: list[BudgetEnd]

    @property
    def first_rank(self) -> int:
        return self.rows[0].rank if self.rows else 0

    @property
    def last_rank(self) -> int:
        return self.rows[-1].rank if self.rows else 0

    @property
    def threshold_after_all(self) -> bool:
        """Every proposal is above the threshold and this page ends the ranking: the line is
        drawn below the last row."""
        return bool(self.rows) and self.threshold_rank is None and self.last_rank == self.total

    @property
    def budgets_never_reached(self) -> list[CallResource]:
        return [end.offer for end in self.budget_ends if end.rank is None]

    @property
    def threshold_page(self) -> int | None:
        return _page_of(self.threshold_rank, self.per_page)


def _page_of(rank: int | None, per_page: int) -> int | None:
    return None if rank is None else (rank - 1) // per_page + 1


@dataclass(frozen=True, slots=True)
class _Scored:
    """A candidate with its figures and the scores as shown (two decimals)."""

    candidate: Candidate
    figure: ProposalScore | None
    score: Decimal | None
    normalised: Decimal | None


def _sort_key(item: _Scored) -> tuple:
    """Score (as shown, two decimals) high to low, then the normalised score, then reference.

    Sorting on the shown figures makes ties the reader can see break the way they can check.
    """
    return (
        item.score is None,
        -(item.score or 0),
        item.normalised is None,
        -(item.normalised or 0),
        item.candidate.reference_number or 0,
    )


def rank_proposals(
    facts: RankingFacts,
    *,
    call: Call,
    offers: list[CallResource],
    scale: Scale | None,
    page: int | str | None,
    per_page: int,
) -> Ranking:
    """Rank ``facts.candidates`` by their shown scores, draw the threshold and where each
    budget runs out, and keep the rows of ``page`` (every row with ``page=None``)."""
    ordered = sorted(
        (
            _Scored(
                candidate=candidate,
                figure=(figure := facts.figures.get(candidate.proposal_id)),
                score=rounded(figure.score) if figure else None,
                normalised=rounded(figure.normalised) if figure else None,
            )
            for candidate in facts.candidates
        ),
        key=_sort_key,
    )
    paginator = Paginator(ordered, per_page)
    if page is None:
        first, last, page_number = 1, len(ordered), 1
    else:
        shown = paginator.get_page(page)
        first, last, page_number = shown.start_index(), shown.end_index(), shown.number

    threshold = call.fundable_threshold
    threshold_rank = None
    running = {offer.pk: Decimal(0) for offer in offers}
    ends: dict[int, int] = {}
    rows = []
    for rank, item in enumerate(ordered, start=1):
        proposal_id = item.candidate.proposal_id
        fundable = item.score is not None and item.score >= threshold
        threshold_above = not fundable and threshold_rank is None
        if threshold_above:
            threshold_rank = rank
        ending = []
        for offer in offers:
            amount = facts.requested[offer.pk].get(proposal_id) or 0
            running[offer.pk] += amount
            if offer.pk not in ends and running[offer.pk] > offer.budget:
                ends[offer.pk] = rank
                ending.append(offer)
        if first <= rank <= last:
            rows.append(_row(rank, item, facts, offers, running, fundable, threshold_above, ending))
    return Ranking(
        call=call,
        offers=offers,
        scale=scale,
        threshold=threshold,
        rows=rows,
        total=len(ordered),
        hidden=facts.hidden,
        page=page_number,
        pages=paginator.num_pages,
        per_page=per_page,
        threshold_rank=threshold_rank,
        budget_ends=[
            BudgetEnd(
                offer=offer,
                rank=ends.get(offer.pk),
                page=_page_of(ends.get(offer.pk), per_page),
                requested=running[offer.pk],
            )
            for offer in offers
        ],
    )


def _row(
    rank: int,
    item: _Scored,
    facts: RankingFacts,
    offers: list[CallResource],
    running: dict[int, Decimal],
    fundable: bool,
    threshold_above: bool,
    ending: list[CallResource],
) -> RankingRow:
    """The row of ``item`` at ``rank``, with the running totals as they stand after it."""
    candidate, figure = item.candidate, item.figure
    proposal_id = candidate.proposal_id
    return RankingRow(
        rank=rank,
        proposal_id=proposal_id,
        reference=candidate.reference,
        acronym=candidate.acronym,
        title=candidate.title,
        field_code=candidate.field_code,
        pi_name=candidate.pi_name,
        submitted=facts.submitted.get(proposal_id, 0),
        assigned=facts.assigned.get(proposal_id, 0),
        score=item.score,
        normalised=item.normalised,
        spread=rounded(figure.spread) if figure else None,
        spread_flagged=figure.spread_flagged if figure else False,
        verdict=facts.verdicts.get(proposal_id, ""),
        cells=[
            ResourceCell(
                offer=offer,
                requested=facts.requested[offer.pk].get(proposal_id),
                recommended=facts.recommended[offer.pk].get(proposal_id),
                cumulative=running[offer.pk],
                over_budget=running[offer.pk] > offer.budget,
            )
            for offer in offers
        ],
        fundable=fundable,
        threshold_above=threshold_above,
        budgets_end_above=ending,
    )
