"""The reviews of one proposal as each reader may see them (PRODUCT §1.1, §5.4).

What a reader may see is decided here, once, and the results carry only that: a template
cannot show a reviewer's name or a confidential comment it was never given. The reviews are
read into plain ``ReviewFacts`` rows (``proposal_reviews``); ``reviews_as_shown`` decides
what each audience is shown of them, without the database.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.enums import ReviewVisibility
from proposals.calls.models import CallResource
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    Recommendation,
    ReviewKind,
    ReviewState,
    TechnicalVerdict,
)
from proposals.review.models import Reply, Review, ReviewScore, TechnicalRecommendation
from proposals.review.rules import (
    can_read_all_reviews,
    can_see_other_reviews,
    is_assigned_reviewer,
    reviews_shared_with_team,
)
from proposals.review.scoring import (
    Criterion,
    is_spread_flagged,
    mean,
    review_score,
    spread,
    weighted_scale,
)
from proposals.review.selectors.ranking import call_criteria
from proposals.submission.models import Proposal
from proposals.submission.rules import is_team_member


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
    def kind_label(self) -> str | Promise:
        return ReviewKind(self.kind).label

    @property
    def state_label(self) -> str | Promise:
        return ReviewState(self.state).label

    @property
    def recommendation_label(self) -> str | Promise:
        return Recommendation(self.recommendation).label if self.recommendation else ""

    @property
    def verdict_label(self) -> str | Promise:
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


@dataclass(frozen=True)
class ReviewFacts:
    """One active review of the proposal in plain values: all that any reader may be shown of
    it, before ``reviews_as_shown`` keeps what this reader may see."""

    pk: int
    kind: str
    state: str
    submitted_at: datetime | None
    reviewer_name: str
    reviewer_email: str
    is_reader: bool
    scores: list[ShownScore]
    values: dict[int, int]  # criterion id → value
    comment_to_applicant: str
    confidential_comment: str
    recommendation: str
    verdict: str
    recommended: list[tuple[CallResource, Decimal]]


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
    return reviews_as_shown(
        audience,
        _review_facts(proposal, user),
        criteria=call_criteria(proposal.call),
        reply=Reply.objects.filter(proposal=proposal).select_related("submitted_by").first(),
        published=proposal.call.decisions_published_at is not None,
    )


def _review_facts(proposal: Proposal, reader: User) -> list[ReviewFacts]:
    """The proposal's active reviews, in the order of the page. Three queries."""
    reviews = (
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
    return [
        ReviewFacts(
            pk=review.pk,
            kind=review.kind,
            state=review.state,
            submitted_at=review.submitted_at,
            reviewer_name=review.reviewer.display_name,
            reviewer_email=review.reviewer.email,
            is_reader=review.reviewer_id == reader.pk,
            scores=[
                ShownScore(
                    criterion=s.criterion.name,
                    value=s.value,
                    scale_min=s.criterion.scale_min,
                    scale_max=s.criterion.scale_max,
                )
                for s in review.scores.all()
            ],
            values={s.criterion_id: s.value for s in review.scores.all()},
            comment_to_applicant=review.comment_to_applicant,
            confidential_comment=review.confidential_comment,
            recommendation=review.recommendation,
            verdict=review.verdict,
            recommended=[(r.call_resource, r.amount) for r in review.recommended.all()],
        )
        for review in reviews
    ]


# --- What each reader is shown, without the database ------------------------------------------


def reviews_as_shown(
    audience: Audience,
    reviews: list[ReviewFacts],
    *,
    criteria: list[Criterion],
    reply: Reply | None,
    published: bool,
) -> ProposalReviews:
    """What ``audience`` is shown of ``reviews`` (see ``proposal_reviews``)."""
    done = [r for r in reviews if r.state == ReviewState.SUBMITTED]
    scientific = [r for r in done if r.kind == ReviewKind.SCIENTIFIC]
    score_of = {r.pk: review_score(criteria, r.values) for r in scientific}
    if audience == Audience.COMMITTEE:
        scores = [score for r in scientific if (score := score_of[r.pk]) is not None]
        return ProposalReviews(
            audience=audience,
            reviews=[_full(r, score_of.get(r.pk)) for r in done],
            pending=[_full(r, None) for r in reviews if r.state != ReviewState.SUBMITTED],
            reply=reply,
            scores_shown=True,
            **_figures(scores, criteria),
        )
    labels = _anonymous_labels(done)
    if audience == Audience.REVIEWER:
        shown = [
            _full(review, score_of.get(review.pk), label=_("Your review"), own=True)
            if review.is_reader
            else ShownReview(
                label=labels[review.pk],
                kind=review.kind,
                state=review.state,
                submitted_at=review.submitted_at,
                scores=review.scores if review.kind == ReviewKind.SCIENTIFIC else None,
                score=score_of.get(review.pk),
                comment_to_applicant=review.comment_to_applicant,
                recommendation=review.recommendation,
                verdict=review.verdict,
                recommended=review.recommended,
            )
            for review in done
        ]
        return ProposalReviews(
            audience=audience, reviews=shown, pending=[], reply=None, scores_shown=True
        )
    shown = [
        ShownReview(
            label=labels[review.pk],
            kind=review.kind,
            state=review.state,
            submitted_at=None,
            scores=review.scores if published else None,
            score=score_of.get(review.pk) if published else None,
            comment_to_applicant=review.comment_to_applicant,
        )
        for review in scientific
    ]
    return ProposalReviews(
        audience=audience, reviews=shown, pending=[], reply=reply, scores_shown=published
    )


def _anonymous_labels(done: list[ReviewFacts]) -> dict[int, str]:
    """ "Reviewer 1", "Reviewer 2"… for the scientific reviews; "Technical review" (or
    "Technical review 1", "2"… when there are several) for the technical ones; by review id."""
    scientific = [r for r in done if r.kind == ReviewKind.SCIENTIFIC]
    technical = [r for r in done if r.kind == ReviewKind.TECHNICAL]
    labels = {
        r.pk: _("Reviewer %(number)s") % {"number": number}
        for number, r in enumerate(scientific, start=1)
    }
    for number, r in enumerate(technical, start=1):
        if len(technical) == 1:
            labels[r.pk] = _("Technical review")
        else:
            labels[r.pk] = _("Technical review %(number)s") % {"number": number}
    return labels


def _full(
    review: ReviewFacts, score: Decimal | None, *, label: str | None = None, own: bool = False
) -> ShownReview:
    """Everything of a review, with the reviewer's name: the committee's view, and a
    reviewer's view of their own review."""
    return ShownReview(
        label=label or review.reviewer_name,
        kind=review.kind,
        state=review.state,
        submitted_at=review.submitted_at,
        is_own=own,
        reviewer_name=None if own else review.reviewer_name,
        reviewer_email=None if own else review.reviewer_email,
        scores=review.scores if review.kind == ReviewKind.SCIENTIFIC else None,
        score=score,
        comment_to_applicant=review.comment_to_applicant,
        confidential_comment=review.confidential_comment,
        recommendation=review.recommendation,
        verdict=review.verdict,
        recommended=review.recommended,
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
