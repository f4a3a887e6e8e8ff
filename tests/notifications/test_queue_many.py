"""``outbox_queue_many``: the periodic jobs' bulk queueing keeps every rule of ``outbox_queue``."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from notifications.services import Outgoing, outbox_queue, outbox_queue_many

pytestmark = pytest.mark.django_db


def example(event: str, recipient: str, name: str = "Ada O'Brien & Co") -> Outgoing:
    return Outgoing(kind="outbox-example", event=event, recipient=recipient, context={"name": name})


def rows() -> list[tuple[str, str, str]]:
    return list(
        OutboxMessage.objects.order_by("event", "recipient").values_list(
            "event", "recipient", "subject"
        )
    )


def test_each_event_and_recipient_is_queued_once_and_sent_after_commit(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://allot.example"
    with django_capture_on_commit_callbacks(execute=True):
        created = outbox_queue_many(
            [
                example("example:1", "ada@uni.example"),
                example("example:1", " ADA@uni.example "),  # the same person
                example("example:1", "bo@uni.example", name="Bo"),
                example("example:2", "ada@uni.example"),
            ]
        )
        assert mailoutbox == []  # nothing before the commit

    assert [(m.event, m.recipient) for m in created] == [
        ("example:1", "ada@uni.example"),
        ("example:1", "bo@uni.example"),
        ("example:2", "ada@uni.example"),
    ]
    assert rows() == [
        ("example:1", "ada@uni.example", "Hello Ada O'Brien & Co: a test of the outbox"),
        ("example:1", "bo@uni.example", "Hello Bo: a test of the outbox"),
        ("example:2", "ada@uni.example", "Hello Ada O'Brien & Co: a test of the outbox"),
    ]
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("ada@uni.example", "Hello Ada O'Brien & Co: a test of the outbox"),
        ("ada@uni.example", "Hello Ada O'Brien & Co: a test of the outbox"),
        ("bo@uni.example", "Hello Bo: a test of the outbox"),
    ]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_the_same_rendering_as_one_by_one(settings):
    settings.SITE_URL = "https://allot.example"
    single = outbox_queue(
        kind="outbox-example",
        event="example:single",
        recipient="ada@uni.example",
        context={"name": "Ada O'Brien & Co"},
    )
    (bulk,) = outbox_queue_many([example("example:bulk", "ada@uni.example")])
    assert (bulk.subject, bulk.body_text, bulk.body_html) == (
        single.subject,
        single.body_text,
        single.body_html,
    )


def test_what_is_already_queued_is_neither_queued_again_nor_sent(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_queue_many([example("example:1", "ada@uni.example")])
    with django_capture_on_commit_callbacks(execute=True):
        created = outbox_queue_many(
            [example("example:1", "Ada@Uni.example"), example("example:2", "ada@uni.example")]
        )
    assert [m.event for m in created] == ["example:2"]
    assert OutboxMessage.objects.count() == 2
    assert [m.to for m in mailoutbox] == [["ada@uni.example"], ["ada@uni.example"]]


def test_nothing_is_sent_when_the_transaction_rolls_back(mailoutbox):

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        outbox_queue_many([example("example:1", "ada@uni.example")])
        raise Rollback
    assert OutboxMessage.objects.count() == 0
    assert mailoutbox == []


def test_queries_do_not_grow_with_the_messages():
    def count(n: int, prefix: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            outbox_queue_many(example(f"{prefix}:{i}", f"p{i}@uni.example") for i in range(n))
        return len(queries)

    assert count(3, "few") == count(40, "many")
    assert OutboxMessage.objects.count() == 43
