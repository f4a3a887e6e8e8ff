"""What waits in ``allocations`` for a person's home page (PRODUCT §9): awards to accept and
final reports due for a PI, requests for more to decide for a call manager. Registered with
``proposals.home.hooks`` (``allocations.apps``); four queries at most, whatever the number.
"""

import zoneinfo
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import dateformat
from django.utils.translation import gettext as _

from accounts.formatting import amount, format_instant
from accounts.models import User
from accounts.rules import is_call_manager
from allocations.models import Allocation
from allocations.selectors.researcher import local_today, pending_requests, report_status
from proposals.decisions.enums import AWARDING, AwardResponse
from proposals.decisions.models import AwardLine, Decision
from proposals.home.hooks import (
    ORDER_AWARDS,
    ORDER_REPORTS,
    ORDER_REQUESTS,
    WaitingItem,
    WaitingSection,
)
from proposals.home.selectors import proposal_name


def _awards(user: User) -> WaitingSection:
    """Published awards of proposals ``user`` leads, not yet accepted or declined. Two
    queries."""
    section = WaitingSection("awards", ORDER_AWARDS, _("Awards to accept"))
    decisions = (
        Decision.objects.filter(
            proposal__pi=user,
            published_at__isnull=False,
            outcome__in=AWARDING,
            response=AwardResponse.PENDING,
        )
        .select_related("proposal__call")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=AwardLine.objects.select_related("call_resource__resource").order_by(
                    "call_resource__resource__name"
                ),
            )
        )
        .order_by("published_at", "pk")
    )
    for decision in decisions:
        proposal = decision.proposal
        awarded = "; ".join(
            f"{amount(line.amount)} {line.call_resource.resource.unit} "
            f"({line.call_resource.resource.name})"
            for line in decision.lines.all()
        )
        section.items.append(
            WaitingItem(
                proposal_name(proposal),
                f"{proposal.call.code} · {proposal.reference} · "
                + _("awarded %(amounts)s") % {"amounts": awarded},
                reverse("decision_detail", args=[proposal.pk]),
                _("Accept or decline the award"),
            )
        )
    return section


def _reports(user: User, now: datetime) -> WaitingSection:
    """Final reports due or overdue of allocations ``user`` leads. One query."""
    section = WaitingSection("reports", ORDER_REPORTS, _("Final reports due"))
    # The period's end is a date in the call's zone; a day's margin, then the exact state.
    allocations = (
        Allocation.objects.filter(
            pi=user, final_report__isnull=True, end__lte=(now + timedelta(days=1)).date()
        )
        .select_related("proposal__call")
        .order_by("end", "account")
    )
    for allocation in allocations:
        status = report_status(allocation, None, local_today(allocation, now))
        if not status.can_upload_now:
            continue
        section.items.append(
            WaitingItem(
                f"{allocation.account} · {proposal_name(allocation.proposal)}",
                f"{status.label}: "
                + _("due %(day)s") % {"day": dateformat.format(status.due, "j M Y")},
                reverse("allocation_report", args=[allocation.pk]),
                _("Upload the final report"),
            )
        )
    return section


def _requests(zone: zoneinfo.ZoneInfo) -> WaitingSection:
    """For a call manager: requests for more waiting for a decision. One query."""
    section = WaitingSection("requests", ORDER_REQUESTS, _("Requests to decide"))
    for request in pending_requests():
        section.items.append(
            WaitingItem(
                f"{request.allocation.account} · {request.get_kind_display()}",
                _("asked by %(name)s on %(when)s")
                % {
                    "name": request.requested_by.display_name if request.requested_by else "—",
                    "when": format_instant(request.requested_at, zone),
                },
                reverse("manage_allocation", args=[request.allocation_id]) + "#requests-heading",
                _("Decide the request"),
            )
        )
    return section


def waiting_in_allocations(
    user: User, now: datetime, zone: zoneinfo.ZoneInfo
) -> list[WaitingSection]:
    sections = [_awards(user), _reports(user, now)]
    if is_call_manager(user):
        sections.append(_requests(zone))
    return sections
