"""Reads of a researcher's allocations (PRODUCT §8), with the permission checks of §1.1.

Who sees an allocation: its PI, its current members and call managers; anyone else gets 404.
Only the PI acts on it (members, requests, the final report): the others get 403. Figures come
from the ledger (``allocations.ledger``) and the quota (``allocations.quota``); every function
here runs a fixed number of queries, whatever the number of allocations, members or entries.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from allocations.enums import RequestStatus
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationRequest,
    AllocationResource,
    FinalReport,
    Resource,
)
from allocations.rules import FINAL_REPORT_DUE_AFTER, can_view_allocation
from allocations.selectors.ledger import (
    ResourceLedger,
    monthly_sums_by_allocation,
    resource_ledgers,
    usage_by_member,
)
from allocations.selectors.manage import Period, period_of

ZERO = Decimal(0)


# --- Who may do what -----------------------------------------------------------------------


def get_allocation_for_user(*, user: User, pk: int) -> Allocation:
    """The allocation with its call and PI, or 404 for anyone who may not see it."""
    allocation = (
        Allocation.objects.select_related("proposal__call", "pi").filter(pk=pk).first()
        if user.is_authenticated
        else None
    )
    if allocation is None or not can_view_allocation(user, allocation):
        raise Http404("No such allocation.")
    return allocation


def get_request_for_manager(*, pk: int) -> AllocationRequest:
    """A request with its allocation, or 404. The caller checks that the user is a manager."""
    request = (
        AllocationRequest.objects.select_related("allocation__proposal__call", "resource")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    return request


# --- Dates ---------------------------------------------------------------------------------


def local_today(allocation: Allocation, now: datetime | None = None) -> date:
    """Today in the allocation's call's time zone (the zone of its period's dates)."""
    return (now or timezone.now()).astimezone(allocation.proposal.call.tz).date()


def final_report_due(allocation: Allocation) -> date:
    """The last day for the final report: 8 weeks after the period's end."""
    return allocation.end + FINAL_REPORT_DUE_AFTER


class ReportState:
    """Where the final report stands: not yet open for upload (the period is running), due,
    overdue, received, received after the due date."""

    NOT_YET = "not_yet"
    DUE = "due"
    OVERDUE = "overdue"
    RECEIVED = "received"
    LATE = "late"
    LABELS = {
        NOT_YET: _("Not due yet"),
        DUE: _("Final report due"),
        OVERDUE: _("Final report overdue"),
        RECEIVED: _("Final report received"),
        LATE: _("Final report received late"),
    }


@dataclass(frozen=True)
class ReportStatus:
    state: str
    due: date
    opens: date
    report: FinalReport | None

    @property
    def label(self) -> str:
        return str(ReportState.LABELS[self.state])

    @property
    def can_upload_now(self) -> bool:
        return self.state != ReportState.NOT_YET


def report_status(allocation: Allocation, report: FinalReport | None, today: date) -> ReportStatus:
    """The final report's state on ``today``: uploads open on the period's last day; due 8
    weeks after it; a report uploaded after the due date (in the call's zone) is late."""
    due = final_report_due(allocation)
    if report is not None:
        uploaded = report.uploaded_at.astimezone(allocation.proposal.call.tz).date()
        state = ReportState.LATE if uploaded > due else ReportState.RECEIVED
    elif today < allocation.end:
        state = ReportState.NOT_YET
    elif today > due:
        state = ReportState.OVERDUE
    else:
        state = ReportState.DUE
    return ReportStatus(state=state, due=due, opens=allocation.end, report=report)


def _report_of(allocation: Allocation) -> FinalReport | None:
    try:
        return allocation.final_report
    except FinalReport.DoesNotExist:
        return None


# --- My allocations ------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationSummary:
    """An allocation as a researcher's list shows it."""

    allocation: Allocation
    today: date
    period: str
    report: ReportStatus
    lines: list[ResourceLedger]
    is_pi: bool

    @property
    def period_label(self) -> str:
        return str(Period.LABELS[self.period])


def _visible_to(user: User) -> Q:
    """Allocations ``user`` leads or is a current member of: one UNION of two index scans
    (``pi = … OR pk IN (…)`` makes PostgreSQL read every allocation, PI and proposal)."""
    current = AllocationMember.objects.filter(user=user, removed_at__isnull=True)
    led = Allocation.objects.filter(pi=user).values("pk")
    return Q(pk__in=led.union(current.values("allocation_id")))


def _summaries(allocations: list[Allocation], user: User, now: datetime) -> list[AllocationSummary]:
    by_allocation = monthly_sums_by_allocation(allocations)
    summaries = []
    for allocation in allocations:
        today = local_today(allocation, now)
        resources = sorted((r.resource for r in allocation.resources.all()), key=lambda r: r.name)
        summaries.append(
            AllocationSummary(
                allocation=allocation,
                today=today,
                period=period_of(allocation, today),
                report=report_status(allocation, _report_of(allocation), today),
                lines=resource_ledgers(allocation, resources, by_allocation[allocation.pk], today),
                is_pi=allocation.pi_id == user.pk,
            )
        )
    return summaries


def my_allocations(*, user: User, now: datetime | None = None) -> list[AllocationSummary]:
    """Every allocation ``user`` leads or is a current member of, the latest period first,
    with per resource awarded / used / left, this month's quota and state, the period's state
    and the final report's. Three queries: the allocations (with call, PI and report), their
    resources, the ledger grouped by month."""
    now = now or timezone.now()
    allocations = list(
        Allocation.objects.filter(_visible_to(user))
        .select_related("proposal__call", "pi", "final_report")
        .prefetch_related(
            Prefetch("resources", queryset=AllocationResource.objects.select_related("resource"))
        )
        .order_by("-start", "account")
    )
    return _summaries(allocations, user, now)


def pending_requests() -> list[AllocationRequest]:
    """Every request waiting for a decision, oldest first, with its allocation, call, PI and
    resource: the call managers' to-do list. One query."""
    return list(
        AllocationRequest.objects.filter(status=RequestStatus.PENDING)
        .select_related("allocation__proposal__call", "allocation__pi", "resource", "requested_by")
        .order_by("requested_at", "pk")
    )


# --- One allocation ------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    """A person on the allocation's page: a current member, or someone whose usage is in the
    ledger (a former member, or ``user`` None for a deleted account). ``used``: each of the
    page's resources, in order, with what this person's jobs used of it."""

    user: User | None
    membership: AllocationMember | None
    is_pi: bool
    used: list[tuple[Resource, Decimal]]

    @property
    def is_current(self) -> bool:
        return self.membership is not None and self.membership.removed_at is None


@dataclass(frozen=True)
class AllocationPage:
    summary: AllocationSummary
    members: list[MemberRow]
    requests: list[AllocationRequest]
    pending_kinds: set[str] = field(default_factory=set)

    @property
    def allocation(self) -> Allocation:
        return self.summary.allocation


def allocation_page(
    *, allocation: Allocation, user: User, now: datetime | None = None
) -> AllocationPage:
    """What the allocation's page shows: the summary (figures per resource, the quota month by
    month), use per member and resource (current members first, the PI at the top; then
    anyone else the ledger charged), and the requests, newest first. Seven queries."""
    now = now or timezone.now()
    loaded = (
        Allocation.objects.select_related("proposal__call", "pi", "final_report")
        .prefetch_related(
            Prefetch("resources", queryset=AllocationResource.objects.select_related("resource"))
        )
        .get(pk=allocation.pk)
    )
    summary = _summaries([loaded], user, now)[0]
    resources = [line.resource for line in summary.lines]
    memberships = list(
        loaded.members.select_related("user").order_by("removed_at", "added_at", "pk")
    )
    use: dict[int | None, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    people: dict[int, User] = {}
    for row in usage_by_member(allocation=loaded):
        key = row.user.pk if row.user is not None else None
        use[key][row.resource_id] += row.used
        if row.user is not None:
            people[row.user.pk] = row.user

    def used(key: int | None) -> list[tuple[Resource, Decimal]]:
        return [(r, use.get(key, {}).get(r.pk, ZERO)) for r in resources]

    rows: list[MemberRow] = []
    seen: set[int] = set()
    current = [m for m in memberships if m.removed_at is None]
    current.sort(key=lambda m: m.user_id != loaded.pi_id)  # stable: the PI first
    for membership in current:
        seen.add(membership.user_id)
        rows.append(
            MemberRow(
                membership.user,
                membership,
                membership.user_id == loaded.pi_id,
                used(membership.user_id),
            )
        )
    former = {m.user_id: m for m in memberships if m.removed_at is not None}
    users_with_use = {pk for pk in use if pk is not None}
    for user_id in sorted(users_with_use - seen, key=lambda pk: people[pk].display_name):
        rows.append(
            MemberRow(people[user_id], former.get(user_id), user_id == loaded.pi_id, used(user_id))
        )
    if None in use:
        rows.append(MemberRow(None, None, False, used(None)))
    requests = list(
        loaded.requests.select_related("resource", "requested_by", "decided_by").order_by(
            "-requested_at", "-pk"
        )
    )
    pending = {r.kind for r in requests if r.status == RequestStatus.PENDING}
    return AllocationPage(summary=summary, members=rows, requests=requests, pending_kinds=pending)


def allocation_summary(
    *, allocation: Allocation, user: User, now: datetime | None = None
) -> AllocationSummary:
    """The figures of one allocation (as on the list). Three queries."""
    now = now or timezone.now()
    loaded = (
        Allocation.objects.select_related("proposal__call", "pi", "final_report")
        .prefetch_related(
            Prefetch("resources", queryset=AllocationResource.objects.select_related("resource"))
        )
        .get(pk=allocation.pk)
    )
    return _summaries([loaded], user, now)[0]
