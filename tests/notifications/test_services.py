"""The outbox services: queueing, delivery outcomes, upkeep and a manager's retry."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from notifications.services import (
    TemporaryDeliveryError,
    outbox_claim,
    outbox_deliver,
    outbox_queue,
    outbox_requeue_stuck,
    outbox_retry,
    retry_delay,
)
from notifications.tasks import send_message
from tests.notifications.conftest import free_port, queue_message

pytestmark = pytest.mark.django_db


def queue_example(**overrides) -> OutboxMessage:
    return outbox_queue(
        kind="outbox-example",
        event=overrides.pop("event", "example:1"),
        recipient=overrides.pop("recipient", "ada@uni.example"),
        context={"name": "Ada O'Brien & Co", **overrides.pop("context", {})},
        **overrides,
    )


def test_queue_renders_the_kind_and_stores_it_unsent(settings, mailoutbox, pi):
    settings.SITE_URL = "https://allot.example"

    message = queue_example(user=pi)

    message.refresh_from_db()
    assert message.kind == "outbox-example"
    assert message.event == "example:1"
    assert message.recipient == "ada@uni.example"
    assert message.user == pi
    # Text parts are not HTML-escaped; the subject is folded to one line.
    assert message.subject == "Hello Ada O'Brien & Co: a test of the outbox"
    assert message.body_text == (
        "Dear Ada O'Brien & Co,\n\nthis message shows that the outbox works.\n\n"
        "https://allot.example/outbox/\n"
    )
    assert message.body_html == (
        "<p>Dear Ada O&#x27;Brien &amp; Co,</p>\n"
        "<p>this message shows that the outbox works.</p>\n"
        '<p><a href="https://allot.example/outbox/">https://allot.example/outbox/</a></p>\n'
    )
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 0
    assert mailoutbox == []  # nothing is sent before the transaction commits


def test_queued_message_is_sent_after_commit(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://allot.example"

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_example()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.last_error == ""
    assert message.sent_at is not None
    assert message.sending_since is None
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["ada@uni.example"]
    assert email.subject == "Hello Ada O'Brien & Co: a test of the outbox"
    assert email.body == message.body_text
    assert email.alternatives[0].content == message.body_html
    assert email.alternatives[0].mimetype == "text/html"
    assert email.extra_headers == {"X-Allot-Event": "example:1"}


def test_queueing_the_same_event_twice_gives_one_row_and_one_email(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = queue_example()
        second = queue_example(recipient="  ADA@Uni.example ")

    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert [email.to for email in mailoutbox] == [["ada@uni.example"]]


def test_same_event_to_another_person_is_another_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        queue_example(recipient="ada@uni.example")
        queue_example(recipient="bob@uni.example")

    assert sorted(OutboxMessage.objects.values_list("recipient", flat=True)) == [
        "ada@uni.example",
        "bob@uni.example",
    ]
    assert len(callbacks) == 2


def test_database_refuses_a_second_row_for_event_and_recipient_in_another_case():
    queue_message(1, recipient="ada@uni.example")

    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            kind="outbox-example", event="example:1", recipient="Ada@UNI.example", subject="x"
        )


def test_subject_with_line_breaks_is_folded_to_one_line():
    message = queue_message(1, subject="Your proposal\r\nBcc: everyone@example.org")

    assert message.subject == "Your proposal Bcc: everyone@example.org"


@pytest.mark.django_db(transaction=True)
def test_message_queued_in_a_transaction_that_rolls_back_is_never_sent(mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_example()
        raise RuntimeError("the change that caused the email failed")

    assert OutboxMessage.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_message_queued_in_a_transaction_that_commits_is_sent_once(mailoutbox):
    with transaction.atomic():
        message = queue_example()
        assert mailoutbox == []

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [email.to for email in mailoutbox] == [["ada@uni.example"]]


def test_claim_takes_a_queued_message_only_once():
    message = queue_message(1)

    first = outbox_claim(message_id=message.pk)
    second = outbox_claim(message_id=message.pk)

    assert first is not None
    assert first.status == MessageStatus.SENDING
    assert first.attempts == 1
    assert first.sending_since is not None
    assert second is None
    message.refresh_from_db()
    assert message.attempts == 1


def test_claim_of_a_missing_message_is_none():
    assert outbox_claim(message_id=404404) is None


def test_send_task_for_a_missing_message_does_nothing(mailoutbox):
    assert send_message.apply(kwargs={"message_id": 404404}).get() is None
    assert mailoutbox == []


def test_permanent_smtp_refusal_of_the_message_fails_it_with_the_error(
    smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.data_replies = ["554 5.7.1 Message rejected"]

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(1)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert message.last_error == "SMTPDataError: (554, b'5.7.1 Message rejected')"
    assert message.sent_at is None
    assert message.sending_since is None
    assert smtp_server.received == []


def test_permanent_smtp_refusal_of_the_recipient_fails_it_with_the_error(
    smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.rcpt_replies = ["550 5.1.1 No such mailbox"]

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(1)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert message.last_error == (
        "SMTPRecipientsRefused: {'person1@uni.example': (550, b'5.1.1 No such mailbox')}"
    )
    assert smtp_server.received == []


def test_temporary_refusals_are_retried_until_the_last_attempt_then_fail(
    settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.data_replies = ["451 4.3.0 Try again later"] * 3

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(1)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 3
    assert message.last_error == "SMTPDataError: (451, b'4.3.0 Try again later')"
    assert smtp_server.received == []


def test_unreachable_server_is_a_temporary_failure(settings, smtp_server):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    settings.MAILERS["default"]["OPTIONS"]["port"] = free_port()  # nothing listens there
    message = outbox_claim(message_id=queue_message(1).pk)

    with pytest.raises(TemporaryDeliveryError):
        outbox_deliver(message=message)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"


def test_retry_delay_doubles_from_the_base_and_stops_at_an_hour(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60

    assert [retry_delay(attempts) for attempts in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_requeue_stuck_moves_only_old_sending_messages(
    mailoutbox, django_capture_on_commit_callbacks
):
    old = queue_message(1)
    fresh = queue_message(2)
    waiting = queue_message(3)
    outbox_claim(message_id=old.pk)
    outbox_claim(message_id=fresh.pk)
    now = timezone.now()
    # A worker claimed it 16 minutes ago and died.
    OutboxMessage.objects.filter(pk=old.pk).update(sending_since=now - timedelta(minutes=16))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moved = outbox_requeue_stuck(now=now)

    assert moved == 1
    assert len(callbacks) == 1
    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: MessageStatus.SENT,
        fresh.pk: MessageStatus.SENDING,
        waiting.pk: MessageStatus.QUEUED,
    }
    assert OutboxMessage.objects.get(pk=old.pk).attempts == 2
    assert [email.to for email in mailoutbox] == [["person1@uni.example"]]


def test_requeue_stuck_enqueues_queued_messages_whose_task_was_lost_after_their_backoff(
    settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    lost = queue_message(1)  # its task never ran: attempts 0, retry delay 60 s
    backing_off = queue_message(2)  # refused three times: retry delay 240 s
    smtp_server.data_replies = ["451 4.3.0 Try again later"] * 3
    for _ in range(3):
        with pytest.raises(TemporaryDeliveryError):
            outbox_deliver(message=outbox_claim(message_id=backing_off.pk))
    now = timezone.now() + timedelta(minutes=16, seconds=30)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moved = outbox_requeue_stuck(now=now)

    assert moved == 0
    assert len(callbacks) == 1
    lost.refresh_from_db()
    backing_off.refresh_from_db()
    assert (lost.status, lost.attempts) == (MessageStatus.SENT, 1)
    assert (backing_off.status, backing_off.attempts) == (MessageStatus.QUEUED, 3)
    assert [envelope.rcpt_tos for envelope in smtp_server.received] == [["person1@uni.example"]]


def test_requeue_stuck_twice_in_a_row_enqueues_nothing_the_second_time(
    django_capture_on_commit_callbacks,
):
    queue_message(1)
    now = timezone.now() + timedelta(minutes=20)
    with django_capture_on_commit_callbacks() as first:
        outbox_requeue_stuck(now=now)

    with django_capture_on_commit_callbacks() as second:
        outbox_requeue_stuck(now=now)

    assert (len(first), len(second)) == (1, 0)


def make_failed_message(smtp_server, django_capture_on_commit_callbacks) -> OutboxMessage:
    smtp_server.data_replies = ["554 5.7.1 Message rejected"]
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(1)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    return message


def test_retry_of_a_failed_message_queues_it_with_fresh_attempts_and_sends_it(
    smtp_server, django_capture_on_commit_callbacks
):
    message = make_failed_message(smtp_server, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks() as callbacks:
        retried = outbox_retry(message=message)

    assert retried is True
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    assert message.last_error == "SMTPDataError: (554, b'5.7.1 Message rejected')"

    callbacks[0]()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 1, "")
    assert [envelope.rcpt_tos for envelope in smtp_server.received] == [["person1@uni.example"]]


@pytest.mark.parametrize("claimed", [False, True], ids=["queued", "sending"])
def test_retry_of_a_message_that_has_not_failed_changes_nothing(
    claimed, django_capture_on_commit_callbacks
):
    message = queue_message(1)
    if claimed:
        outbox_claim(message_id=message.pk)
    before = OutboxMessage.objects.values().get(pk=message.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        retried = outbox_retry(message=message)

    assert retried is False
    assert callbacks == []
    assert OutboxMessage.objects.values().get(pk=message.pk) == before


def test_retry_of_a_sent_message_changes_nothing(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(1)

    with django_capture_on_commit_callbacks() as callbacks:
        retried = outbox_retry(message=message)

    message.refresh_from_db()
    assert (retried, callbacks, message.status) == (False, [], MessageStatus.SENT)
    assert len(mailoutbox) == 1
