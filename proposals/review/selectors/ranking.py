"""Reads for the committee: who may read a call's ranking, the scores of its proposals, and
the ranking itself (PRODUCT §5.3), read here and computed in ``proposals.review.ranking``.

The reviews of one proposal are in ``shown_reviews``, the right of reply in ``reply``.
"""

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.models import Call, CallCriterion, CallResource
from proposals.calls.rules import can_manage_call, can_read_ranking
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    BLOCKING_CONFLICTS,
    ReviewKind,
    ReviewState,
)
from proposals.review.models import Conflict, Review, ReviewScore, TechnicalRecommendation
from proposals.review.ranking import Candidate, Ranking, RankingFacts, rank_proposals
from proposals.review.scoring import (
    Criterion,
    ProposalScore,
    Scale,
    ScoredReview,
    review_scores,
    score_proposals,
    weighted_scale,
)
from proposals.submission.enums import IN_COMPETITION, TeamStatus
from proposals.submission.models import Proposal, ResourceRequest, TeamMember
from proposals.submission.selectors.manage import call_offers

# --- Who reads the ranking ------------------------------------------------------------------


def get_call_for_ranking(*, user: User, pk: int) -> Call:
    """The call (404 if there is none) if ``user`` may read its ranking, else 403.

    Every call's page is public, so knowing the call exists is no secret: 403, not 404.
    """
    call = get_object_or_404(Call, pk=pk)
    if not can_read_ranking(user, call):
        raise PermissionDenied(
            _("Only the call's committee and the call managers see its ranking.")
        )
    return call


# --- The scores of a call --------------------------------------------------------------------


def call_criteria(call: Call) -> list[Criterion]:
    """The call's criteria as the scoring functions take them. One query."""
    return [
        Criterion(
            id=c.pk, weight=c.weight, scale_min=Decimal(c.scale_min), scale_max=Decimal(c.scale_max)
        )
        for c in CallCriterion.objects.filter(call=call).order_by("position", "pk")
    ]


def _call_scores(
    call: Call, criteria: list[Criterion], scale: Scale | None
) -> dict[int, ProposalScore]:
    """Every proposal's figures, from all submitted scientific reviews of the call's proposals
    in competition (withdrawn ones left out). One query: the scores with their reviews."""
    if scale is None:
        return {}
    rows = (
        ReviewScore.objects.filter(
            review__proposal__call=call,
            review__proposal__status__in=IN_COMPETITION,
            review__kind=ReviewKind.SCIENTIFIC,
            review__state=ReviewState.SUBMITTED,
        )
        .order_by()
        .values_list(
            "review_id", "review__proposal_id", "review__reviewer_id", "criterion_id", "value"
        )
    )
    # Only numbers are kept per review: few objects for the garbage collector.
    proposal_of: dict[int, int] = {}
    reviewer_of: dict[int, int] = {}

    def score_rows() -> Iterator[tuple[int, int, int]]:
        for review_id, proposal_id, reviewer_id, criterion_id, value in rows:
            proposal_of[review_id] = proposal_id
            reviewer_of[review_id] = reviewer_id
            yield review_id, criterion_id, value

    scores = review_scores(criteria, score_rows())
    scored = [
        ScoredReview(review_id, proposal_of[review_id], reviewer_of[review_id], score)
        for review_id, score in scores.items()
    ]
    return score_proposals(scored, scale)


# --- The ranking -----------------------------------------------------------------------------

# Rows per page of the ranking: a call has up to 3,000 proposals (PRODUCT §10).
RANKING_PAGE_SIZE = 100


def hidden_from(user: User) -> Q:
    """Proposals a committee member must not see: conflicts of interest, and their own."""
    blocking = Conflict.objects.filter(
        proposal=OuterRef("pk"), reviewer=user, status__in=BLOCKING_CONFLICTS
    )
    member = TeamMember.objects.filter(
        proposal=OuterRef("pk"), user=user, status=TeamStatus.ACCEPTED
    )
    return Q(Exists(blocking)) | Q(Exists(member)) | Q(pi=user)


def call_ranking(
    *, call: Call, user: User, page: int | str | None = None, per_page: int | None = None
) -> Ranking:
    """The proposals of ``call`` in competition, ranked, with the budget line.

    ``user`` must already be allowed to read the ranking (``get_call_for_ranking``). A
    committee member does not see the proposals they are in conflict with or are on the team
    of: no row, no rank number, no part of the budget line (the rows that are shown are
    ranked and summed among themselves); ``hidden`` says how many were left out.

    Everything is ranked and summed; ``rows`` holds one page (``page`` as a request gives it,
    read by Django's ``Paginator``: past the end is the last page, not a number is the first)
    or, with ``page=None``, every row (the CSV export). Nine queries whatever the number of
    proposals. ``per_page`` defaults to ``RANKING_PAGE_SIZE``.
    """
    criteria = call_criteria(call)
    scale = weighted_scale(criteria) if criteria else None
    offers = call_offers(call=call)
    facts = _ranking_facts(call, user, offers, _call_scores(call, criteria, scale))
    return rank_proposals(
        facts,
        call=call,
        offers=offers,
        scale=scale,
        page=page,
        per_page=per_page or RANKING_PAGE_SIZE,
    )


# --- The ranking: what it is read from --------------------------------------------------------


def _ranking_facts(
    call: Call, user: User, offers: list[CallResource], figures: dict[int, ProposalScore]
) -> RankingFacts:
    candidates, hidden = _candidates(call, user)
    ids = {candidate.proposal_id for candidate in candidates}
    of_call = {"proposal__call": call, "proposal__status__in": IN_COMPETITION}
    assigned, submitted = _review_counts(of_call, ids)
    verdicts, recommended = _technical_reviews(call, of_call, ids, offers)
    return RankingFacts(
        candidates=candidates,
        hidden=hidden,
        figures=figures,
        requested=_requested(of_call, ids, offers),
        recommended=recommended,
        assigned=assigned,
        submitted=submitted,
        verdicts=verdicts,
    )


def _candidates(call: Call, user: User) -> tuple[list[Candidate], int]:
    """The proposals in competition ``user`` may see, and how many are hidden from them. One
    query: each row is read with whether it is hidden from ``user``."""
    rows = Proposal.objects.filter(call=call, status__in=IN_COMPETITION)
    if can_manage_call(user, call):
        rows = rows.annotate(is_hidden=Value(False))
    else:
        rows = rows.annotate(
            is_hidden=Case(When(hidden_from(user), then=Value(True)), default=Value(False))
        )
    candidates: list[Candidate] = []
    hidden = 0
    for (
        pk,
        reference,
        number,
        acronym,
        title,
        field_code,
        pi_name,
        pi_email,
        is_hidden,
    ) in rows.order_by().values_list(
        "id",
        "reference",
        "reference_number",
        "acronym",
        "title",
        "field",
        "pi__full_name",
        "pi__email",
        "is_hidden",
    ):
        if is_hidden:
            hidden += 1
            continue
        candidates.append(
            Candidate(
                proposal_id=pk,
                reference=reference,
                reference_number=number,
                acronym=acronym,
                title=title,
                field_code=field_code,
                pi_name=pi_name or pi_email,
            )
        )
    return candidates, hidden


def _requested(
    of_call: dict, ids: set[int], offers: list[CallResource]
) -> dict[int, dict[int, Decimal]]:
    requested: dict[int, dict[int, Decimal]] = {offer.pk: {} for offer in offers}
    for proposal_id, offer_id, amount in (
        ResourceRequest.objects.filter(**of_call)
        .order_by()
        .values_list("proposal_id", "call_resource_id", "amount")
    ):
        if proposal_id in ids and offer_id in requested:
            requested[offer_id][proposal_id] = amount
    return requested


def _review_counts(of_call: dict, ids: set[int]) -> tuple[dict[int, int], dict[int, int]]:
    """The active and the submitted scientific reviews of each proposal."""
    assigned: dict[int, int] = defaultdict(int)
    submitted: dict[int, int] = defaultdict(int)
    for proposal_id, state in (
        Review.objects.filter(**of_call, kind=ReviewKind.SCIENTIFIC, state__in=ACTIVE_REVIEW_STATES)
        .order_by()
        .values_list("proposal_id", "state")
    ):
        if proposal_id in ids:
            assigned[proposal_id] += 1
            if state == ReviewState.SUBMITTED:
                submitted[proposal_id] += 1
    return assigned, submitted


def _technical_reviews(
    call: Call, of_call: dict, ids: set[int], offers: list[CallResource]
) -> tuple[dict[int, str], dict[int, dict[int, Decimal]]]:
    """The latest submitted technical review speaks for the proposal: its verdict and its
    recommended amounts (by call resource id, then proposal id)."""
    verdicts: dict[int, str] = {}
    latest: dict[int, int] = {}  # review id → proposal id
    for proposal_id, review_id, verdict in (
        Review.objects.filter(**of_call, kind=ReviewKind.TECHNICAL, state=ReviewState.SUBMITTED)
        .order_by("proposal_id", "-submitted_at", "-id")
        .values_list("proposal_id", "id", "verdict")
    ):
        if proposal_id in ids and proposal_id not in verdicts:
            verdicts[proposal_id] = verdict
            latest[review_id] = proposal_id
    recommended: dict[int, dict[int, Decimal]] = {offer.pk: {} for offer in offers}
    for review_id, offer_id, amount in (
        TechnicalRecommendation.objects.filter(
            review__proposal__call=call,
            review__kind=ReviewKind.TECHNICAL,
            review__state=ReviewState.SUBMITTED,
        )
        .order_by()
        .values_list("review_id", "call_resource_id", "amount")
    ):
        if review_id in latest and offer_id in recommended:
            recommended[offer_id][latest[review_id]] = amount
    return verdicts, recommended
