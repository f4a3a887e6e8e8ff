"""The audit trail as people read it (PRODUCT §9): who, when, what, about whom, before → after,
filtered in the query and read a page at a time, or whole as CSV.

In ``allocations`` because it names the subjects of every app: proposals and allocations link
to their pages. Every name is the one kept when the entry was written (``AuditEntry``), so
the trail reads the same after a role is removed; older entries fall back to today's names.
"""

import json
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.formatting import format_instant
from accounts.models import User
from allocations.models import Allocation
from allocations.selectors.audit_words import key_label, value_text
from proposals.calls.enums import AuditAction
from proposals.calls.models import AuditEntry, Call
from proposals.submission.models import Proposal

AUDIT_PAGE_SIZE = 50
ACTION_LABELS = dict(AuditAction.choices)


@dataclass(frozen=True)
class AuditFilters:
    """What the trail is narrowed to; None: no narrowing. Dates are days in ``zone``, both
    included."""

    call: Call | None = None
    action: str = ""
    person: User | None = None
    since: date | None = None
    until: date | None = None
    zone: zoneinfo.ZoneInfo = zoneinfo.ZoneInfo("UTC")


def audit_entries(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The entries ``filters`` let through, newest first, with their actor and call."""
    entries = AuditEntry.objects.select_related("actor", "person", "call")
    if filters.call is not None:
        entries = entries.filter(call=filters.call)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.person is not None:
        entries = entries.filter(Q(actor=filters.person) | Q(person=filters.person))
    if filters.since is not None:
        entries = entries.filter(created_at__gte=_start_of(filters.since, filters.zone))
    if filters.until is not None:
        entries = entries.filter(
            created_at__lt=_start_of(filters.until + timedelta(days=1), filters.zone)
        )
    return entries.order_by("-created_at", "-id")


def _start_of(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True)
class Change:
    key: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    """An audit entry with names for its actor, person and subject, its time in the reader's
    zone, and its before → after per key."""

    entry: AuditEntry
    subject: str
    subject_url: str = ""
    zone: zoneinfo.ZoneInfo = zoneinfo.ZoneInfo("UTC")

    @property
    def when(self) -> str:
        return format_instant(self.entry.created_at, self.zone)

    @property
    def actor(self) -> str:
        entry = self.entry
        if entry.actor_name:
            return entry.actor_name
        return entry.actor.display_name if entry.actor is not None else _("The system")

    @property
    def person(self) -> str:
        entry = self.entry
        if entry.person_name:
            return entry.person_name
        return entry.person.display_name if entry.person is not None else ""

    @property
    def action(self) -> str:
        return str(ACTION_LABELS.get(self.entry.action, self.entry.action))

    @property
    def call(self) -> str:
        return self.entry.call.code if self.entry.call is not None else ""

    @property
    def changes(self) -> list[Change]:
        before, after = self.entry.before or {}, self.entry.after or {}
        keys = sorted(set(before) | set(after))  # PostgreSQL's jsonb does not keep the order
        return [
            Change(key_label(k), value_text(_text(before.get(k))), value_text(_text(after.get(k))))
            for k in keys
        ]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def manage_url(pk: int) -> str:
    return reverse("manage_allocation", args=[pk])


def _links(entries: list[AuditEntry]) -> dict[tuple[str, int], tuple[str, str]]:
    """A name and a link for the proposals and allocations among ``entries``: one query each,
    whatever their number."""
    ids: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        ids[entry.subject_type].add(entry.subject_id)
    names: dict[tuple[str, int], tuple[str, str]] = {}
    if ids.get("proposal"):
        for pk, reference, acronym in Proposal.objects.filter(pk__in=ids["proposal"]).values_list(
            "pk", "reference", "acronym"
        ):
            names["proposal", pk] = (
                reference or acronym or f"#{pk}",
                reverse("proposal_detail", args=[pk]),
            )
    if ids.get("allocation"):
        for pk, account in Allocation.objects.filter(pk__in=ids["allocation"]).values_list(
            "pk", "account"
        ):
            names["allocation", pk] = (account, manage_url(pk))
    return names


def audit_rows(entries: Iterable[AuditEntry], zone: zoneinfo.ZoneInfo) -> list[AuditRow]:
    """``entries`` as rows people read, with links to proposals, allocations and calls."""
    listed = list(entries)
    links = _links(listed)
    rows = []
    for entry in listed:
        name, url = links.get((entry.subject_type, entry.subject_id), ("", ""))
        if entry.subject_type == "call" and not url:
            url = reverse("manage_call_edit", args=[entry.subject_id])
        name = entry.subject_name or name or f"{entry.subject_type} #{entry.subject_id}"
        rows.append(AuditRow(entry, name, url, zone))
    return rows


def audit_page(filters: AuditFilters, page: str | int | None) -> tuple[Page, list[AuditRow]]:
    """One page of the trail, newest first: four queries at most (the count, the entries
    with their people and calls, the proposals' and the allocations' names)."""
    page_obj = Paginator(audit_entries(filters), AUDIT_PAGE_SIZE).get_page(page)
    return page_obj, audit_rows(page_obj.object_list, filters.zone)


def audit_all_rows(filters: AuditFilters, *, chunk: int = 2000) -> Iterator[AuditRow]:
    """Every row ``filters`` let through, read ``chunk`` at a time (for the CSV)."""
    entries = audit_entries(filters)
    batch: list[AuditEntry] = []
    for entry in entries.iterator(chunk_size=chunk):
        batch.append(entry)
        if len(batch) == chunk:
            yield from audit_rows(batch, filters.zone)
            batch = []
    yield from audit_rows(batch, filters.zone)


def allocation_audit(*, allocation: Allocation, zone: zoneinfo.ZoneInfo) -> list[AuditRow]:
    """The audit entries about ``allocation``, newest first."""
    entries = AuditEntry.objects.filter(
        subject_type=Allocation._meta.model_name, subject_id=allocation.pk
    ).select_related("actor", "person", "call")
    return [
        AuditRow(e, e.subject_name or allocation.account, manage_url(allocation.pk), zone)
        for e in entries
    ]
