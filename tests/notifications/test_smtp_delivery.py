"""Delivery through a real SMTP server (aiosmtpd, in this process) that refuses once."""

import email
from email import policy

import pytest

from notifications.enums import MessageStatus
from notifications.services import outbox_queue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rcpt_replies", "data_replies"),
    [
        ([], ["451 4.3.0 Try again later"]),
        (["450 4.2.1 Mailbox busy, try again"], []),
        ([], ["421 4.3.2 Service shutting down"]),
    ],
    ids=["451-on-data", "450-on-rcpt", "421-on-data"],
)
def test_temporary_refusal_is_retried_and_the_message_arrives_once(
    rcpt_replies, data_replies, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "Allot <noreply@allot.example>"
    smtp_server.rcpt_replies = list(rcpt_replies)
    smtp_server.data_replies = list(data_replies)

    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_queue(
            kind="outbox-example",
            event="example:smtp",
            recipient="ada@uni.example",
            context={"name": "Ada"},
        )

    assert len(smtp_server.received) == 1
    envelope = smtp_server.received[0]
    assert envelope.mail_from == "noreply@allot.example"
    assert envelope.rcpt_tos == ["ada@uni.example"]
    received = email.message_from_bytes(envelope.content, policy=policy.default)
    assert received["Subject"] == "Hello Ada: a test of the outbox"
    assert received["To"] == "ada@uni.example"
    assert received["X-Allot-Event"] == "example:smtp"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert message.sending_since is None
    assert message.sent_at is not None
