"""Reads of conflicts of interest (PRODUCT §5.1). Every function runs a constant number of
queries, whatever the size of the call."""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    SETTLED_CONFLICTS,
    ConflictStatus,
    ReviewState,
)
from proposals.review.models import Conflict, Review
from proposals.review.rules import has_blocking_conflict
from proposals.submission.models import Proposal
from proposals.submission.rules import is_in_competition, is_team_member


def blocked_pairs(*, call: Call) -> set[tuple[int, int]]:
    """The (proposal_id, reviewer_id) pairs of ``call`` that must not be suggested.

    Any conflict except a dismissed or withdrawn one blocks the pair: confirmed and declared
    ones block it for good (the database refuses an active review), and a detected one not yet
    decided is treated as blocked for the suggestion, which is the safer side. One query.
    """
    return set(
        Conflict.objects.filter(proposal__call=call)
        .exclude(status__in=SETTLED_CONFLICTS)
        .order_by()  # the model's ordering would add "reason" to the DISTINCT
        .values_list("proposal_id", "reviewer_id")
        .distinct()
    )


def conflicts_for_pairs(call: Call) -> dict[tuple[int, int], set[str]]:
    """Every conflict status of each (proposal_id, reviewer_id) pair of ``call``. One query.

    A pair has one status per reason (one row per reason), hence a set.
    """
    pairs: dict[tuple[int, int], set[str]] = defaultdict(set)
    rows = Conflict.objects.filter(proposal__call=call).values_list(
        "proposal_id", "reviewer_id", "status"
    )
    for proposal_id, reviewer_id, status in rows:
        pairs[(proposal_id, reviewer_id)].add(status)
    return dict(pairs)


# The order of the managers' page: what is still to decide first.
STATUS_ORDER = (
    ConflictStatus.DETECTED,
    ConflictStatus.DECLARED,
    ConflictStatus.CONFIRMED,
    ConflictStatus.DISMISSED,
    ConflictStatus.WITHDRAWN,
)


CONFLICTS_PAGE_SIZE = 50


@dataclass(frozen=True)
class ConflictGroup:
    status: ConflictStatus
    conflicts: list[Conflict]
    count: int  # in the whole call (the page shows ``conflicts``, up to a page of them)


@dataclass(frozen=True)
class CallConflicts:
    """A page of the conflicts of a call for its managers, grouped by status in
    ``STATUS_ORDER``.

    ``groups`` holds only the statuses on this page (all, or the one filtered on);
    ``counts`` has every status of the whole call, whatever the filter and the page.
    """

    groups: list[ConflictGroup]
    counts: dict[str, int]
    page_obj: Page

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def call_conflicts(*, call: Call, status: str = "", page: int | str | None = 1) -> CallConflicts:
    """A page of the conflicts of ``call`` with their proposals and reviewers: what is still to
    decide first (``STATUS_ORDER``), then by proposal reference and reviewer; only those of
    ``status`` when it is a ``ConflictStatus`` (anything else: all).

    Each conflict carries ``has_active_review``: whether the pair has an invited, accepted or
    submitted review, which confirming would remove. Three queries whatever the number of rows;
    only a page of rows is read (a call of 3,000 proposals has tens of thousands of detected
    pairs at the first detection).
    """
    rank = Case(
        *(When(status=value, then=Value(i)) for i, value in enumerate(STATUS_ORDER)),
        output_field=IntegerField(),
    )
    active = Review.objects.filter(
        proposal=OuterRef("proposal"),
        reviewer=OuterRef("reviewer"),
        state__in=ACTIVE_REVIEW_STATES,
    )
    conflicts = (
        Conflict.objects.filter(proposal__call=call)
        .select_related("proposal", "reviewer", "decided_by")
        .annotate(has_active_review=Exists(active), status_rank=rank)
        .order_by(
            "status_rank",
            F("proposal__reference_number").asc(nulls_last=True),
            "proposal_id",
            "reviewer__full_name",
            "reviewer_id",
            "reason",
        )
    )
    if status in ConflictStatus.values:
        conflicts = conflicts.filter(status=status)
    page_obj = Paginator(conflicts, CONFLICTS_PAGE_SIZE).get_page(page)
    by_status: dict[str, list[Conflict]] = defaultdict(list)
    for conflict in page_obj.object_list:
        by_status[conflict.status].append(conflict)
    counts = dict.fromkeys(ConflictStatus.values, 0)
    for row in (
        Conflict.objects.filter(proposal__call=call)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["status"]] = row["n"]
    groups = [ConflictGroup(s, by_status[s], counts[s]) for s in STATUS_ORDER if by_status[s]]
    return CallConflicts(groups=groups, counts=counts, page_obj=page_obj)


def get_conflict_for_manager(*, user: User, pk: int) -> Conflict:
    """The conflict with its proposal and call: 404 when there is none, 403 when ``user``
    may not manage its call."""
    conflict = get_object_or_404(
        Conflict.objects.select_related("proposal__call", "reviewer"), pk=pk
    )
    if not can_manage_call(user, conflict.proposal.call):
        raise PermissionDenied
    return conflict


def get_proposal_for_declaring(*, user: User, pk: int) -> tuple[Proposal, Review | None]:
    """The proposal ``pk`` on which ``user`` may declare a conflict of interest, with their
    review: a reviewer's own review (``get_review_for_declaring``), or None for a member of the
    call's committee who reads the proposal (in competition, on nobody's team, not in conflict
    already). 404 for anyone else (PRODUCT §1.1)."""
    try:
        review = get_review_for_declaring(user=user, pk=pk)
    except Http404:
        proposal = (
            Proposal.objects.select_related("call").filter(pk=pk).first()
            if user.is_authenticated
            else None
        )
        if (
            proposal is None
            or not is_in_competition(proposal)
            or not is_committee_member(user, proposal.call)
            or is_team_member(user, proposal)
            or has_blocking_conflict(user, proposal)
        ):
            raise
        return proposal, None
    return review.proposal, review


def get_review_for_declaring(*, user: User, pk: int) -> Review:
    """``user``'s review of the proposal ``pk`` that no manager removed (invited, accepted,
    declined or submitted; the scientific one first), with its proposal and call. 404 for
    anyone else: they may not know the proposal exists, or have nothing to declare
    (PRODUCT §1.1)."""
    review = None
    if user.is_authenticated:
        review = (
            Review.objects.select_related("proposal__call")
            .filter(proposal_id=pk, reviewer=user)
            .exclude(state=ReviewState.REMOVED)
            .order_by("kind", "pk")
            .first()
        )
    if review is None:
        raise Http404("No such proposal.")
    return review
