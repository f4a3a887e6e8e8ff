"""Reads for the reviewer's side of peer review (PRODUCT §5.1, §5.2): the reviewer's list,
one review fetched and checked, what the review form shows, what still stops a submission,
and whether every review of a call is in.

Who may open a review page (PRODUCT §1.1): its reviewer, while the review is invited,
accepted, submitted or declined and they are not in conflict with the proposal; and call
managers, read-only. Anyone else gets 404. The predicates below (``is_review_author``,
``can_edit_review``) are about one review; the ones about proposals are in ``rules``.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.models import Call, CallCriterion
from proposals.calls.rules import can_manage_call
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    BLOCKING_CONFLICTS,
    ReviewKind,
    ReviewState,
    TechnicalVerdict,
)
from proposals.review.models import Conflict, Review
from proposals.review.rules import has_blocking_conflict
from proposals.submission.enums import IN_COMPETITION, AttachmentKind
from proposals.submission.models import Proposal, ResourceRequest

# States in which the reviewer still finds their review (a removed one is gone for them).
SEEN_BY_REVIEWER = frozenset(ACTIVE_REVIEW_STATES | {ReviewState.DECLINED})
# States that still owe a review.
OUTSTANDING = frozenset({ReviewState.INVITED, ReviewState.ACCEPTED})
# Technical verdicts that must say why in the comments.
VERDICTS_NEEDING_COMMENTS = frozenset(
    {TechnicalVerdict.FEASIBLE_WITH_CHANGES, TechnicalVerdict.NOT_FEASIBLE}
)


def score_field_name(criterion_id: int) -> str:
    """The form field (and the refusal's key) of one criterion's score."""
    return f"score-{criterion_id}"


def recommended_field_name(call_resource_id: int) -> str:
    """The form field (and the refusal's key) of one resource's recommended amount."""
    return f"recommended-{call_resource_id}"


# --- Predicates about one review ----------------------------------------------------------


def is_review_author(user: User, review: Review) -> bool:
    """``user`` is the reviewer the review is assigned to."""
    return user.is_authenticated and review.reviewer_id == user.pk


def can_edit_review(user: User, review: Review) -> bool:
    """Only its reviewer, once they accepted and until they submit (or after a reopen)."""
    return is_review_author(user, review) and review.state == ReviewState.ACCEPTED


def is_overdue(review: Review, now: datetime) -> bool:
    """Past its due date and still owed (invited or accepted)."""
    return review.state in OUTSTANDING and review.due_at <= now


def is_late(review: Review) -> bool:
    """Submitted after its due date (allowed; the pages say so)."""
    return review.submitted_at is not None and review.submitted_at > review.due_at


# --- Fetch and check ------------------------------------------------------------------------


def get_review_for_user(*, user: User, pk: int) -> Review:
    """The review with its proposal, call and reviewer, or 404 for anyone who may not know it
    exists: its reviewer sees it while it is invited, accepted, submitted or declined and
    they are not in conflict with the proposal; call managers see every review. Acting on it
    (answering, editing, reopening) is checked by the caller, which answers 403."""
    review = (
        Review.objects.select_related("proposal__call", "reviewer", "reopened_by")
        .filter(pk=pk)
        .first()
        if user.is_authenticated
        else None
    )
    if review is None:
        raise Http404("No such review.")
    if (
        is_review_author(user, review)
        and review.state in SEEN_BY_REVIEWER
        and not has_blocking_conflict(user, review.proposal)
    ):
        return review
    if can_manage_call(user, review.proposal.call):
        return review
    raise Http404("No such review.")


# --- The reviewer's list ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    """One line of "My reviews"."""

    review: Review
    overdue: bool
    late: bool

    @property
    def proposal(self) -> Proposal:
        return self.review.proposal

    @property
    def call(self) -> Call:
        return self.review.proposal.call


@dataclass(frozen=True)
class MyReviews:
    invitations: list[ReviewRow]
    reviews: list[ReviewRow]
    # Invitations and drafts that publishing the decisions closed (PRODUCT §6).
    closed: list[ReviewRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.invitations and not self.reviews and not self.closed


def my_reviews(*, user: User, now: datetime) -> MyReviews:
    """The invitations waiting for ``user`` (soonest due first) and the reviews they accepted
    (the ones still to write by due date, then the submitted ones, latest first), and those
    that publishing the decisions closed. Reviews of proposals they are in conflict with are
    left out. One query, whatever the number."""
    blocking = Conflict.objects.filter(
        proposal=OuterRef("proposal"), reviewer=user, status__in=BLOCKING_CONFLICTS
    )
    rows = [
        ReviewRow(review=review, overdue=is_overdue(review, now), late=is_late(review))
        for review in Review.objects.filter(
            reviewer=user, state__in=ACTIVE_REVIEW_STATES | {ReviewState.CLOSED}
        )
        .exclude(Exists(blocking))
        .select_related("proposal__call")
        .order_by("due_at", "id")
    ]
    closed = [row for row in rows if row.review.state == ReviewState.CLOSED]
    invitations = [row for row in rows if row.review.state == ReviewState.INVITED]
    writing = [row for row in rows if row.review.state == ReviewState.ACCEPTED]
    submitted = sorted(
        (row for row in rows if row.review.state == ReviewState.SUBMITTED),
        key=lambda row: (row.review.submitted_at, row.review.pk),
        reverse=True,
    )
    return MyReviews(invitations=invitations, reviews=writing + submitted, closed=closed)


def own_review(*, user: User, proposal: Proposal) -> Review | None:
    """The reader's own invitation or review of ``proposal`` (invited, accepted or submitted),
    for the proposal's pages to lead them back to it; None for anyone else. One query.

    The caller has fetched the proposal with ``get_proposal_for_user``: someone in conflict
    with it never gets this far.
    """
    if not user.is_authenticated:
        return None
    return (
        Review.objects.filter(proposal=proposal, reviewer=user, state__in=ACTIVE_REVIEW_STATES)
        .order_by("kind", "pk")
        .first()
    )


# --- The review form ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewContent:
    """What a review form shows and its service checks: the call's criteria and the scores
    given (scientific), the resources the proposal requested and the amounts recommended
    (technical)."""

    criteria: list[CallCriterion]
    scores: dict[int, int]
    requests: list[ResourceRequest]
    recommended: dict[int, Decimal]

    @property
    def scored(self) -> list[tuple[CallCriterion, int | None]]:
        """Each criterion with its score, None when not scored yet."""
        return [(criterion, self.scores.get(criterion.pk)) for criterion in self.criteria]

    @property
    def amounts(self) -> list[tuple[ResourceRequest, Decimal | None]]:
        """Each request with the amount recommended, None when none yet."""
        return [(r, self.recommended.get(r.call_resource_id)) for r in self.requests]


def review_content(review: Review) -> ReviewContent:
    """The review's criteria and scores, or requests and recommendations, by its kind. Two
    queries."""
    if review.kind == ReviewKind.TECHNICAL:
        requests = list(
            ResourceRequest.objects.filter(proposal_id=review.proposal_id)
            .select_related("call_resource__resource")
            .order_by("call_resource__resource__name", "id")
        )
        recommended = dict(review.recommended.values_list("call_resource_id", "amount"))
        return ReviewContent(criteria=[], scores={}, requests=requests, recommended=recommended)
    criteria = list(CallCriterion.objects.filter(call_id=review.proposal.call_id))
    scores = dict(review.scores.values_list("criterion_id", "value"))
    return ReviewContent(criteria=criteria, scores=scores, requests=[], recommended={})


def review_problems(review: Review, content: ReviewContent | None = None) -> dict[str, list[str]]:
    """Everything that stops ``review`` from being submitted, keyed by form field name, in the
    order of the form. Empty when it is complete.

    Scientific: a score for every criterion of the call, a comment to the applicant, a
    recommendation. Technical: a verdict, a recommended amount for every resource the
    proposal requested, and comments when the verdict is not plainly "feasible".
    """
    content = content or review_content(review)
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if review.kind == ReviewKind.TECHNICAL:
        if not review.verdict:
            add("verdict", _("Choose a technical verdict."))
        for request in content.requests:
            if request.call_resource_id not in content.recommended:
                resource = request.call_resource.resource
                add(
                    recommended_field_name(request.call_resource_id),
                    _("Recommend an amount of %(resource)s (%(unit)s).")
                    % {"resource": resource.name, "unit": resource.unit},
                )
        if review.verdict in VERDICTS_NEEDING_COMMENTS and not review.confidential_comment.strip():
            add(
                "confidential_comment",
                _("Say in the comments what must change, or why the proposal is not feasible."),
            )
        return problems

    for criterion in content.criteria:
        if criterion.pk not in content.scores:
            add(
                score_field_name(criterion.pk),
                _("Give a score for “%(criterion)s”.") % {"criterion": criterion.name},
            )
    if not review.comment_to_applicant.strip():
        add("comment_to_applicant", _("Write a comment to the applicant."))
    if not review.recommendation:
        add("recommendation", _("Choose a recommendation."))
    return problems


# --- A call's reviews -------------------------------------------------------------------------


def call_reviews_complete(call: Call) -> bool:
    """Whether every review of ``call`` is in: no proposal in competition (submitted, under
    review, decided) has an invited or accepted review left, and each has at least one
    submitted scientific review (a proposal nobody reviews yet is not "complete"). Two
    queries at most."""
    in_competition = Proposal.objects.filter(call=call, status__in=IN_COMPETITION)
    outstanding = Review.objects.filter(
        proposal__call=call, proposal__status__in=IN_COMPETITION, state__in=OUTSTANDING
    )
    if outstanding.exists():
        return False
    reviewed = Review.objects.filter(
        proposal=OuterRef("pk"), kind=ReviewKind.SCIENTIFIC, state=ReviewState.SUBMITTED
    )
    return not in_competition.exclude(Exists(reviewed)).exists()


@dataclass(frozen=True)
class ProposalReading:
    """What a reviewer reads beside the review form (issue 14, point 6): the proposal as it
    was submitted (its latest version, a readable page) and its project description (PDF)."""

    version: int | None
    description_pk: int | None


def proposal_reading(proposal: Proposal) -> ProposalReading:
    """The latest submitted version's number and the current project description's id (None
    when there is none). Two queries."""
    version = proposal.versions.order_by("-number").values_list("number", flat=True).first()
    description = (
        proposal.attachments.filter(kind=AttachmentKind.DESCRIPTION, replaced_at__isnull=True)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return ProposalReading(version=version, description_pk=description)
