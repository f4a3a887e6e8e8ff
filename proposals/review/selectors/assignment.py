"""Reads for reviewer assignment (PRODUCT §5.1): the reviewer pool with loads, what the solver
needs, the managers' assignment page. Every function runs a constant number of queries,
whatever the size of the call.

Words used here: the *pool* is the call's reviewers (CallRole ``reviewer`` linked to a user);
a reviewer's *load* is the number of their active (invited, accepted, submitted) scientific
reviews of the call's proposals in competition; their *capacity* is the role's ``max_load``,
or ``DEFAULT_MAX_LOAD`` when the manager left it empty.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallRole
from proposals.calls.rules import can_manage_call
from proposals.review.enums import ACTIVE_REVIEW_STATES, ReviewKind, ReviewState
from proposals.review.models import Review
from proposals.review.selectors.conflicts import blocked_pairs
from proposals.submission.enums import IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal

# A reviewer whose role has no maximum is asked for at most this many reviews per call.
DEFAULT_MAX_LOAD = 8
# Proposals that get reviewers assigned: submitted and not yet decided.
REVIEWABLE = frozenset({ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW})
# Reviews still owed: past their due date, these are overdue.
OUTSTANDING = frozenset({ReviewState.INVITED, ReviewState.ACCEPTED})
# Pairs never suggested again: the reviewer said no, or a manager took them off.
ENDED = frozenset({ReviewState.DECLINED, ReviewState.REMOVED})
# Proposals listed on one page of the assignment page.
PAGE_SIZE = 50


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _ListedAttrs(TypedDict):
        """What ``assignment_overview`` annotates and prefetches onto each proposal listed."""

        assigned: int
        all_reviews: list[Review]

    _Listed = WithAnnotations[Proposal, _ListedAttrs]


@dataclass(frozen=True)
class PoolMember:
    """A reviewer of the pool, with their load in the call and their capacity."""

    user: User
    role: CallRole
    load: int
    capacity: int
    capacity_is_default: bool

    @property
    def load_left(self) -> int:
        return max(self.capacity - self.load, 0)


def _pool_roles(call: Call, kind: CallRoleKind) -> list[tuple[User, CallRole]]:
    """The roles of ``kind`` linked to an active user, one per user (the first added), each
    with its user."""
    roles = (
        CallRole.objects.filter(call=call, role=kind, user__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    )
    seen: dict[int, tuple[User, CallRole]] = {}
    for role in roles:
        if role.user is not None:  # always: the query asks for user__isnull=False
            seen.setdefault(role.user.pk, (role.user, role))
    return list(seen.values())


def _active_scientific(call: Call):
    return Review.objects.filter(
        proposal__call=call,
        proposal__status__in=IN_COMPETITION,
        kind=ReviewKind.SCIENTIFIC,
        state__in=ACTIVE_REVIEW_STATES,
    )


def reviewer_loads(*, call: Call) -> Counter[int]:
    """Each reviewer's load in ``call`` by user id. One query."""
    rows = _active_scientific(call).values("reviewer_id").annotate(n=Count("pk")).order_by()
    return Counter({row["reviewer_id"]: row["n"] for row in rows})


def reviewer_load(*, call: Call, reviewer: User) -> int:
    """One reviewer's load in ``call``. One query."""
    return _active_scientific(call).filter(reviewer=reviewer).count()


def reviewer_pool(*, call: Call, loads: Counter[int] | None = None) -> list[PoolMember]:
    """The call's reviewer pool by name, each with load and capacity. Two queries (one when
    ``loads`` is given)."""
    if loads is None:
        loads = reviewer_loads(call=call)
    return [
        PoolMember(
            user=user,
            role=role,
            load=loads[user.pk],
            capacity=DEFAULT_MAX_LOAD if role.max_load is None else role.max_load,
            capacity_is_default=role.max_load is None,
        )
        for user, role in _pool_roles(call, CallRoleKind.REVIEWER)
    ]


def technical_reviewers(*, call: Call) -> list[User]:
    """The call's technical reviewers (centre staff), by name. One query."""
    return [user for user, _role in _pool_roles(call, CallRoleKind.TECHNICAL)]


def find_call_reviewer(*, call: Call, value: str) -> User | None:
    """The user of the call's reviewer pool or technical reviewers whose id or email (any
    case) is ``value``; None when there is none. One query."""
    value = value.strip()
    if not value:
        return None
    roles = CallRole.objects.filter(
        call=call,
        role__in=[CallRoleKind.REVIEWER, CallRoleKind.TECHNICAL],
        user__isnull=False,
        user__is_active=True,
    )
    if value.isdigit() and len(value) < 19:
        roles = roles.filter(user_id=int(value))
    else:
        roles = roles.filter(Q(user__email__iexact=value) | Q(email__iexact=value))
    role = roles.select_related("user").order_by("pk").first()
    return role.user if role else None


# How many people a partial name or email may match before the manager is asked for more.
MATCHES_SHOWN = 5


def match_call_reviewers(*, call: Call, value: str) -> list[User]:
    """Who of the call's reviewer pool or technical reviewers ``value`` names: the one whose
    id or email (any case) it is; else everyone whose name or email contains it (any case),
    by name, at most ``MATCHES_SHOWN`` + 1 (so a caller can say "and more"). Two queries at
    most."""
    exact = find_call_reviewer(call=call, value=value)
    if exact is not None:
        return [exact]
    value = value.strip()
    if not value:
        return []
    roles = (
        CallRole.objects.filter(
            call=call,
            role__in=[CallRoleKind.REVIEWER, CallRoleKind.TECHNICAL],
            user__isnull=False,
            user__is_active=True,
        )
        .filter(Q(user__full_name__icontains=value) | Q(user__email__icontains=value))
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    )
    found: list[User] = []
    for role in roles[: (MATCHES_SHOWN + 1) * 2]:
        if role.user is not None and role.user not in found:
            found.append(role.user)
    return found[: MATCHES_SHOWN + 1]


@dataclass(frozen=True)
class AssignmentInputs:
    """Everything the suggestion starts from, read at one moment.

    ``fixed``: active scientific pairs on proposals in competition (they stay and count);
    ``ended``: pairs with a declined or removed scientific review (never suggested again);
    ``conflicts``: pairs blocked by a conflict of interest (``blocked_pairs``);
    ``existing``: every pair with a scientific review row, whatever its state.
    """

    proposals: list[Proposal]
    pool: list[PoolMember]
    fixed: set[tuple[int, int]]
    ended: set[tuple[int, int]]
    conflicts: set[tuple[int, int]]

    @property
    def existing(self) -> set[tuple[int, int]]:
        return self.fixed | self.ended

    @property
    def blocked(self) -> set[tuple[int, int]]:
        return self.conflicts | self.ended


def assignment_inputs(*, call: Call) -> AssignmentInputs:
    """What ``assignment_suggest`` and ``assignment_apply`` need. Four queries."""
    proposals = list(
        Proposal.objects.filter(call=call, status__in=REVIEWABLE)
        .only(
            "pk",
            "call_id",
            "reference",
            "reference_number",
            "acronym",
            "title",
            "field",
            "keywords",
            "status",
        )
        .order_by(F("reference_number").asc(nulls_last=True), "pk")
    )
    rows = Review.objects.filter(
        proposal__call=call, kind=ReviewKind.SCIENTIFIC, proposal__status__in=IN_COMPETITION
    ).values_list("proposal_id", "reviewer_id", "state")
    fixed: set[tuple[int, int]] = set()
    ended: set[tuple[int, int]] = set()
    loads: Counter[int] = Counter()
    for proposal_id, reviewer_id, state in rows:
        if state in ACTIVE_REVIEW_STATES:
            fixed.add((proposal_id, reviewer_id))
            loads[reviewer_id] += 1
        else:
            ended.add((proposal_id, reviewer_id))
    return AssignmentInputs(
        proposals=proposals,
        pool=reviewer_pool(call=call, loads=loads),
        fixed=fixed,
        ended=ended,
        conflicts=blocked_pairs(call=call),
    )


# --- The managers' assignment page ---------------------------------------------------------


def get_proposal_for_manager(*, user: User, pk: int) -> Proposal:
    """The proposal with its call: 404 when there is none, 403 when ``user`` may not manage
    its call."""
    proposal = get_object_or_404(Proposal.objects.select_related("call"), pk=pk)
    if not can_manage_call(user, proposal.call):
        raise PermissionDenied
    return proposal


def get_review_for_manager(*, user: User, pk: int) -> Review:
    """The review with its proposal, call and reviewer: 404 when there is none, 403 when
    ``user`` may not manage its call."""
    review = get_object_or_404(Review.objects.select_related("proposal__call", "reviewer"), pk=pk)
    if not can_manage_call(user, review.proposal.call):
        raise PermissionDenied
    return review


@dataclass(frozen=True)
class AssignedReview:
    review: Review
    overdue: bool

    @property
    def badge_class(self) -> str:
        """The state badge's CSS class: overdue (red) wins over invited or accepted."""
        if self.overdue:
            return "badge-failed"
        if self.review.state == ReviewState.REMOVED:
            return "badge-closed"
        return f"badge-{self.review.state}"

    @property
    def removable(self) -> bool:
        return self.review.state in OUTSTANDING


@dataclass(frozen=True)
class ProposalAssignment:
    """One proposal on the assignment page: its reviews and how many it still needs."""

    proposal: Proposal
    reviews: list[AssignedReview]
    still_needed: int


@dataclass(frozen=True)
class AssignmentOverview:
    call: Call
    page: Page
    rows: list[ProposalAssignment]
    pool: list[PoolMember]
    technical: list[User]
    open_only: bool
    counts: dict[str, int] = field(default_factory=dict)


def assignment_overview(
    *, call: Call, now: datetime, page: int | str = 1, open_only: bool = False
) -> AssignmentOverview:
    """The proposals of ``call`` that get reviewers (submitted or under review), by reference,
    one page of ``PAGE_SIZE``; with ``open_only``, only those still needing scientific
    reviewers. Each with its reviews (every state, scientific first) and the reviewers still
    needed; the pool with loads; the technical reviewers; counts for the whole call
    (``proposals``, ``open``: still needing reviewers, ``missing``: reviewers still needed).

    Six queries whatever the number of proposals (four when the page lists none).
    """
    need = call.reviewers_per_proposal
    proposals = (
        Proposal.objects.filter(call=call, status__in=REVIEWABLE)
        .annotate(
            assigned=Count(
                "reviews",
                filter=Q(
                    reviews__kind=ReviewKind.SCIENTIFIC,
                    reviews__state__in=ACTIVE_REVIEW_STATES,
                ),
            )
        )
        .order_by(F("reference_number").asc(nulls_last=True), "pk")
    )
    totals = {"proposals": 0, "open": 0, "missing": 0}
    for assigned in proposals.values_list("assigned", flat=True):
        totals["proposals"] += 1
        totals["open"] += assigned < need
        totals["missing"] += max(need - assigned, 0)
    if open_only:
        proposals = proposals.filter(assigned__lt=need)
    listed = proposals.only(
        "pk", "call_id", "reference", "reference_number", "acronym", "title", "field", "status"
    ).prefetch_related(
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("reviewer").order_by(
                "kind", "assigned_at", "pk"
            ),
            to_attr="all_reviews",
        )
    )
    paginator = Paginator(listed, PAGE_SIZE)
    paginator.count = totals["open"] if open_only else totals["proposals"]
    current = paginator.get_page(page)
    rows = []
    # Declared: the annotated rows' attributes do not survive Paginator's type parameter.
    proposal: _Listed
    for proposal in current.object_list:
        reviews = [
            AssignedReview(review, review.state in OUTSTANDING and review.due_at <= now)
            for review in proposal.all_reviews
        ]
        rows.append(ProposalAssignment(proposal, reviews, max(need - proposal.assigned, 0)))
    return AssignmentOverview(
        call=call,
        page=current,
        rows=rows,
        pool=reviewer_pool(call=call),
        technical=technical_reviewers(call=call),
        open_only=open_only,
        counts=totals,
    )
