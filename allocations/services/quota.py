"""Quota evaluation, the periodic job of PRODUCT §7/§8: emails about allocations and the forfeit
at the end of the period.

``quota_evaluate`` looks at every allocation that is active or ended in the last
``JUST_ENDED`` days and, in the call's time zone ("today"):

* from the start date to the end: ``allocation-active`` (event ``allocation-active:{pk}``);
* from the start on, per resource: ``allocation-usage`` when the usage reaches 75, 90 or 100 %
  of the award after adjustments (event ``allocation-usage:{pk}:{code}:{75|90|100}``). Only the
  highest threshold reached is queued, so a jump from 50 to 95 % sends the 90 % email, not two;
* while active, per resource: ``allocation-lowprio`` when today's month is at low priority
  (event ``allocation-lowprio:{pk}:{code}:{YYYY-MM}``);
* from 30 days before the end to the end: ``allocation-expiring`` (``allocation-expiring:{pk}``);
* as each month ends, per consumable resource, a ``forfeit`` ledger entry of what the quota
  table forfeits at that month's end (the unused carry-over; in the last month all that is
  left), source ``forfeit:{pk}:{code}:{YYYY-MM}``, none when an entry with that source exists
  (or, for the last month, the ``…:end`` source of earlier versions); so the ledger's forfeits
  equal the quota table's. After the end: ``allocation-report-due``
  (``allocation-report-due:{pk}``; the report is due 8 weeks after the end).

Emails go to the PI and the current members, once per event and person (the outbox's rule), so
running the job twice sends nothing the second time and writes no second forfeit.

Queries: a fixed number for all allocations (the allocations, members, resources, the grouped
ledger sums, the forfeit sources), two per 2,000 emails (the events already in the outbox, one
INSERT of the new ones: ``outbox_queue_many``), and a locked re-check per forfeit written.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import User
from allocations.enums import LedgerKind
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationResource,
    LedgerEntry,
    Resource,
)
from allocations.quota import Month, MonthState, MonthTime
from allocations.selectors.ledger import (
    ResourceLedger,
    monthly_sums_by_allocation,
    resource_ledgers,
    today_for,
)
from allocations.services.quota_state import quota_states_refresh
from notifications.enums import EmailKind
from notifications.services import Outgoing, outbox_queue_many

log = logging.getLogger(__name__)

ZERO = Decimal(0)
THRESHOLDS = (100, 90, 75)  # highest first
EXPIRING_DAYS = 30
REPORT_DUE = timedelta(weeks=8)
JUST_ENDED = 60  # days after the end an allocation is still looked at (catch-up after outages)
CHUNK = 500


@dataclass
class Summary:
    """What one run did: allocations looked at, emails queued (new rows), forfeits written."""

    allocations: int = 0
    emails: int = 0
    forfeits: int = 0
    events: list[str] = field(default_factory=list)


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Loaded(TypedDict):
        """What ``quota_evaluate`` prefetches onto each allocation (``to_attr``)."""

        current_members: list[AllocationMember]
        resource_rows: list[AllocationResource]

    LoadedAllocation = WithAnnotations[Allocation, _Loaded]


@dataclass(frozen=True)
class _Mail:
    kind: EmailKind
    event: str
    allocation: "LoadedAllocation"
    context: dict


def forfeit_source(allocation: Allocation, code: str, month: date | None = None) -> str:
    """The source of a month's forfeit (``None``: the end-of-period source of before)."""
    return f"forfeit:{allocation.pk}:{code}:{'end' if month is None else f'{month:%Y-%m}'}"


@dataclass(frozen=True)
class _Forfeit:
    allocation: Allocation
    resource: Resource
    month: Month
    last: bool


def report_due(allocation: Allocation) -> date:
    return allocation.end + REPORT_DUE


def quota_evaluate(*, today: date | None = None) -> Summary:
    """Evaluate every active or just-ended allocation (see the module). ``today`` overrides
    the date in every call's time zone (tests, catch-up). Side effects: ``forfeit`` ledger
    entries and outbox messages; safe to run twice or concurrently."""
    summary = Summary()
    reference = today or timezone.localdate()
    allocations = list(
        Allocation.objects.filter(
            start__lte=reference + timedelta(days=1),
            end__gte=reference - timedelta(days=JUST_ENDED + 1),
        )
        .select_related("proposal__call", "pi")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=AllocationMember.objects.filter(removed_at__isnull=True).select_related(
                    "user"
                ),
                to_attr="current_members",
            ),
            Prefetch(
                "resources",
                queryset=AllocationResource.objects.select_related("resource"),
                to_attr="resource_rows",
            ),
        )
        .order_by("pk")
    )
    sums = monthly_sums_by_allocation(allocations)
    mails: list[_Mail] = []
    forfeits: list[_Forfeit] = []
    for allocation in allocations:
        local_today = today or today_for(allocation)
        if local_today < allocation.start or local_today > allocation.end + timedelta(
            days=JUST_ENDED
        ):
            continue
        summary.allocations += 1
        resources = sorted((row.resource for row in allocation.resource_rows), key=lambda r: r.name)
        ledgers = resource_ledgers(allocation, resources, sums[allocation.pk], local_today)
        mails.extend(_mails_for(allocation, ledgers, local_today))
        for ledger in ledgers:
            months = ledger.quota.months
            forfeits.extend(
                _Forfeit(allocation, ledger.resource, month, i == len(months) - 1)
                for i, month in enumerate(months)
                if month.time == MonthTime.PAST and month.forfeited > 0
            )

    summary.forfeits = _write_forfeits(forfeits)
    summary.emails, summary.events = _queue(mails)
    # The managers' filters read the state kept on each resource: a new month changes it.
    quota_states_refresh([allocation.pk for allocation in allocations], today=today)
    if summary.emails or summary.forfeits:
        log.info(
            "quota evaluated",
            extra={"ctx_emails": summary.emails, "ctx_forfeits": summary.forfeits},
        )
    return summary


def _mails_for(
    allocation: "LoadedAllocation", ledgers: list[ResourceLedger], today: date
) -> list[_Mail]:
    pk = allocation.pk
    # The link and the dates, made once for every email about the allocation rather than in
    # each template: a first run renders over 10,000 emails.
    base = {
        "allocation": allocation,
        "allocation_path": reverse("allocation_detail", args=[pk]),
        "start_date": dateformat.format(allocation.start, "j M Y"),
        "end_date": dateformat.format(allocation.end, "j M Y"),
    }
    mails = []
    active = today <= allocation.end
    if active:
        mails.append(
            _Mail(EmailKind.ALLOCATION_ACTIVE, f"allocation-active:{pk}", allocation, base)
        )
    for ledger in ledgers:
        code = ledger.resource.code
        awarded, used = ledger.totals.awarded, ledger.totals.used
        if awarded > 0:
            reached = next((t for t in THRESHOLDS if used * 100 >= awarded * t), None)
            if reached is not None:
                mails.append(
                    _Mail(
                        EmailKind.ALLOCATION_USAGE,
                        f"allocation-usage:{pk}:{code}:{reached}",
                        allocation,
                        {
                            **base,
                            "resource": ledger.resource,
                            "percent": reached,
                            "used": used,
                            "awarded": awarded,
                        },
                    )
                )
        quota = ledger.quota.today
        if active and quota is not None and quota.state == MonthState.LOW_PRIORITY:
            mails.append(
                _Mail(
                    EmailKind.ALLOCATION_LOWPRIO,
                    f"allocation-lowprio:{pk}:{code}:{quota.month:%Y-%m}",
                    allocation,
                    {**base, "resource": ledger.resource, "month": quota.month, "quota": quota},
                )
            )
    if active and today >= allocation.end - timedelta(days=EXPIRING_DAYS):
        mails.append(
            _Mail(
                EmailKind.ALLOCATION_EXPIRING,
                f"allocation-expiring:{pk}",
                allocation,
                {**base, "ledgers": ledgers},
            )
        )
    if not active:
        mails.append(
            _Mail(
                EmailKind.ALLOCATION_REPORT_DUE,
                f"allocation-report-due:{pk}",
                allocation,
                {**base, "due": report_due(allocation)},
            )
        )
    return mails


def _recipients(allocation: "LoadedAllocation") -> list[User]:
    """The PI, then the current members; each person once."""
    people = [allocation.pi] + [m.user for m in allocation.current_members]
    seen: set[int] = set()
    result = []
    for person in people:
        if person.pk not in seen and person.is_active:
            seen.add(person.pk)
            result.append(person)
    return result


def _queue(mails: list[_Mail]) -> tuple[int, list[str]]:
    """Queue the emails not yet in the outbox, in bulk (``outbox_queue_many``)."""
    created = outbox_queue_many(
        Outgoing(
            kind=mail.kind,
            event=mail.event,
            recipient=person.email,
            user=person,
            context={**mail.context, "person": person},
        )
        for mail in mails
        for person in _recipients(mail.allocation)
    )
    return len(created), [message.event for message in created]


def _write_forfeits(forfeits: list[_Forfeit]) -> int:
    """A ``forfeit`` entry of each month's forfeit whose source is not in the ledger yet."""
    wanted: dict[str, _Forfeit] = {}
    for f in forfeits:
        wanted[forfeit_source(f.allocation, f.resource.code, f.month.month)] = f
    if not wanted:
        return 0
    sources = list(wanted)
    sources += [forfeit_source(f.allocation, f.resource.code) for f in forfeits if f.last]
    existing: set[str] = set()
    for i in range(0, len(sources), CHUNK):
        existing.update(
            LedgerEntry.objects.filter(
                kind=LedgerKind.FORFEIT, source__in=sources[i : i + CHUNK]
            ).values_list("source", flat=True)
        )
    written = 0
    for source, f in wanted.items():
        done = {source, forfeit_source(f.allocation, f.resource.code)} if f.last else {source}
        if done & existing:
            continue
        allocation = f.allocation
        tz = allocation.proposal.call.tz
        last_day = min(allocation.end, _month_end(f.month.month))
        with transaction.atomic():
            # The allocation's row lock serialises two runs; then check the source again.
            Allocation.objects.select_for_update().filter(pk=allocation.pk).first()
            if LedgerEntry.objects.filter(source__in=done).exists():
                continue
            LedgerEntry.objects.create(
                allocation=allocation,
                resource=f.resource,
                kind=LedgerKind.FORFEIT,
                amount=-f.month.forfeited,
                reason=(
                    f"Unused at the end of the period ({allocation.end:%Y-%m-%d})"
                    if f.last
                    else f"Unused carry-over at the end of {f.month.month:%B %Y}"
                ),
                occurred_at=datetime.combine(last_day, time(23, 59, 59), tzinfo=tz),
                source=source,
            )
            written += 1
    return written


def _month_end(first: date) -> date:
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return following - timedelta(days=1)
