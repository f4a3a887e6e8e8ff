"""Real Celery workers on Redis for tests: one in a thread of the test process, or a separate
worker process (``python -m tests.celery_worker``) that a test can kill.

Each test gets a Redis key prefix of its own (``celery_on_redis``), so concurrent test runs on
the same Redis database never take each other's tasks; every key under it is deleted after.
``tests/conftest.py`` registers this module as a plugin, so the ``worker_runs`` fixture is
available to every test.
"""

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.signals import task_postrun
from kombu import pools

from config.celery import app
from tests.services import require_redis

WAIT_SECONDS = 30
BASE_DIR = Path(__file__).resolve().parent.parent

Finished = tuple[str, dict, str]  # (task name, kwargs, state) of a task the worker finished


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
def celery_on_redis(url: str, transport_options: dict | None = None) -> Iterator[str]:
    """Point the app at Redis for one test, under a key prefix of its own, and restore it.

    Yields the prefix. ``transport_options`` are added to the broker's (e.g. a short
    ``visibility_timeout``). The prefix keeps concurrent test runs on the same Redis database
    from taking each other's tasks (ids of in-memory test databases collide); every key under
    it is deleted afterwards.
    """
    prefix = f"allot-test-{uuid.uuid4().hex}:"
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    saved_hijack = app.conf.worker_hijack_root_logger
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {**(transport_options or {}), "global_keyprefix": prefix}
    app.conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    _reset_broker_pools()
    try:
        yield prefix
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


@contextmanager
def worker_in_thread() -> Iterator[queue.Queue[Finished]]:
    """A Celery worker (solo pool) in a thread of the test process, on the broker the app points
    at (``celery_on_redis``). Yields the (task, kwargs, state) of every task it finishes, in
    order. It reads the test database through Django's connections, so a test using it needs
    ``django_db(transaction=True)``."""
    finished: queue.Queue[Finished] = queue.Queue()

    def on_postrun(task=None, kwargs=None, state=None, **_) -> None:
        finished.put((task.name, kwargs, state))

    task_postrun.connect(on_postrun, weak=False)
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=WAIT_SECONDS,
            WorkController=BoundedTestWorker,
        ):
            yield finished
    finally:
        task_postrun.disconnect(on_postrun)


@pytest.fixture
def worker_runs() -> Iterator[queue.Queue[Finished]]:
    """A Celery worker (solo pool, in a thread) on Redis; yields the (task, kwargs, state) of
    every task it finishes, in order."""
    url = require_redis()
    with celery_on_redis(url), worker_in_thread() as finished:
        yield finished
    assert app.conf.task_always_eager is True


def wait_for(runs: queue.Queue[Finished], count: int) -> list[Finished]:
    """The next ``count`` finished tasks. Waiting on the worker rather than polling the database:
    SQLite's shared in-memory test database locks whole tables, and the worker must not meet a
    reader."""
    finished: list[Finished] = []
    for _ in range(count):
        try:
            finished.append(runs.get(timeout=WAIT_SECONDS))
        except queue.Empty:
            pytest.fail(
                f"{len(finished)} of {count} tasks finished in {WAIT_SECONDS} s: {finished}"
            )
    return finished


@contextmanager
def worker_process(
    *, url: str, transport_options: dict, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    """A separate Celery worker of our app on Redis, as production runs it (the prefork pool),
    with one pool process. ``transport_options`` are the broker's (include the prefix from
    ``celery_on_redis``); ``env`` goes on top of this process's environment (e.g.
    ``DATABASE_URL`` of the test database). Its output goes to ``log``.

    The worker leads a process group of its own, so ``os.killpg(process.pid, SIGKILL)`` kills
    it with its pool process, as a lost node or ``docker kill`` would. A worker still running on
    exit is killed so."""
    command = [
        sys.executable,
        "-m",
        "tests.celery_worker",
        "--broker",
        url,
        "--transport-options",
        json.dumps(transport_options),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:  # still running: the test failed before it killed it
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT_SECONDS)


def _main(argv: list[str]) -> None:
    """``celery -A config worker --concurrency=1`` with broker transport options, which the
    command line cannot set (the test's key prefix)."""
    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--transport-options", required=True, help="a JSON object")
    args = parser.parse_args(argv)
    app.conf.broker_url = args.broker
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = json.loads(args.transport_options)
    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
            "--hostname=allot-test-process@%h",
        ]
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
