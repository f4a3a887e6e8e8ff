"""The periodic reminder jobs of PRODUCT §7, run by Celery beat (``proposals.tasks``).

Each job takes ``now`` (tests, catch-up) and returns how many messages it queued (new outbox
rows). Every email is queued once per event and person (the outbox's rule), so a second run,
or two runs at once, queue nothing more. Times in the emails are in the call's time zone.

* ``deadline_reminders``: for each draft in an open call (not archived) whose deadline is
  at most 7 days away, the PI and every co-investigator who accepted get ``deadline-reminder``:
  event ``deadline-reminder:<proposal>:<deadline>:7d`` while 1 day < time left <= 7 days, and
  ``deadline-reminder:<proposal>:<deadline>:1d`` while 0 < time left <= 1 day. Only the most
  urgent one: a job that was down during the 7-day window sends the 1-day email alone.
  ``<deadline>`` is the deadline as Unix seconds: a deadline extended later reminds again.
* ``review_reminders``: for each review still invited or accepted (not submitted, declined or
  removed) of a proposal in competition, in a call neither archived nor decided, its reviewer
  gets ``review-reminder`` while 0 < time to the due date <= 3 days (event
  ``review-reminder:<review>:<due>``) and ``review-overdue`` once it is due (event
  ``review-overdue:<review>:<due>``), only the more urgent of the two. ``<due>`` is the due
  date as Unix seconds, so a due date moved later gives a fresh reminder.
* ``reply_closing_reminders``: while a call's right of reply is open and closes within 2 days
  (0 < time left <= 2 days), the PI of each proposal in competition without a reply gets
  ``reply-closing`` (event ``reply-closing:<proposal>``).
* ``call_status_changes``: a call that has opened (``opens_at`` passed, not archived) and was
  not yet announced is announced once: while it is open, ``call-opened`` (event
  ``call-opened:<call>``) to every active user whose sign-in address is verified and who asked
  for it (``User.notify_new_calls``); a call first seen already closed is marked without emails.
  Either way ``Call.opened_announced_at`` is set, under the call's row lock.

Emails go to active accounts only. Queries: a fixed number per job whatever the number of
proposals, reviews or people (the rows with their joins, the team prefetched, the outbox events
already there), two per 2,000 new emails (``outbox_queue_many``), and for
``call_status_changes`` a lock and an update per call announced.
"""

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from accounts.formatting import format_instant
from accounts.models import User
from notifications.enums import EmailKind
from notifications.services import Outgoing, outbox_queue_many
from proposals.calls.enums import CallStatus
from proposals.calls.models import Call
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from proposals.review.selectors.reply import ReplyWindow, reply_window
from proposals.submission.enums import IN_COMPETITION, ProposalStatus, TeamStatus
from proposals.submission.models import Proposal, TeamMember
from proposals.submission.services.lifecycle import call_local

log = logging.getLogger(__name__)

DEADLINE_WINDOWS = ((timedelta(days=1), "1d", 1), (timedelta(days=7), "7d", 7))  # most urgent first
REVIEW_REMINDER_BEFORE = timedelta(days=3)
REPLY_CLOSING_BEFORE = timedelta(days=2)
PENDING_REVIEW_STATES = (ReviewState.INVITED, ReviewState.ACCEPTED)


def _mail(kind: EmailKind, event: str, person: User, context: dict) -> Outgoing:
    return Outgoing(
        kind=kind,
        event=event,
        recipient=person.email,
        user=person,
        context={**context, "person": person},
    )


def _queue(mails: list[Outgoing]) -> int:
    """Queue the emails not yet in the outbox, in bulk; returns how many were new."""
    return len(outbox_queue_many(mail for mail in mails if mail.recipient.strip()))


def _label(proposal: Proposal) -> str:
    """How an email names a proposal: its title, else its reference or acronym."""
    return proposal.title or str(proposal)


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _WithTeam(TypedDict):
        """What ``deadline_reminders`` prefetches onto each draft (``to_attr``)."""

        accepted_team: list[TeamMember]

    ProposalWithTeam = WithAnnotations[Proposal, _WithTeam]


def _team(proposal: "ProposalWithTeam") -> list[User]:
    """The PI first, then every co-investigator who accepted (as for the submission receipt),
    each once; deactivated accounts are left out. Needs ``accepted_team`` prefetched."""
    people = {proposal.pi_id: proposal.pi}
    for member in proposal.accepted_team:
        assert member.user is not None  # team_accepted_has_user: accepted means a user
        people.setdefault(member.user.pk, member.user)
    return [person for person in people.values() if person.is_active]


def _due_key(value: datetime) -> int:
    return int(value.timestamp())


# --- The jobs -------------------------------------------------------------------------------


def deadline_reminders(now: datetime | None = None) -> int:
    """Remind the team of every draft that the call closes in 7 days, then in 1 day (see the
    module). Side effects: ``deadline-reminder`` emails. Returns the number queued."""
    now = now or timezone.now()
    drafts = (
        Proposal.objects.filter(
            status=ProposalStatus.DRAFT,
            call__archived_at__isnull=True,
            call__decisions_published_at__isnull=True,
            call__opens_at__lte=now,
            call__closes_at__gt=now,
            call__closes_at__lte=now + DEADLINE_WINDOWS[-1][0],
        )
        .select_related("call", "pi")
        .prefetch_related(
            Prefetch(
                "team",
                queryset=TeamMember.objects.filter(status=TeamStatus.ACCEPTED)
                .select_related("user")
                .order_by("invited_at", "id"),
                to_attr="accepted_team",
            )
        )
        .order_by("call_id", "pk")
    )
    mails: list[Outgoing] = []
    for proposal in drafts:
        call = proposal.call
        left = call.closes_at - now
        window = next((w for w in DEADLINE_WINDOWS if left <= w[0]), None)
        if window is None:  # pragma: no cover - the query selects within the widest window
            continue
        _, suffix, days = window
        event = f"deadline-reminder:{proposal.pk}:{_due_key(call.closes_at)}"
        context = {
            "proposal": proposal,
            "call": call,
            "label": _label(proposal),
            "days": days,
            "closes_local": call_local(call.closes_at, call),
            "closes_short": format_instant(call.closes_at, call.tz),
        }
        mails.extend(
            _mail(EmailKind.DEADLINE_REMINDER, f"{event}:{suffix}", person, context)
            for person in _team(proposal)
        )
    return _logged("deadline reminders", _queue(mails))


def review_reminders(now: datetime | None = None) -> int:
    """Remind reviewers 3 days before a review is due, and once it is overdue (see the module).
    Side effects: ``review-reminder`` and ``review-overdue`` emails. Returns the number queued."""
    now = now or timezone.now()
    reviews = (
        Review.objects.filter(
            state__in=PENDING_REVIEW_STATES,
            due_at__lte=now + REVIEW_REMINDER_BEFORE,
            reviewer__is_active=True,
            proposal__status__in=IN_COMPETITION,
            proposal__call__archived_at__isnull=True,
            proposal__call__decisions_published_at__isnull=True,
        )
        .select_related("reviewer", "proposal__call")
        .order_by("due_at", "pk")
    )
    mails = []
    for review in reviews:
        proposal, call = review.proposal, review.proposal.call
        kind = EmailKind.REVIEW_OVERDUE if review.due_at <= now else EmailKind.REVIEW_REMINDER
        context = {
            "review": review,
            "proposal": proposal,
            "call": call,
            "reviewer": review.reviewer,
            "due_local": call_local(review.due_at, call),
            "due_short": format_instant(review.due_at, call.tz),
        }
        mails.append(
            _mail(kind, f"{kind}:{review.pk}:{_due_key(review.due_at)}", review.reviewer, context)
        )
    return _logged("review reminders", _queue(mails))


def reply_closing_reminders(now: datetime | None = None) -> int:
    """Remind each PI who has not replied that the right of reply closes within 2 days (see the
    module). Side effects: ``reply-closing`` emails. Returns the number queued."""
    now = now or timezone.now()
    proposals = (
        Proposal.objects.filter(
            status__in=IN_COMPETITION,
            reply__isnull=True,
            pi__is_active=True,
            call__archived_at__isnull=True,
            call__right_of_reply=True,
            call__reply_opened_at__lte=now,
            call__reply_closes_at__gt=now,
            call__reply_closes_at__lte=now + REPLY_CLOSING_BEFORE,
        )
        .select_related("call", "pi")
        .order_by("call_id", "reference_number", "pk")
    )
    mails = []
    for proposal in proposals:
        call = proposal.call
        if reply_window(call, now) != ReplyWindow.OPEN:  # pragma: no cover - as the query
            continue
        assert call.reply_closes_at is not None  # the query asks for one
        context = {
            "proposal": proposal,
            "call": call,
            "closes_local": call_local(call.reply_closes_at, call),
            "closes_short": format_instant(call.reply_closes_at, call.tz),
            "limit": call.reply_length_limit,
        }
        mails.append(
            _mail(EmailKind.REPLY_CLOSING, f"reply-closing:{proposal.pk}", proposal.pi, context)
        )
    return _logged("reply closing reminders", _queue(mails))


def call_subscribers() -> list[User]:
    """Active people who asked to hear of new calls, whose sign-in address is verified."""
    verified = EmailAddress.objects.filter(
        user=OuterRef("pk"), email__iexact=OuterRef("email"), verified=True
    )
    return list(
        User.objects.filter(is_active=True, notify_new_calls=True)
        .filter(Exists(verified))
        .order_by("email", "pk")
    )


def call_status_changes(now: datetime | None = None) -> int:
    """Announce each call that has opened, once (see the module).

    Side effects per call: ``opened_announced_at`` = now, under the call's row lock and in the
    same transaction as its ``call-opened`` emails (none when the call is already closed).
    Returns the number of emails queued.
    """
    now = now or timezone.now()
    pending = list(
        Call.objects.filter(
            archived_at__isnull=True, opened_announced_at__isnull=True, opens_at__lte=now
        )
        .order_by("opens_at", "pk")
        .values_list("pk", flat=True)
    )
    if not pending:
        return 0
    subscribers: list[User] | None = None
    queued = 0
    for pk in pending:
        with transaction.atomic():
            call = (
                Call.objects.select_for_update()
                .filter(pk=pk, archived_at__isnull=True, opened_announced_at__isnull=True)
                .first()
            )
            if call is None:  # announced by a concurrent run, or archived since
                continue
            status = call.status_at(now)
            if status == CallStatus.UPCOMING:  # its opening was moved later since
                continue
            if status == CallStatus.OPEN:
                if subscribers is None:
                    subscribers = call_subscribers()
                context = {
                    "call": call,
                    "opens_local": call_local(call.opens_at, call),
                    "closes_local": call_local(call.closes_at, call),
                    "closes_short": format_instant(call.closes_at, call.tz),
                }
                queued += _queue(
                    [
                        _mail(EmailKind.CALL_OPENED, f"call-opened:{call.pk}", person, context)
                        for person in subscribers
                    ]
                )
            Call.objects.filter(pk=call.pk).update(opened_announced_at=now)
    return _logged("call opened announcements", queued)


def _logged(job: str, queued: int) -> int:
    if queued:
        log.info(job, extra={"ctx_queued": queued})
    return queued
