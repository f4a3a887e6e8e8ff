"""The periodic reminder jobs of PRODUCT §7: deadline, review, right-of-reply closing, call
opened. Each queues one email per event and person, so a second run queues nothing."""

from datetime import datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from proposals import tasks
from proposals.calls.models import Call
from proposals.calls.services import call_archive
from proposals.review.enums import ReviewKind
from proposals.review.models import Reply, Review
from proposals.review.services.assignment import review_remove
from proposals.review.services.reminders import (
    call_status_changes,
    deadline_reminders,
    reply_closing_reminders,
    review_reminders,
)
from proposals.review.services.reply import reply_submit, reply_window_open
from proposals.review.services.reviewing import review_decline
from proposals.submission.enums import TeamStatus
from proposals.submission.services.lifecycle import proposal_unsubmit, proposal_withdraw
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import (
    BERLIN,
    DEADLINE,
    add_member,
    make_call_closing,
    make_proposal,
)
from tests.proposals.reviewing_factories import DUE, accepted, assign
from tests.proposals.test_ranking import in_review, scientific, submitted_proposal

pytestmark = pytest.mark.django_db

# DEADLINE is 15 Jan 2099, 17:00 in Berlin; DUE is 1 Mar 2099, 17:00 in Berlin.
DEADLINE_SHORT = "15 Jan 2099, 17:00 CET"
DEADLINE_LOCAL = "15 Jan 2099, 17:00 CET (Europe/Berlin)"
STAMP = int(DEADLINE.timestamp())  # the deadline in the reminders' event keys
DUE_SHORT = "1 Mar 2099, 17:00 CET"
DUE_LOCAL = "1 Mar 2099, 17:00 CET (Europe/Berlin)"
REPLY_CLOSES = datetime(2099, 6, 1, 17, 0, tzinfo=BERLIN)
REPLY_SHORT = "1 Jun 2099, 17:00 CEST"
MINUTE = timedelta(minutes=1)


def outbox(kind: str) -> list[tuple[str, str, str]]:
    """The queued messages of ``kind`` as sorted (event, recipient, subject)."""
    return sorted(
        OutboxMessage.objects.filter(kind=kind).values_list("event", "recipient", "subject")
    )


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def queries_besides_outbox_writes(job, now: datetime) -> tuple[int, int]:
    """(queries of a first run that are not the outbox's per-message lookup and insert,
    queries of a second run, which writes nothing)."""
    with CaptureQueriesContext(connection) as first:
        queued = job(now)
    assert queued > 0
    with CaptureQueriesContext(connection) as second:
        assert job(now) == 0
    own = [
        query["sql"]
        for query in first.captured_queries
        if "SAVEPOINT" not in query["sql"]
        and not (
            "notifications_outboxmessage" in query["sql"]
            and ("INSERT" in query["sql"] or "LIMIT 1" in query["sql"])
        )
    ]
    return len(own), len(second.captured_queries)


# --- Deadline in 7 days and in 1 day --------------------------------------------------------


@pytest.fixture
def call(db):
    return make_call_closing()  # open now, closes on DEADLINE


@pytest.fixture
def draft(call, pi, coi):
    """A draft led by the PI with an accepted co-investigator and one who has not answered."""
    proposal = make_proposal(call, pi, title="Sparse experts at scale", acronym="SPARSE")
    add_member(proposal, coi)
    add_member(proposal, make_user("invited@lab.example"), status=TeamStatus.INVITED)
    return proposal


@pytest.fixture
def others(call, outsider):
    """A submitted proposal and a withdrawn one, to the same call: neither is reminded."""
    submitted = submitted_proposal(call, make_user("done@uni.example"), "DONE")
    withdrawn = make_proposal(call, outsider, title="Given up")
    proposal_withdraw(proposal=withdrawn, by=outsider)
    return submitted, withdrawn


def reminder_subject(final: bool = False) -> str:
    word = "Final reminder" if final else "Reminder"
    return (
        f"[Allot] {word}: your proposal “Sparse experts at scale” is not submitted — "
        f"the call closes on {DEADLINE_SHORT}"
    )


def test_seven_days_before_the_deadline_the_team_of_each_draft_is_reminded(
    draft, others, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_reminders(DEADLINE - timedelta(days=7)) == 2

    event = f"deadline-reminder:{draft.pk}:{STAMP}:7d"
    assert outbox("deadline-reminder") == [
        (event, "coi@lab.example", reminder_subject()),
        (event, "pi@uni.example", reminder_subject()),
    ]
    assert sorted(m.to[0] for m in mailoutbox) == ["coi@lab.example", "pi@uni.example"]
    link = f"{settings.SITE_URL}{reverse('proposal_detail', args=[draft.pk])}"
    to_pi = next(m for m in mailoutbox if m.to == ["pi@uni.example"])
    assert "Hello Paula Investigator," in to_pi.body
    assert "The call JUPITER 2027-1 closes within the next 7 days." in to_pi.body
    assert f"Deadline: {DEADLINE_LOCAL}" in to_pi.body
    assert "Submit it from the proposal's overview" in to_pi.body
    assert "Everything saved so far is kept." in to_pi.body
    assert f"The proposal: {link}" in to_pi.body
    assert f'href="{link}"' in to_pi.alternatives[0][0]
    to_coi = next(m for m in mailoutbox if m.to == ["coi@lab.example"])
    assert "Only the principal investigator, Paula Investigator, can submit it." in to_coi.body


def test_nothing_more_than_seven_days_before(draft):
    assert deadline_reminders(DEADLINE - timedelta(days=7) - MINUTE) == 0
    assert outbox("deadline-reminder") == []


def test_a_second_run_queues_nothing(draft):
    now = DEADLINE - timedelta(days=3)
    assert deadline_reminders(now) == 2
    assert deadline_reminders(now) == 0
    assert deadline_reminders(now + timedelta(hours=1)) == 0
    assert OutboxMessage.objects.filter(kind="deadline-reminder").count() == 2


def test_within_one_day_the_final_reminder_follows_the_seven_day_one(draft, others):
    assert deadline_reminders(DEADLINE - timedelta(days=6)) == 2
    assert deadline_reminders(DEADLINE - timedelta(days=1) - MINUTE) == 0
    assert deadline_reminders(DEADLINE - timedelta(days=1)) == 2
    assert deadline_reminders(DEADLINE - MINUTE) == 0

    seven, one = (
        f"deadline-reminder:{draft.pk}:{STAMP}:7d",
        f"deadline-reminder:{draft.pk}:{STAMP}:1d",
    )
    assert outbox("deadline-reminder") == [
        (one, "coi@lab.example", reminder_subject(final=True)),
        (one, "pi@uni.example", reminder_subject(final=True)),
        (seven, "coi@lab.example", reminder_subject()),
        (seven, "pi@uni.example", reminder_subject()),
    ]
    body = OutboxMessage.objects.get(event=one, recipient="pi@uni.example").body_text
    assert "The call JUPITER 2027-1 closes within the next 24 hours." in body


def test_a_job_that_was_down_sends_only_the_most_urgent_reminder(draft):
    assert deadline_reminders(DEADLINE - timedelta(hours=12)) == 2
    assert {event for event, _, _ in outbox("deadline-reminder")} == {
        f"deadline-reminder:{draft.pk}:{STAMP}:1d"
    }
    assert deadline_reminders(DEADLINE - timedelta(hours=11)) == 0


def test_a_proposal_taken_back_to_draft_is_reminded(call, draft, others):
    back = submitted_proposal(call, make_user("back@uni.example"), "BACK", title="Second go")
    proposal_unsubmit(proposal=back, by=back.pi)
    assert deadline_reminders(DEADLINE - timedelta(days=2)) == 3
    assert sorted(
        (event, recipient) for event, recipient, _ in outbox("deadline-reminder")
    ) == sorted(
        [
            (f"deadline-reminder:{back.pk}:{STAMP}:7d", "back@uni.example"),
            (f"deadline-reminder:{draft.pk}:{STAMP}:7d", "coi@lab.example"),
            (f"deadline-reminder:{draft.pk}:{STAMP}:7d", "pi@uni.example"),
        ]
    )


def test_an_extended_deadline_reminds_again_before_the_new_one(call, draft):
    assert deadline_reminders(DEADLINE - timedelta(hours=12)) == 2
    later = DEADLINE + timedelta(days=14)
    Call.objects.filter(pk=call.pk).update(closes_at=later)

    assert deadline_reminders(DEADLINE - timedelta(hours=11)) == 0  # 14.5 days left
    assert deadline_reminders(later - timedelta(days=6)) == 2
    assert deadline_reminders(later - timedelta(hours=2)) == 2
    stamp = int(later.timestamp())
    assert sorted({event for event, _, _ in outbox("deadline-reminder")}) == [
        f"deadline-reminder:{draft.pk}:{STAMP}:1d",
        f"deadline-reminder:{draft.pk}:{stamp}:1d",
        f"deadline-reminder:{draft.pk}:{stamp}:7d",
    ]


def test_no_reminder_once_the_call_has_closed(draft):
    assert deadline_reminders(DEADLINE) == 0
    assert deadline_reminders(DEADLINE + timedelta(hours=1)) == 0


def test_no_reminder_for_an_archived_call(call, draft, manager):
    call_archive(call=call, by=manager)
    assert deadline_reminders(DEADLINE - timedelta(hours=2)) == 0
    assert deadline_reminders(DEADLINE - timedelta(days=5)) == 0


def test_a_deactivated_co_investigator_gets_nothing(draft, coi):
    coi.is_active = False
    coi.save(update_fields=["is_active"])
    assert deadline_reminders(DEADLINE - timedelta(days=5)) == 1
    assert [recipient for _, recipient, _ in outbox("deadline-reminder")] == ["pi@uni.example"]


def test_deadline_queries_do_not_grow_with_drafts(call):
    def add_drafts(count: int, start: int) -> None:
        for n in range(start, start + count):
            proposal = make_proposal(call, make_user(f"pi{n}@uni.example"), title=f"Draft {n}")
            add_member(proposal, make_user(f"coi{n}@lab.example"))

    add_drafts(2, 0)
    two = queries_besides_outbox_writes(deadline_reminders, DEADLINE - timedelta(days=5))
    add_drafts(4, 2)
    six = queries_besides_outbox_writes(deadline_reminders, DEADLINE - timedelta(hours=5))
    assert six == two


# --- Reviews due in 3 days, and overdue -----------------------------------------------------


@pytest.fixture
def in_competition(call, pi):
    return submitted_proposal(call, pi, "SPARSE", title="Sparse experts at scale")


@pytest.fixture
def reviews(in_competition, reviewer, manager):
    """An invited review, an accepted one, a declined, a removed and a submitted one."""
    invited = assign(in_competition, reviewer)
    accepted_review = accepted(in_competition, make_user("acc@review.example"), due_at=DUE)
    declined = assign(in_competition, make_user("dec@review.example"))
    review_decline(review=declined, by=declined.reviewer, reason="No time this spring.")
    removed = assign(in_competition, make_user("rem@review.example"))
    review_remove(review=removed, by=manager)
    done = scientific(in_competition, make_user("done@review.example"), 4, 4)
    Review.objects.filter(pk=done.pk).update(due_at=DUE)
    return {"invited": invited, "accepted": accepted_review}


def test_three_days_before_the_due_date_each_pending_reviewer_is_reminded(
    reviews, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders(DUE - timedelta(days=3)) == 2

    invited, accepted_review = reviews["invited"], reviews["accepted"]
    assert outbox("review-reminder") == sorted(
        [
            (
                f"review-reminder:{accepted_review.pk}:{epoch(DUE)}",
                "acc@review.example",
                f"[Allot] Reminder: your review of JUP27-1-0001 SPARSE is due on {DUE_SHORT}",
            ),
            (
                f"review-reminder:{invited.pk}:{epoch(DUE)}",
                "reviewer@inst.example",
                "[Allot] Reminder: please answer the review request for JUP27-1-0001 SPARSE — "
                f"the review is due on {DUE_SHORT}",
            ),
        ]
    )
    mail = next(m for m in mailoutbox if m.to == ["reviewer@inst.example"])
    link = f"{settings.SITE_URL}{reverse('review_detail', args=[invited.pk])}"
    assert "Hello Rita Reviewer," in mail.body
    assert f"The review is due on {DUE_LOCAL}." in mail.body
    assert "Please accept it" in mail.body
    assert link in mail.body
    assert f'href="{link}"' in mail.alternatives[0][0]
    assert outbox("review-overdue") == []


def test_no_review_reminder_more_than_three_days_before(reviews):
    assert review_reminders(DUE - timedelta(days=3) - MINUTE) == 0


def test_an_overdue_review_gets_the_overdue_email_only(reviews):
    assert review_reminders(DUE + MINUTE) == 2
    accepted_review = reviews["accepted"]
    assert outbox("review-reminder") == []
    assert (
        f"review-overdue:{accepted_review.pk}:{epoch(DUE)}",
        "acc@review.example",
        f"[Allot] Overdue: your review of JUP27-1-0001 SPARSE was due on {DUE_SHORT} — "
        "please submit it now",
    ) in outbox("review-overdue")
    assert {recipient for _, recipient, _ in outbox("review-overdue")} == {
        "acc@review.example",
        "reviewer@inst.example",
    }
    body = OutboxMessage.objects.get(kind="review-overdue", recipient="acc@review.example")
    assert "A late review is still accepted" in body.body_text
    assert review_reminders(DUE + timedelta(days=2)) == 0


def test_reminder_then_overdue_then_nothing_more(reviews):
    assert review_reminders(DUE - timedelta(days=2)) == 2
    assert review_reminders(DUE - timedelta(days=1)) == 0
    assert review_reminders(DUE) == 2  # due now: overdue
    assert review_reminders(DUE + timedelta(hours=5)) == 0
    assert OutboxMessage.objects.filter(kind="review-reminder").count() == 2
    assert OutboxMessage.objects.filter(kind="review-overdue").count() == 2


def test_a_due_date_moved_later_gives_a_fresh_reminder(reviews):
    accepted_review = reviews["accepted"]
    assert review_reminders(DUE - timedelta(days=1)) == 2
    later = DUE + timedelta(days=14)
    Review.objects.filter(pk=accepted_review.pk).update(due_at=later)
    assert review_reminders(DUE + MINUTE) == 1  # the invited one is overdue now; this is not
    assert review_reminders(later - timedelta(days=2)) == 1
    assert sorted(
        OutboxMessage.objects.filter(recipient="acc@review.example").values_list("event", flat=True)
    ) == [
        f"review-reminder:{accepted_review.pk}:{epoch(DUE)}",
        f"review-reminder:{accepted_review.pk}:{epoch(later)}",
    ]


def test_declined_removed_and_submitted_reviews_get_nothing(in_competition, manager):
    declined = assign(in_competition, make_user("dec@review.example"))
    review_decline(review=declined, by=declined.reviewer, reason="No time.")
    removed = assign(in_competition, make_user("rem@review.example"))
    review_remove(review=removed, by=manager)
    done = scientific(in_competition, make_user("done@review.example"), 4, 4)
    Review.objects.filter(pk=done.pk).update(due_at=DUE)
    assert review_reminders(DUE - timedelta(days=1)) == 0
    assert review_reminders(DUE + MINUTE) == 0


def test_a_withdrawn_proposal_needs_no_review(reviews, in_competition, pi):
    proposal_withdraw(proposal=in_competition, by=pi)
    assert review_reminders(DUE - timedelta(days=1)) == 0
    assert review_reminders(DUE + MINUTE) == 0


def test_no_review_reminder_in_an_archived_call(call, reviews, manager):
    call_archive(call=call, by=manager)
    assert review_reminders(DUE - timedelta(days=1)) == 0


def test_a_technical_review_says_so(in_competition):
    review = assign(in_competition, make_user("tess@centre.example"), kind=ReviewKind.TECHNICAL)
    assert review_reminders(DUE - timedelta(days=1)) == 1
    body = OutboxMessage.objects.get(event=f"review-reminder:{review.pk}:{epoch(DUE)}").body_text
    assert "Your technical review of this proposal to the call JUPITER 2027-1" in body


def test_review_queries_do_not_grow_with_reviews(call):
    def add_reviews(count: int, start: int) -> None:
        for n in range(start, start + count):
            proposal = submitted_proposal(call, make_user(f"pi{n}@uni.example"), f"P{n}")
            assign(proposal, make_user(f"r{n}@review.example"))

    add_reviews(2, 0)
    two = queries_besides_outbox_writes(review_reminders, DUE - timedelta(days=1))
    add_reviews(4, 2)
    six = queries_besides_outbox_writes(review_reminders, DUE + MINUTE)
    assert six == two


# --- Right of reply closing in 2 days -------------------------------------------------------


@pytest.fixture
def reply_call(db):
    return make_call("JUPITER 2027-2", right_of_reply=True)


@pytest.fixture
def reply_world(reply_call, pi, coi, reviewer, manager):
    """Three proposals in review with a submitted review each, one withdrawn; the right of
    reply open until REPLY_CLOSES; the PI of ``replied`` has answered already."""
    mine = submitted_proposal(reply_call, pi, "MINE")
    add_member(mine, coi)
    other = submitted_proposal(reply_call, make_user("other@uni.example"), "OTHER")
    replied = submitted_proposal(reply_call, make_user("replied@uni.example"), "REPLIED")
    gone = submitted_proposal(reply_call, make_user("gone@uni.example"), "GONE")
    proposal_withdraw(proposal=gone, by=gone.pi)
    in_review(reply_call)
    for proposal in (mine, other, replied):
        scientific(proposal, reviewer, 4, 4)
    Call.objects.filter(pk=reply_call.pk).update(reply_closes_at=REPLY_CLOSES)
    reply_call.refresh_from_db()
    reply_window_open(call=reply_call, by=manager)
    reply_submit(proposal=replied, by=replied.pi, text="Thank you; we agree.")
    return {"mine": mine, "other": other}


def test_two_days_before_the_reply_closes_each_pi_without_a_reply_is_reminded(
    reply_world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert reply_closing_reminders(REPLY_CLOSES - timedelta(days=2)) == 2

    mine, other = reply_world["mine"], reply_world["other"]
    subject = "[Allot] Reminder: you may reply to the reviews of {} until " + REPLY_SHORT
    assert outbox("reply-closing") == sorted(
        [
            (f"reply-closing:{other.pk}", "other@uni.example", subject.format(other.reference)),
            (f"reply-closing:{mine.pk}", "pi@uni.example", subject.format(mine.reference)),
        ]
    )
    mail = next(m for m in mailoutbox if m.to == ["pi@uni.example"])
    link = f"{settings.SITE_URL}{reverse('proposal_reply', args=[mine.pk])}"
    assert "Reply until: 1 Jun 2099, 17:00 CEST (Europe/Berlin)" in mail.body
    assert f"Read the reviews and reply: {link}" in mail.body
    assert f'href="{link}"' in mail.alternatives[0][0]
    assert reply_closing_reminders(REPLY_CLOSES - timedelta(days=1)) == 0


def test_no_reply_reminder_more_than_two_days_before_or_after_closing(reply_world):
    assert reply_closing_reminders(REPLY_CLOSES - timedelta(days=2) - MINUTE) == 0
    assert reply_closing_reminders(REPLY_CLOSES) == 0
    assert outbox("reply-closing") == []


def test_a_reply_sent_meanwhile_stops_the_reminder(reply_world, pi):
    reply_submit(proposal=reply_world["mine"], by=pi, text="We have answered every point.")
    assert reply_closing_reminders(REPLY_CLOSES - timedelta(hours=3)) == 1
    assert [recipient for _, recipient, _ in outbox("reply-closing")] == ["other@uni.example"]


def test_no_reply_reminder_before_the_window_is_opened(reply_call, pi):
    submitted_proposal(reply_call, pi, "MINE")
    Call.objects.filter(pk=reply_call.pk).update(
        reply_opens_at=REPLY_CLOSES - timedelta(days=14), reply_closes_at=REPLY_CLOSES
    )
    assert reply_closing_reminders(REPLY_CLOSES - timedelta(days=1)) == 0


def test_no_reply_reminder_in_an_archived_call(reply_call, reply_world, manager):
    call_archive(call=reply_call, by=manager)
    assert reply_closing_reminders(REPLY_CLOSES - timedelta(days=1)) == 0


def test_reply_queries_do_not_grow_with_proposals(reply_call, reviewer, manager):
    proposals = [
        submitted_proposal(reply_call, make_user(f"pi{n}@uni.example"), f"P{n}") for n in range(6)
    ]
    in_review(reply_call)
    for proposal in proposals:
        scientific(proposal, reviewer, 4, 4)
    Call.objects.filter(pk=reply_call.pk).update(reply_closes_at=REPLY_CLOSES)
    reply_call.refresh_from_db()
    reply_window_open(call=reply_call, by=manager)
    for proposal in proposals[2:]:  # four of them answer: two PIs to remind
        reply_submit(proposal=proposal, by=proposal.pi, text="Noted.")
    two = queries_besides_outbox_writes(reply_closing_reminders, REPLY_CLOSES - timedelta(days=1))
    OutboxMessage.objects.filter(kind="reply-closing").delete()
    Reply.objects.all().delete()  # now six PIs to remind
    six = queries_besides_outbox_writes(reply_closing_reminders, REPLY_CLOSES - timedelta(days=1))
    assert six == two


# --- Call opened ----------------------------------------------------------------------------


@pytest.fixture
def subscribers(pi, coi, outsider):
    """The PI asked for the emails; the co-investigator too but has not verified the address;
    the outsider did not ask; a deactivated account asked."""
    for person in (pi, coi):
        person.notify_new_calls = True
        person.save(update_fields=["notify_new_calls"])
    EmailAddress.objects.filter(user=coi).update(verified=False)
    make_user("gone@uni.example", notify_new_calls=True, is_active=False)


def test_an_opened_call_is_announced_once_to_verified_subscribers(
    subscribers, mailoutbox, django_capture_on_commit_callbacks
):
    call = make_call_closing(code="JUPITER 2099-1")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert call_status_changes(now) == 1

    assert outbox("call-opened") == [
        (
            f"call-opened:{call.pk}",
            "pi@uni.example",
            f"[Allot] New call open: JUPITER 2099-1 — submit proposals by {DEADLINE_SHORT}",
        )
    ]
    call.refresh_from_db()
    assert call.opened_announced_at == now
    (mail,) = mailoutbox
    link = f"{settings.SITE_URL}{reverse('call_detail', args=[call.pk])}"
    assert "The call JUPITER 2099-1 (JUPITER 2099-1 call for proposals) is open" in mail.body
    assert f"Deadline: {DEADLINE_LOCAL}" in mail.body
    assert link in mail.body
    assert f"{settings.SITE_URL}{reverse('profile')}" in mail.body
    assert f'href="{link}"' in mail.alternatives[0][0]

    assert call_status_changes(now + timedelta(minutes=5)) == 0
    call.refresh_from_db()
    assert call.opened_announced_at == now


def test_an_upcoming_call_is_announced_when_it_opens(subscribers):
    call = make_call(opens_in=timedelta(days=2), closes_in=timedelta(days=40))
    now = timezone.now()
    assert call_status_changes(now) == 0
    call.refresh_from_db()
    assert call.opened_announced_at is None
    assert call_status_changes(call.opens_at + MINUTE) == 1
    assert [event for event, _, _ in outbox("call-opened")] == [f"call-opened:{call.pk}"]


def test_a_call_already_closed_is_marked_without_emails(subscribers):
    call = make_call(opens_in=timedelta(days=-60), closes_in=timedelta(days=-1))
    now = timezone.now()
    assert call_status_changes(now) == 0
    call.refresh_from_db()
    assert call.opened_announced_at == now
    assert outbox("call-opened") == []


def test_an_archived_call_is_not_announced(subscribers, manager):
    call = make_call()
    call_archive(call=call, by=manager)
    assert call_status_changes(timezone.now()) == 0
    call.refresh_from_db()
    assert call.opened_announced_at is None


def test_nobody_subscribed_nobody_emailed(pi):
    call = make_call()
    assert call_status_changes(timezone.now()) == 0
    call.refresh_from_db()
    assert call.opened_announced_at is not None


def test_call_opened_queries_do_not_grow_with_subscribers(db):
    def subscribe(count: int, start: int) -> None:
        for n in range(start, start + count):
            make_user(f"s{n}@uni.example", notify_new_calls=True)

    subscribe(2, 0)
    make_call("JUPITER 2098-1")
    two = queries_besides_outbox_writes(call_status_changes, timezone.now())
    subscribe(4, 2)
    make_call("JUPITER 2098-2")
    six = queries_besides_outbox_writes(call_status_changes, timezone.now())
    assert six == two


# --- Tasks and the beat schedule ------------------------------------------------------------


def test_the_tasks_run_the_jobs_now(pi, coi, reviewer, subscribers):
    call = make_call(closes_in=timedelta(days=3))  # open now, closes in 3 days
    proposal = make_proposal(call, pi, title="Sparse experts at scale")
    add_member(proposal, coi)
    assert tasks.call_status_changes.apply().get() == 1  # the PI subscribed
    assert tasks.deadline_reminders.apply().get() == 2
    assert tasks.deadline_reminders.apply().get() == 0
    assert tasks.review_reminders.apply().get() == 0
    assert tasks.reply_closing_reminders.apply().get() == 0


def test_every_beat_entry_names_a_registered_task():
    from config.celery import app

    app.loader.import_default_modules()  # what the worker and beat do at start: autodiscovery
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} >= {
        "proposals.deadline_reminders",
        "proposals.review_reminders",
        "proposals.reply_closing_reminders",
        "proposals.call_status_changes",
    }
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, name
    assert schedule["proposals-call-status-changes"]["schedule"] == 300.0
