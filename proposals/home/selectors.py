"""What waits for a person (PRODUCT §9): the home page's sections, each item with its link.

Each part is one or a few queries whatever the number of items (``tests/proposals/
test_home.py`` counts them); ``allocations`` adds awards to accept and final reports due
through ``proposals.home.hooks``.
"""

import zoneinfo
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.formatting import format_instant, time_left_text
from accounts.models import User
from accounts.rules import is_call_manager
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call
from proposals.home.hooks import (
    ORDER_CONFLICTS,
    ORDER_DECISIONS,
    ORDER_DRAFTS,
    ORDER_INVITATIONS,
    ORDER_RANKINGS,
    ORDER_REVIEWS,
    WaitingItem,
    WaitingSection,
    waiting_sources,
)
from proposals.review.enums import BLOCKING_CONFLICTS, ConflictStatus, ReviewState
from proposals.review.models import Conflict, Review
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.selectors.lists import (
    missing_parts,
    pending_invitations,
    with_everything_checked,
)


def proposal_name(proposal: Proposal) -> str:
    """ "SPARSE-MOE: Scaling laws …", or the title alone, or "Untitled draft"."""
    title = proposal.title or _("Untitled draft")
    return f"{proposal.acronym}: {title}" if proposal.acronym else title


def due_text(due: datetime, now: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "due 1 Mar 2099, 17:00 CET · 12 days 4 hours left", or "overdue since …"."""
    when = format_instant(due, zone)
    if due <= now:
        return _("overdue since %(when)s") % {"when": when}
    return _("due %(when)s · %(left)s") % {"when": when, "left": time_left_text(due, now)}


def _reviews(user: User, now: datetime, zone: zoneinfo.ZoneInfo) -> list[WaitingSection]:
    """Invitations to review and accepted reviews still to submit, soonest due first, those
    in conflict left out. One query."""
    blocking = Conflict.objects.filter(
        proposal=OuterRef("proposal"), reviewer=user, status__in=BLOCKING_CONFLICTS
    )
    reviews = list(
        Review.objects.filter(reviewer=user, state__in=[ReviewState.INVITED, ReviewState.ACCEPTED])
        .exclude(Exists(blocking))
        .select_related("proposal__call")
        .order_by("due_at", "id")
    )
    invitations = WaitingSection("invitations", ORDER_INVITATIONS, _("Invitations to answer"))
    due = WaitingSection("reviews", ORDER_REVIEWS, _("Reviews due"))
    for review in reviews:
        proposal = review.proposal
        detail = f"{proposal.call.code} · {review.get_kind_display()} · "
        detail += due_text(review.due_at, now, zone)
        name = f"{proposal.reference or ''} {proposal_name(proposal)}".strip()
        url = reverse("review_detail", args=[review.pk])
        if review.state == ReviewState.INVITED:
            invitations.items.append(
                WaitingItem(
                    _("Review %(proposal)s") % {"proposal": name},
                    detail,
                    url,
                    _("Accept or decline"),
                )
            )
        else:
            edit = reverse("review_edit", args=[review.pk])
            due.items.append(WaitingItem(name, detail, edit, _("Write the review")))
    return [invitations, due]


def _team_invitations(user: User) -> list[WaitingItem]:
    """Invitations to join a proposal's team. Two queries."""
    return [
        WaitingItem(
            _("Join the team of %(proposal)s") % {"proposal": proposal_name(member.proposal)},
            _("%(call)s · invited by %(name)s")
            % {"call": member.proposal.call.code, "name": member.proposal.pi.display_name},
            reverse("invitation", args=[member.token]),
            _("Answer the invitation"),
        )
        for member in pending_invitations(user=user)
    ]


def _drafts(user: User, now: datetime, zone: zoneinfo.ZoneInfo) -> WaitingSection:
    """Drafts ``user`` leads or has joined whose call is still open, the nearest deadline
    first, each with what is missing. Five queries."""
    section = WaitingSection("drafts", ORDER_DRAFTS, _("Drafts before a deadline"))
    drafts = with_everything_checked(
        Proposal.objects.with_member(user).filter(
            status=ProposalStatus.DRAFT, call__closes_at__gt=now, call__opens_at__lte=now
        )
    ).order_by("call__closes_at", "id")
    for proposal in drafts:
        missing, more = missing_parts(proposal)
        if missing:
            what = ", ".join(missing)
            if more:
                what = ngettext(
                    "%(parts)s and %(count)d more", "%(parts)s and %(count)d more", more
                ) % {"parts": what, "count": more}
            state = _("missing: %(parts)s") % {"parts": what}
        else:
            state = _("complete, not yet submitted")
        deadline = _("closes %(when)s · %(left)s") % {
            "when": format_instant(proposal.call.closes_at, zone),
            "left": time_left_text(proposal.call.closes_at, now),
        }
        section.items.append(
            WaitingItem(
                proposal_name(proposal),
                f"{proposal.call.code} · {deadline} · {state}",
                reverse("proposal_detail", args=[proposal.pk]),
                _("Continue the draft"),
            )
        )
    return section


def _conflicts(user: User) -> WaitingSection:
    """For a call manager: detected conflicts to confirm or dismiss, per call. One query."""
    section = WaitingSection("conflicts", ORDER_CONFLICTS, _("Conflicts to decide"))
    rows = (
        Conflict.objects.filter(
            status=ConflictStatus.DETECTED, proposal__call__archived_at__isnull=True
        )
        .values("proposal__call_id", "proposal__call__code")
        .annotate(count=Count("id"))
        .order_by("proposal__call__code")
    )
    for row in rows:
        section.items.append(
            WaitingItem(
                row["proposal__call__code"],
                ngettext(
                    "%(count)d detected conflict to confirm or dismiss",
                    "%(count)d detected conflicts to confirm or dismiss",
                    row["count"],
                )
                % {"count": row["count"]},
                reverse("manage_conflicts", args=[row["proposal__call_id"]])
                + f"?status={ConflictStatus.DETECTED}",
                _("Decide the conflicts"),
            )
        )
    return section


def _decisions(user: User, zone: zoneinfo.ZoneInfo) -> WaitingSection:
    """For a call manager: calls with saved decisions not yet published. One query."""
    section = WaitingSection("decisions", ORDER_DECISIONS, _("Decisions to publish"))
    calls = (
        Call.objects.filter(decisions_published_at__isnull=True, archived_at__isnull=True)
        .annotate(decided=Count("proposals__decision"))
        .filter(decided__gt=0)
        .order_by("decisions_due_at", "code")
    )
    for call in calls:
        section.items.append(
            WaitingItem(
                call.code,
                ngettext(
                    "%(count)d decision saved · due %(when)s",
                    "%(count)d decisions saved · due %(when)s",
                    call.decided,
                )
                % {"count": call.decided, "when": format_instant(call.decisions_due_at, zone)},
                reverse("manage_decisions", args=[call.pk]),
                _("Review and publish"),
            )
        )
    return section


def ranking_calls(*, user: User, now: datetime) -> list[Call]:
    """The calls whose committee ``user`` sits on that are closed and not yet decided: the
    rankings to read. One query."""
    if not user.is_authenticated:
        return []
    return list(
        Call.objects.filter(
            Q(roles__user=user, roles__role=CallRoleKind.COMMITTEE),
            closes_at__lte=now,
            decisions_published_at__isnull=True,
            archived_at__isnull=True,
        )
        .distinct()
        .order_by("decisions_due_at", "code")
    )


def _rankings(user: User, now: datetime, zone: zoneinfo.ZoneInfo) -> WaitingSection:
    section = WaitingSection("rankings", ORDER_RANKINGS, _("Rankings to read"))
    for call in ranking_calls(user=user, now=now):
        section.items.append(
            WaitingItem(
                call.code,
                _("%(name)s · decisions due %(when)s")
                % {"name": call.name, "when": format_instant(call.decisions_due_at, zone)},
                reverse("call_ranking", args=[call.pk]),
                _("Read the ranking"),
            )
        )
    return section


def waiting_for(*, user: User, now: datetime, zone: zoneinfo.ZoneInfo) -> list[WaitingSection]:
    """Every non-empty section of what waits for ``user`` at ``now``, in the home page's
    order, dates in ``zone``. A constant number of queries: about ten for a call manager."""
    invitations, reviews = _reviews(user, now, zone)
    invitations.items.extend(_team_invitations(user))
    sections = [invitations, reviews, _drafts(user, now, zone), _rankings(user, now, zone)]
    if is_call_manager(user):
        sections += [_conflicts(user), _decisions(user, zone)]
    for source in waiting_sources:
        sections += source(user, now, zone)
    return sorted((s for s in sections if s.items), key=lambda s: s.order)
