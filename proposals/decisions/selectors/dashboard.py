"""A call at a glance for its managers (PRODUCT §9): proposals by status, requested against
the budget per resource, review progress per reviewer with the overdue reviews, and the
state of the outbox for the call's people. A constant number of queries whatever the size
of the call (the counts are aggregated in the database)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.functional import Promise

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallRole
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from proposals.submission.enums import IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal, ResourceRequest, TeamMember
from proposals.submission.selectors.manage import call_offers

OPEN_REVIEW_STATES = (ReviewState.INVITED, ReviewState.ACCEPTED)
# The overdue reviews listed on the page; the count says how many there are in all.
OVERDUE_SHOWN = 50


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str | Promise
    count: int


@dataclass(frozen=True)
class ResourceDemand:
    """Requested by the proposals in competition against the call's budget."""

    name: str
    unit: str
    budget: Decimal
    requested: Decimal
    proposals: int

    @property
    def ratio(self) -> Decimal | None:
        """Oversubscription: 2.5 means two and a half times the budget was asked for."""
        return (self.requested / self.budget).quantize(Decimal("0.01")) if self.budget else None

    @property
    def oversubscribed(self) -> bool:
        return self.requested > self.budget


@dataclass(frozen=True)
class ReviewerProgress:
    name: str
    email: str
    assigned: int
    submitted: int
    open: int
    overdue: int
    declined: int


@dataclass(frozen=True)
class OverdueReview:
    pk: int
    proposal_pk: int
    reference: str
    acronym: str
    reviewer: str
    due_at: datetime
    state_label: str | Promise


@dataclass(frozen=True)
class OutboxCount:
    status: str
    label: str | Promise
    count: int


@dataclass(frozen=True)
class CallDashboard:
    call: Call
    statuses: list[StatusCount]
    resources: list[ResourceDemand]
    reviewers: list[ReviewerProgress]
    overdue: list[OverdueReview]
    overdue_count: int
    committee: int
    outbox: list[OutboxCount]
    now: datetime

    @property
    def proposals(self) -> int:
        return sum(row.count for row in self.statuses if row.status != ProposalStatus.DRAFT)

    @property
    def reviews_submitted(self) -> int:
        return sum(row.submitted for row in self.reviewers)

    @property
    def reviews_assigned(self) -> int:
        return sum(row.assigned for row in self.reviewers)


def _statuses(call: Call) -> list[StatusCount]:
    counts = dict(
        Proposal.objects.filter(call=call)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [StatusCount(s.value, s.label, counts.get(s.value, 0)) for s in ProposalStatus]


def _resources(call: Call) -> list[ResourceDemand]:
    asked: dict[int, dict[str, Any]] = {
        row["call_resource_id"]: dict(row)
        for row in ResourceRequest.objects.filter(
            proposal__call=call, proposal__status__in=IN_COMPETITION
        )
        .order_by()
        .values("call_resource_id")
        .annotate(total=Sum("amount"), proposals=Count("proposal_id", distinct=True))
    }
    rows = []
    for offer in call_offers(call=call):
        figures: dict[str, Any] = asked.get(offer.pk, {})
        rows.append(
            ResourceDemand(
                name=offer.resource.name,
                unit=offer.resource.unit,
                budget=offer.budget,
                requested=figures.get("total") or Decimal(0),
                proposals=figures.get("proposals") or 0,
            )
        )
    return rows


def _reviewers(call: Call, now: datetime) -> list[ReviewerProgress]:
    """One row per person with a review of the call, the most overdue first."""
    open_ = Q(state__in=OPEN_REVIEW_STATES)
    rows = (
        Review.objects.filter(proposal__call=call)
        .values("reviewer_id", "reviewer__full_name", "reviewer__email")
        .annotate(
            assigned=Count("pk", filter=open_ | Q(state=ReviewState.SUBMITTED)),
            submitted=Count("pk", filter=Q(state=ReviewState.SUBMITTED)),
            open=Count("pk", filter=open_),
            overdue=Count("pk", filter=open_ & Q(due_at__lt=now)),
            declined=Count("pk", filter=Q(state=ReviewState.DECLINED)),
        )
        .order_by("-overdue", "reviewer__full_name", "reviewer__email")
    )
    return [
        ReviewerProgress(
            name=row["reviewer__full_name"] or row["reviewer__email"],
            email=row["reviewer__email"],
            assigned=row["assigned"],
            submitted=row["submitted"],
            open=row["open"],
            overdue=row["overdue"],
            declined=row["declined"],
        )
        for row in rows
    ]


def _overdue(call: Call, now: datetime) -> tuple[list[OverdueReview], int]:
    late = Review.objects.filter(
        proposal__call=call, state__in=OPEN_REVIEW_STATES, due_at__lt=now
    ).order_by("due_at", "pk")
    shown = [
        OverdueReview(
            pk=review.pk,
            proposal_pk=review.proposal_id,
            reference=review.proposal.reference or "",
            acronym=review.proposal.acronym,
            reviewer=review.reviewer.display_name,
            due_at=review.due_at,
            state_label=review.get_state_display(),
        )
        for review in late.select_related("proposal", "reviewer")[:OVERDUE_SHOWN]
    ]
    count = len(shown) if len(shown) < OVERDUE_SHOWN else late.count()
    return shown, count


def _outbox(call: Call) -> list[OutboxCount]:
    """The emails to the call's people (committee, reviewers, applicants and their teams)
    since the call was created, by state. Counts only: no subject or body is read."""
    people = (
        Q(user_id__in=CallRole.objects.filter(call=call).values("user_id"))
        | Q(user_id__in=Review.objects.filter(proposal__call=call).values("reviewer_id"))
        | Q(user_id__in=Proposal.objects.filter(call=call).values("pi_id"))
        | Q(user_id__in=TeamMember.objects.filter(proposal__call=call).values("user_id"))
    )
    counts = dict(
        OutboxMessage.objects.filter(people, created_at__gte=call.created_at)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [OutboxCount(s.value, s.label, counts.get(s.value, 0)) for s in MessageStatus]


def call_dashboard(*, call: Call, now: datetime) -> CallDashboard:
    """Everything the dashboard shows of ``call`` at ``now`` (the view checks the manager)."""
    overdue, overdue_count = _overdue(call, now)
    return CallDashboard(
        call=call,
        statuses=_statuses(call),
        resources=_resources(call),
        reviewers=_reviewers(call, now),
        overdue=overdue,
        overdue_count=overdue_count,
        committee=CallRole.objects.filter(call=call, role=CallRoleKind.COMMITTEE).count(),
        outbox=_outbox(call),
        now=now,
    )
