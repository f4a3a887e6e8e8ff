"""A real Celery worker on Redis delivers an outbox message exactly once."""

import queue
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.signals import task_postrun
from kombu import pools

from config.celery import app
from notifications.enums import MessageStatus
from notifications.tasks import send_message
from tests.notifications.conftest import queue_message
from tests.services import require_redis

WAIT_SECONDS = 30


class BoundedTestWorker(TestWorkController):
    """``start_worker`` waits for the consumer without a limit; a broken broker must not hang."""

    __test__ = False

    def ensure_started(self) -> None:
        if not self._on_started.wait(timeout=WAIT_SECONDS):
            raise RuntimeError(f"the Celery test worker did not start within {WAIT_SECONDS} s")


def _reset_broker_pools() -> None:
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_on_redis(url: str) -> Iterator[None]:
    """Point the app at Redis for one test, under a key prefix of its own, and restore it.

    The prefix keeps concurrent test runs on the same Redis database from taking each other's
    tasks (ids of in-memory test databases collide); every key under it is deleted afterwards.
    """
    prefix = f"allot-test-{uuid.uuid4().hex}:"
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    saved_hijack = app.conf.worker_hijack_root_logger
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    app.conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    _reset_broker_pools()
    try:
        yield
    finally:
        for key, value in saved.items():
            app.conf[key] = value
        app.conf.worker_hijack_root_logger = saved_hijack
        _reset_broker_pools()
        client = redis.Redis.from_url(url, socket_timeout=5)
        try:
            leftovers = list(client.scan_iter(match=f"{prefix}*"))
            if leftovers:
                client.delete(*leftovers)
        except redis.RedisError:
            pass  # Redis went away: nothing to clean, and the test's own error matters more
        finally:
            client.close()


@pytest.fixture
def worker_runs() -> Iterator[queue.Queue]:
    """A Celery worker (solo pool, in a thread) on Redis; yields the (task, kwargs, state) of
    every task it finishes, in order."""
    url = require_redis()
    finished: queue.Queue[tuple[str, dict, str]] = queue.Queue()

    def on_postrun(task=None, kwargs=None, state=None, **_) -> None:
        finished.put((task.name, kwargs, state))

    task_postrun.connect(on_postrun, weak=False)
    try:
        with (
            celery_on_redis(url),
            start_worker(
                app,
                pool="solo",
                perform_ping_check=False,
                shutdown_timeout=WAIT_SECONDS,
                WorkController=BoundedTestWorker,
            ),
        ):
            yield finished
    finally:
        task_postrun.disconnect(on_postrun)
    assert app.conf.task_always_eager is True


def wait_for(runs: queue.Queue, count: int) -> list[tuple[str, dict, str]]:
    """The next ``count`` finished tasks. Waiting on the worker rather than polling the database:
    SQLite's shared in-memory test database locks whole tables, and the worker must not meet a
    reader."""
    return [runs.get(timeout=WAIT_SECONDS) for _ in range(count)]


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
