"""Reads about calls, shaped so that list pages use a constant number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallResource, CallRole
from proposals.calls.rules import can_manage_call


def _with_resources(calls: QuerySet[Call]) -> QuerySet[Call]:
    return calls.prefetch_related(
        Prefetch("call_resources", queryset=CallResource.objects.select_related("resource"))
    )


@dataclass(frozen=True)
class PublicCalls:
    current: list[Call]
    past: list[Call]


def public_calls(*, now: datetime | None = None) -> PublicCalls:
    """Open and upcoming calls (soonest deadline first) and past ones (latest first).

    Archived calls are in neither list. Four queries whatever the number of calls.
    """
    now = now or timezone.now()
    current = _with_resources(Call.objects.publicly_listed(now).order_by("closes_at", "code"))
    past = Call.objects.past(now).order_by("-closes_at", "code")
    return PublicCalls(current=list(current), past=list(past))


def get_public_call(*, pk: int) -> Call:
    """Any call by its id, archived ones included (their pages stay readable); else 404."""
    queryset = _with_resources(Call.objects.all()).prefetch_related("criteria")
    return get_object_or_404(queryset, pk=pk)


def manager_calls() -> QuerySet[Call]:
    """Every call with its number of resources, committee members and reviewers."""
    return Call.objects.annotate(
        resource_count=Count("call_resources", distinct=True),
        committee_count=Count("roles", filter=Q(roles__role=CallRoleKind.COMMITTEE), distinct=True),
        reviewer_count=Count("roles", filter=Q(roles__role=CallRoleKind.REVIEWER), distinct=True),
    ).order_by("-opens_at", "code")


def get_call_for_manager(*, user: User, pk: int) -> Call:
    """The call if ``user`` may manage it: 404 when there is no such call, 403 when not theirs."""
    call = get_object_or_404(Call, pk=pk)
    if not can_manage_call(user, call):
        raise PermissionDenied
    return call


def get_call_for_editing(*, user: User, pk: int) -> Call:
    """As ``get_call_for_manager``, with the budgets and criteria the edit page shows."""
    call = get_object_or_404(
        _with_resources(Call.objects.all()).prefetch_related("criteria"), pk=pk
    )
    if not can_manage_call(user, call):
        raise PermissionDenied
    return call


def get_call_role_for_manager(*, user: User, call: Call, pk: int) -> CallRole:
    """A role of ``call`` (404 if it belongs to another call or is gone)."""
    if not can_manage_call(user, call):
        raise PermissionDenied
    return get_object_or_404(CallRole, call=call, pk=pk)


REVIEWER_POOL_PAGE_SIZE = 100


@dataclass(frozen=True)
class CallPeople:
    committee: list[CallRole]
    reviewers: Page  # a page of the pool: a JUPITER call has 600 reviewers


def call_people(*, call: Call, page: int | str | None = 1) -> CallPeople:
    """The committee and a page of the reviewer pool of a call, with their accounts, by email.
    Three queries (the committee, the pool's count, its page) whatever the size of the pool."""
    roles = call.roles.select_related("user").order_by("email", "pk")
    pool = roles.filter(role=CallRoleKind.REVIEWER)
    return CallPeople(
        committee=list(roles.filter(role=CallRoleKind.COMMITTEE)),
        reviewers=Paginator(pool, REVIEWER_POOL_PAGE_SIZE).get_page(page),
    )


def committee_calls(*, user: User) -> list[Call]:
    """The calls whose committee ``user`` sits on, latest deadline first, archived ones left
    out: their way to each call's ranking. One query."""
    if not user.is_authenticated:
        return []
    return list(
        Call.objects.filter(
            roles__user=user, roles__role=CallRoleKind.COMMITTEE, archived_at__isnull=True
        )
        .distinct()
        .order_by("-closes_at", "code")
    )
