"""A real Celery worker on Redis delivers an outbox message exactly once."""

import pytest

from notifications.enums import MessageStatus
from notifications.tasks import send_message
from tests.celery_worker import wait_for
from tests.notifications.conftest import queue_message


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_worker_sends_a_message_once_even_when_its_task_is_enqueued_twice(worker_runs, mailoutbox):
    # Committed at once (no surrounding transaction): the first task goes to Redis.
    message = queue_message(1, recipient="ada@uni.example")
    send_message.apply_async(kwargs={"message_id": message.pk})

    assert wait_for(worker_runs, 2) == [
        ("notifications.send_message", {"message_id": message.pk}, "SUCCESS"),
        ("notifications.send_message", {"message_id": message.pk}, "SUCCESS"),
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 1, "")
    assert [email.to for email in mailoutbox] == [["ada@uni.example"]]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_worker_retries_a_temporary_refusal_through_the_broker(smtp_server, worker_runs):
    smtp_server.data_replies = ["451 4.3.0 Try again later"]  # retry countdown is 0 in tests

    message = queue_message(1, recipient="ada@uni.example")

    assert wait_for(worker_runs, 2) == [
        ("notifications.send_message", {"message_id": message.pk}, "RETRY"),
        ("notifications.send_message", {"message_id": message.pk}, "SUCCESS"),
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 2, "")
    assert [envelope.rcpt_tos for envelope in smtp_server.received] == [["ada@uni.example"]]
