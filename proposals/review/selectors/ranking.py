"""Reads for the committee: a call's ranking with its budget line, the reviews of one
proposal as each reader may see them, and the state of the right of reply (PRODUCT §5.3, §5.4).

What a reader may see is decided here, once, and the results carry only that: a template
cannot show a reviewer's name or a confidential comment it was never given.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.enums import ScienceField
from accounts.models import User
from proposals.calls.enums import ReviewVisibility
from proposals.calls.models import Call, CallCriterion, CallResource
from proposals.calls.rules import can_manage_call, can_read_ranking
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    BLOCKING_CONFLICTS,
    Recommendation,
    ReviewKind,
    ReviewState,
    TechnicalVerdict,
)
from proposals.review.models import Conflict, Reply, Review, ReviewScore, TechnicalRecommendation
from proposals.review.rules import (
    can_read_all_reviews,
    can_see_other_reviews,
    is_assigned_reviewer,
    reply_opened,
    reviews_shared_with_team,
)
from proposals.review.scoring import (
    Criterion,
    ProposalScore,
    Scale,
    ScoredReview,
    is_spread_flagged,
    mean,
    review_score,
    review_scores,
    rounded,
    score_proposals,
    spread,
    weighted_scale,
)
from proposals.submission.enums import IN_COMPETITION, TeamStatus
from proposals.submission.models import Proposal, ResourceRequest, TeamMember
from proposals.submission.rules import is_team_member
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
    reference: str
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
    def verdict_label(self) -> str:
        return TechnicalVerdict(self.verdict).label if self.verdict else ""

    @property
    def field_label(self) -> str:
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


@dataclass(frozen=True)
class Ranking:
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

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def _page_of(rank: int | None, per_page: int) -> int | None:
    return None if rank is None else (rank - 1) // per_page + 1


def _hidden_from(user: User) -> Q:
    """Proposals a committee member must not see: conflicts of interest, and their own."""
    blocking = Conflict.objects.filter(
        proposal=OuterRef("pk"), reviewer=user, status__in=BLOCKING_CONFLICTS
    )
    member = TeamMember.objects.filter(
        proposal=OuterRef("pk"), user=user, status=TeamStatus.ACCEPTED
    )
    return Q(Exists(blocking)) | Q(Exists(member)) | Q(pi=user)


def _sort_key(item: tuple) -> tuple:
    """Score (as shown, two decimals) high to low, then the normalised score, then reference.

    Sorting on the shown figures makes ties the reader can see break the way they can check.
    """
    score, normalised, reference_number = item[0], item[1], item[2]
    return (
        score is None,
        -(score or 0),
        normalised is None,
        -(normalised or 0),
        reference_number or 0,
    )


def call_ranking(
    *, call: Call, user: User, page: int | None = None, per_page: int | None = None
) -> Ranking:
    """The proposals of ``call`` in competition, ranked, with the budget line.

    ``user`` must already be allowed to read the ranking (``get_call_for_ranking``). A
    committee member does not see the proposals they are in conflict with or are on the team
    of: no row, no rank number, no part of the budget line (the rows that are shown are
    ranked and summed among themselves); ``hidden`` says how many were left out.

    Everything is ranked and summed; ``rows`` holds one page (``page``, from 1, clamped to the
    pages there are) or, with ``page=None``, every row (the CSV export). Nine queries whatever
    the number of proposals. ``per_page`` defaults to ``RANKING_PAGE_SIZE``.
    """
    per_page = per_page or RANKING_PAGE_SIZE
    criteria = call_criteria(call)
    scale = weighted_scale(criteria) if criteria else None
    offers = call_offers(call=call)
    figures = _call_scores(call, criteria, scale)

    in_competition = Proposal.objects.filter(call=call, status__in=IN_COMPETITION)
    visible = in_competition
    hidden = 0
    if not can_manage_call(user, call):
        visible = in_competition.exclude(_hidden_from(user))
    proposals = list(
        visible.order_by().values_list(
            "id",
            "reference",
            "reference_number",
            "acronym",
            "title",
            "field",
            "pi__full_name",
            "pi__email",
        )
    )
    if visible is not in_competition:
        hidden = in_competition.count() - len(proposals)

    # The rest is read for the whole call, by plain joins, and kept for the visible rows.
    # Kept in flat dictionaries of numbers, one per resource where needed: thousands of small
    # containers would wake the garbage collector up.
    ids = {values[0] for values in proposals}
    of_call = {"proposal__call": call, "proposal__status__in": IN_COMPETITION}
    requested: dict[int, dict[int, Decimal]] = {offer.pk: {} for offer in offers}
    for proposal_id, offer_id, amount in (
        ResourceRequest.objects.filter(**of_call)
        .order_by()
        .values_list("proposal_id", "call_resource_id", "amount")
    ):
        if proposal_id in ids and offer_id in requested:
            requested[offer_id][proposal_id] = amount

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

    # The latest submitted technical review speaks for the proposal: its verdict and amounts.
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

    ordered = []
    for values in proposals:
        figure = figures.get(values[0])
        score = rounded(figure.score) if figure else None
        normalised = rounded(figure.normalised) if figure else None
        ordered.append((score, normalised, values[2], values, figure))
    ordered.sort(key=_sort_key)

    total = len(ordered)
    pages = max(1, -(-total // per_page))
    if page is None:
        first, last = 1, total
        page_number = 1
    else:
        page_number = min(max(page, 1), pages)
        first, last = (page_number - 1) * per_page + 1, min(page_number * per_page, total)

    threshold = call.fundable_threshold
    threshold_rank = None
    budgets = [(offer.pk, offer.budget, offer) for offer in offers]
    running = {offer.pk: Decimal(0) for offer in offers}
    ends: dict[int, int] = {}
    rows = []
    for rank, (score, normalised, _number, values, figure) in enumerate(ordered, start=1):
        proposal_id = values[0]
        fundable = score is not None and score >= threshold
        threshold_above = not fundable and threshold_rank is None
        if threshold_above:
            threshold_rank = rank
        ending = []
        for offer_id, budget, offer in budgets:
            amount = requested[offer_id].get(proposal_id) or 0
            total_so_far = running[offer_id] = running[offer_id] + amount
            if offer_id not in ends and total_so_far > budget:
                ends[offer_id] = rank
                ending.append(offer)
        if not first <= rank <= last:
            continue
        cells = [
            ResourceCell(
                offer=offer,
                requested=requested[offer.pk].get(proposal_id),
                recommended=recommended[offer.pk].get(proposal_id),
                cumulative=running[offer.pk],
                over_budget=running[offer.pk] > offer.budget,
            )
            for offer in offers
        ]
        rows.append(
            RankingRow(
                rank=rank,
                proposal_id=proposal_id,
                reference=values[1],
                acronym=values[3],
                title=values[4],
                field_code=values[5],
                pi_name=values[6] or values[7],
                submitted=submitted.get(proposal_id, 0),
                assigned=assigned.get(proposal_id, 0),
                score=score,
                normalised=normalised,
                spread=rounded(figure.spread) if figure else None,
                spread_flagged=figure.spread_flagged if figure else False,
                verdict=verdicts.get(proposal_id, ""),
                cells=cells,
                fundable=fundable,
                threshold_above=threshold_above,
                budgets_end_above=ending,
            )
        )
    return Ranking(
        call=call,
        offers=offers,
        scale=scale,
        threshold=threshold,
        rows=rows,
        total=total,
        hidden=hidden,
        page=page_number,
        pages=pages,
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


# --- The right of reply ----------------------------------------------------------------------


class ReplyWindow(StrEnum):
    NOT_OFFERED = "not_offered"
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"


def reply_window(call: Call, now: datetime) -> ReplyWindow:
    """Where the call's right of reply stands at ``now`` (PRODUCT §5.4).

    It opens when a manager opens it (``reply_opened_at``, see ``reply_opened``), not by
    the planned date alone, and closes at ``reply_closes_at``.
    """
    if not call.right_of_reply:
        return ReplyWindow.NOT_OFFERED
    if not reply_opened(call, now):
        return ReplyWindow.NOT_OPEN
    if call.reply_closes_at is not None and now >= call.reply_closes_at:
        return ReplyWindow.CLOSED
    return ReplyWindow.OPEN


@dataclass(frozen=True)
class ReviewProgress:
    """Whether the reviews of a call are complete enough to open the right of reply."""

    pending: int
    without_review: int

    @property
    def complete(self) -> bool:
        return self.pending == 0 and self.without_review == 0


def review_progress(*, call: Call) -> ReviewProgress:
    """Assigned reviews not yet submitted, and proposals in competition without a single
    submitted scientific review. Two queries."""
    in_competition = Proposal.objects.filter(call=call, status__in=IN_COMPETITION)
    pending = Review.objects.filter(
        proposal__in=in_competition, state__in=[ReviewState.INVITED, ReviewState.ACCEPTED]
    ).count()
    reviewed = Review.objects.filter(
        proposal=OuterRef("pk"), kind=ReviewKind.SCIENTIFIC, state=ReviewState.SUBMITTED
    )
    without = in_competition.exclude(Exists(reviewed)).count()
    return ReviewProgress(pending=pending, without_review=without)


# --- The reviews of one proposal -------------------------------------------------------------


class Audience(StrEnum):
    """Who reads the reviews, which decides what they are shown."""

    COMMITTEE = "committee"
    REVIEWER = "reviewer"
    TEAM = "team"


class ReviewsNotShown(PermissionDenied):
    """The reader may see the proposal but not its reviews (now); the message says when."""


@dataclass(frozen=True)
class ShownScore:
    criterion: str
    value: int
    scale_min: int
    scale_max: int


@dataclass(frozen=True)
class ShownReview:
    """One review as this reader may see it: whatever they may not see is None."""

    label: str
    kind: str
    state: str
    submitted_at: datetime | None
    is_own: bool = False
    reviewer_name: str | None = None
    reviewer_email: str | None = None
    scores: list[ShownScore] | None = None
    score: Decimal | None = None
    comment_to_applicant: str | None = None
    confidential_comment: str | None = None
    recommendation: str | None = None
    verdict: str | None = None
    recommended: list[tuple[CallResource, Decimal]] | None = None

    @property
    def kind_label(self) -> str:
        return ReviewKind(self.kind).label

    @property
    def state_label(self) -> str:
        return ReviewState(self.state).label

    @property
    def recommendation_label(self) -> str:
        return Recommendation(self.recommendation).label if self.recommendation else ""

    @property
    def verdict_label(self) -> str:
        return TechnicalVerdict(self.verdict).label if self.verdict else ""


@dataclass(frozen=True)
class ProposalReviews:
    audience: Audience
    reviews: list[ShownReview]
    # Assigned but not submitted yet (the committee's view only).
    pending: list[ShownReview]
    reply: Reply | None
    scores_shown: bool
    score: Decimal | None = None
    spread: Decimal | None = None
    spread_flagged: bool = False


def _audience(user: User, proposal: Proposal, now: datetime) -> Audience:
    """Who ``user`` is for the reviews of ``proposal``, or ReviewsNotShown.

    The team comes first: someone on the team sees the applicant's view even if they also
    hold another role in the call (a conflict nobody has confirmed yet).
    """
    if is_team_member(user, proposal):
        if not reviews_shared_with_team(proposal.call, now):
            raise ReviewsNotShown(
                _(
                    "Reviews are shared when the right of reply opens or the decisions are "
                    "published."
                )
            )
        return Audience.TEAM
    if can_read_all_reviews(user, proposal):
        return Audience.COMMITTEE
    if is_assigned_reviewer(user, proposal):
        if can_see_other_reviews(user, proposal):
            return Audience.REVIEWER
        if proposal.call.review_visibility == ReviewVisibility.AFTER_OWN:
            raise ReviewsNotShown(
                _("In this call you see the other reviews once you have submitted your own.")
            )
        raise ReviewsNotShown(_("In this call reviewers do not see each other's reviews."))
    raise ReviewsNotShown(_("You cannot read the reviews of this proposal."))


def _scores_of(review: Review) -> list[ShownScore]:
    return [
        ShownScore(
            criterion=s.criterion.name,
            value=s.value,
            scale_min=s.criterion.scale_min,
            scale_max=s.criterion.scale_max,
        )
        for s in review.scores.all()
    ]


def _recommended_of(review: Review) -> list[tuple[CallResource, Decimal]]:
    return [(r.call_resource, r.amount) for r in review.recommended.all()]


def proposal_reviews(*, proposal: Proposal, user: User, now: datetime) -> ProposalReviews:
    """The reviews of ``proposal`` as ``user`` may read them (PRODUCT §1.1, §5.4).

    The caller has fetched the proposal with ``get_proposal_for_user`` (404 for those who may
    not know it). Raises ReviewsNotShown (403) for readers who may not see the reviews now.

    - committee (managers; committee members not in conflict): every review with the
      reviewer's name and email, the scores, both comments, the recommendation, the technical
      verdict and amounts; the reviews not submitted yet; the applicant's reply;
    - reviewer (assigned, when the call's setting lets them see other reviews): their own
      review, and the others' submitted reviews as "Reviewer 1", "Reviewer 2"…, with scores,
      comment to the applicant, recommendation and the technical verdict, without names and
      without confidential comments;
    - team (PI and co-investigators, once the right of reply opened or the decisions are
      published): the submitted scientific reviews' comments to the applicant as "Reviewer 1",
      "Reviewer 2"…, the scores only after publication, and their own reply.

    Five queries.
    """
    audience = _audience(user, proposal, now)
    reviews = list(
        Review.objects.filter(proposal=proposal, state__in=ACTIVE_REVIEW_STATES)
        .select_related("reviewer")
        .prefetch_related(
            Prefetch("scores", queryset=ReviewScore.objects.select_related("criterion")),
            Prefetch(
                "recommended",
                queryset=TechnicalRecommendation.objects.select_related("call_resource__resource"),
            ),
        )
        .order_by("kind", "assigned_at", "id")
    )
    done = [r for r in reviews if r.state == ReviewState.SUBMITTED]
    scientific = [r for r in done if r.kind == ReviewKind.SCIENTIFIC]
    criteria = call_criteria(proposal.call)
    score_of = {r.pk: review_score(criteria, _values(r)) for r in scientific}
    number = {r.pk: index for index, r in enumerate(scientific, start=1)}
    technical_number = {
        r.pk: index
        for index, r in enumerate((r for r in done if r.kind == ReviewKind.TECHNICAL), start=1)
    }
    technical_count = len(technical_number)

    def anonymous_label(review: Review) -> str:
        if review.kind == ReviewKind.TECHNICAL:
            if technical_count == 1:
                return _("Technical review")
            return _("Technical review %(number)s") % {"number": technical_number[review.pk]}
        return _("Reviewer %(number)s") % {"number": number[review.pk]}

    reply = Reply.objects.filter(proposal=proposal).select_related("submitted_by").first()

    if audience == Audience.COMMITTEE:
        shown = [_full(r, score_of.get(r.pk)) for r in done]
        pending = [_full(r, None) for r in reviews if r.state != ReviewState.SUBMITTED]
        scores = [score_of[r.pk] for r in scientific if score_of[r.pk] is not None]
        figures = _figures(scores, criteria)
        return ProposalReviews(
            audience=audience,
            reviews=shown,
            pending=pending,
            reply=reply,
            scores_shown=True,
            **figures,
        )

    if audience == Audience.REVIEWER:
        shown = []
        for review in done:
            if review.reviewer_id == user.pk:
                shown.append(
                    _full(review, score_of.get(review.pk), label=_("Your review"), own=True)
                )
                continue
            shown.append(
                ShownReview(
                    label=anonymous_label(review),
                    kind=review.kind,
                    state=review.state,
                    submitted_at=review.submitted_at,
                    scores=_scores_of(review) if review.kind == ReviewKind.SCIENTIFIC else None,
                    score=score_of.get(review.pk),
                    comment_to_applicant=review.comment_to_applicant,
                    recommendation=review.recommendation,
                    verdict=review.verdict,
                    recommended=_recommended_of(review),
                )
            )
        return ProposalReviews(
            audience=audience, reviews=shown, pending=[], reply=None, scores_shown=True
        )

    published = proposal.call.decisions_published_at is not None
    shown = [
        ShownReview(
            label=anonymous_label(review),
            kind=review.kind,
            state=review.state,
            submitted_at=None,
            scores=_scores_of(review) if published else None,
            score=score_of.get(review.pk) if published else None,
            comment_to_applicant=review.comment_to_applicant,
        )
        for review in scientific
    ]
    return ProposalReviews(
        audience=audience, reviews=shown, pending=[], reply=reply, scores_shown=published
    )


def _values(review: Review) -> dict[int, int]:
    return {s.criterion_id: s.value for s in review.scores.all()}


def _full(
    review: Review, score: Decimal | None, *, label: str | None = None, own: bool = False
) -> ShownReview:
    """Everything of a review, with the reviewer's name: the committee's view, and a
    reviewer's view of their own review."""
    return ShownReview(
        label=label or review.reviewer.display_name,
        kind=review.kind,
        state=review.state,
        submitted_at=review.submitted_at,
        is_own=own,
        reviewer_name=None if own else review.reviewer.display_name,
        reviewer_email=None if own else review.reviewer.email,
        scores=_scores_of(review) if review.kind == ReviewKind.SCIENTIFIC else None,
        score=score,
        comment_to_applicant=review.comment_to_applicant,
        confidential_comment=review.confidential_comment,
        recommendation=review.recommendation,
        verdict=review.verdict,
        recommended=_recommended_of(review),
    )


def _figures(scores: list[Decimal], criteria: list[Criterion]) -> dict:
    """The proposal's score and spread from its review scores (unrounded)."""
    if not scores or not criteria:
        return {}
    difference = spread(scores)
    return {
        "score": mean(scores),
        "spread": difference,
        "spread_flagged": is_spread_flagged(difference, weighted_scale(criteria)),
    }
