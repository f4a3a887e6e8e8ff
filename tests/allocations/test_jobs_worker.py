"""The periodic jobs through a real Celery worker on Redis (PRODUCT §7, §8): every job can run
twice without a second email or a second charge, and a worker killed in the middle of a job
loses nothing (late acknowledgement plus idempotency)."""

import email
import hashlib
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from email import policy
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from allocations.enums import LedgerKind
from allocations.models import ClusterLogin, LedgerEntry, UsageFile
from allocations.selectors.ledger import today_for
from allocations.tasks import import_usage_directory, quota_evaluate
from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from proposals.calls.enums import QuotaPolicy
from tests.allocation_factories import make_allocation, period_around_today
from tests.celery_worker import (
    WAIT_SECONDS,
    celery_on_redis,
    wait_for,
    worker_in_thread,
    worker_process,
)
from tests.factories import make_resource
from tests.services import require_postgresql, require_redis

HEADER = "JobIDRaw|Cluster|Account|User|Partition|State|Start|End|ElapsedRaw|AllocTRES"
IMPORT = "allocations.import_usage_directory"
QUOTA = "allocations.quota_evaluate"
SEND = "notifications.send_message"


def job(account: str, job_id: str, *, user: str, gpus: int, seconds: int, ended: date) -> str:
    """One finished job of the JUPITER Booster: ``gpus`` × ``seconds`` / 3600 GPU-hours."""
    end = f"{ended:%Y-%m-%d}T20:00:00"
    start = f"{ended:%Y-%m-%d}T08:00:00"
    tres = f"billing=96,cpu=288,gres/gpu={gpus},mem=480G,node=1"
    return "|".join(
        [job_id, "jupiter", account, user, "booster", "COMPLETED", start, end, str(seconds), tres]
    )


def write(path: Path, *jobs: str) -> Path:
    path.write_text("\n".join([HEADER, *jobs]) + "\n")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def usage_entries() -> list[tuple[Decimal, str]]:
    """Usage per member and day (PRODUCT §8), sorted by member."""
    return sorted(
        LedgerEntry.objects.exclude(kind=LedgerKind.AWARD).values_list("amount", "user__email"),
        key=lambda row: row[1],
    )


def usage_files() -> list[tuple[str, str]]:
    return list(UsageFile.objects.order_by("path").values_list("path", "sha256"))


@pytest.fixture
def redis_on_postgresql() -> str:
    """Redis (its URL) and a PostgreSQL test database, checked before anything is written.

    The ledger's append-only triggers refuse the DELETE with which a transactional test's
    SQLite database is emptied afterwards; PostgreSQL's TRUNCATE is not a row deletion."""
    url = require_redis()
    require_postgresql()
    return url


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_usage_import_and_quota_evaluation_through_a_worker_email_once(
    redis_on_postgresql, settings, tmp_path, pi, coi, smtp_server, worker_runs
):
    """The import and the quota evaluation each run twice on a real worker; the 75 % email and
    the activation email reach the PI and the member over real SMTP once each, and every job
    is charged once."""
    booster = make_resource()
    start, end = period_around_today(started_months_ago=2, months=12)
    allocation = make_allocation(
        pi=pi,
        awarded={booster: 100},
        start=start,
        end=end,
        members=[coi],
        acronym="jobs",
        policy=QuotaPolicy.WHOLE_PERIOD,
    )
    ClusterLogin.objects.create(user=pi, cluster="jupiter", login="pi")
    ClusterLogin.objects.create(user=coi, cluster="jupiter", login="coi")
    today = today_for(allocation)  # the worker evaluates with the real clock, in this zone
    assert allocation.start < today < allocation.end - timedelta(days=30)  # active, not expiring
    acct = allocation.account
    ended = start + timedelta(days=1)
    directory = tmp_path / "sacct"
    directory.mkdir()
    usage = write(
        directory / f"jupiter_{ended:%Y-%m-%d}.txt",
        job(acct, "101", user="pi", gpus=4, seconds=36_000, ended=ended),  # 40 GPU-hours
        job(acct, "102", user="coi", gpus=4, seconds=18_000, ended=ended),  # 20
        job(acct, "103", user="pi", gpus=8, seconds=9_000, ended=ended),  # 20: 80 of 100
    )
    settings.USAGE_IMPORT_DIR = str(directory)

    import_usage_directory.apply_async()
    import_usage_directory.apply_async()
    assert wait_for(worker_runs, 2) == [(IMPORT, {}, "SUCCESS"), (IMPORT, {}, "SUCCESS")]
    # Only now: an evaluation before the import would see no usage and send no 75 % email.
    quota_evaluate.apply_async()
    quota_evaluate.apply_async()
    # Two evaluations, then a send task per message the first one queued (after its commit).
    finished = wait_for(worker_runs, 6)

    messages = list(OutboxMessage.objects.order_by("pk"))
    assert Counter((name, state) for name, _, state in finished) == {
        (QUOTA, "SUCCESS"): 2,
        (SEND, "SUCCESS"): 4,
    }
    assert sorted(kwargs["message_id"] for name, kwargs, _ in finished if name == SEND) == [
        m.pk for m in messages
    ]

    # One day: jobs 101 and 103 are the PI's 60, job 102 the member's 20.
    assert usage_entries() == [
        (Decimal(-20), "coi@lab.example"),
        (Decimal(-60), "pi@uni.example"),
    ]
    assert usage_files() == [(str(usage), sha256(usage))]

    active = f"allocation-active:{allocation.pk}"
    usage75 = f"allocation-usage:{allocation.pk}:jupiter-booster:75"
    subjects = {
        active: f"[Allot] {acct} is active",
        usage75: f"[Allot] {acct}: 75 % of JUPITER Booster used",
    }
    people = ["coi@lab.example", "pi@uni.example"]
    mails = [
        (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
        for envelope in smtp_server.received
    ]
    # (envelope recipients, To, event, subject) of every message the server accepted.
    assert sorted(
        (rcpt_tos, mail["To"], mail["X-Allot-Event"], mail["Subject"]) for rcpt_tos, mail in mails
    ) == sorted(
        ([person], person, event, subjects[event]) for event in subjects for person in people
    )
    body = next(
        mail.get_body(("plain",)).get_content()
        for rcpt_tos, mail in mails
        if rcpt_tos == ["pi@uni.example"] and mail["X-Allot-Event"] == usage75
    )
    assert f"{acct} has used 80 of its 100 GPU-hours of JUPITER Booster (75 % or more)." in body

    assert sorted((m.recipient, m.event, m.status, m.attempts, m.last_error) for m in messages) == [
        (person, event, MessageStatus.SENT, 1, "")
        for person in people
        for event in sorted(subjects)
    ]


def _database_url() -> str:
    """The test database (not the one DATABASE_URL names) as a URL for a worker process."""
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


@contextmanager
def holding_usage_file_path(path: Path) -> Iterator[None]:
    """A second connection inserts, without committing, a ``UsageFile`` row with the content of
    ``path``, as a concurrent import of that file does. An import of ``path`` waits on the
    unique content when it records it, inside its transaction, until this connection rolls
    back (on leaving the block)."""
    blocker = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        blocker.set_autocommit(False)
        with blocker.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {UsageFile._meta.db_table} "  # noqa: S608  (a model's table name)
                "(path, sha256, cluster, imported_at, report_summary, outcome, lines, report) "
                "VALUES (%s, %s, '', %s, '', 'clean', 0, '{}')",
                [str(path), sha256(path), timezone.now()],
            )
        yield
    finally:
        blocker.rollback()
        blocker.close()


def _poll(check, what: str, log: Path | None = None):
    """The first true result of ``check()``, tried every 50 ms for up to WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    output = log.read_text(errors="replace")[-4000:] if log else ""
    pytest.fail(f"waited {WAIT_SECONDS} s for {what}\n{output}")


def _import_waiting(process: subprocess.Popen, log: Path, other_than: int = 0) -> int | None:
    """The database session (backend pid) of an import waiting to insert a ``UsageFile`` row
    that ``holding_usage_file_path`` holds, other than ``other_than``; fails at once if the
    worker process has exited."""
    if process.poll() is not None:
        output = log.read_text(errors="replace")[-4000:]
        pytest.fail(f"the worker process exited ({process.returncode})\n{output}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid NOT IN (pg_backend_pid(), %s) AND wait_event_type = 'Lock'"
            " AND (query LIKE %s OR query LIKE %s)",
            # On the held content, or on the import lock a killed import's session still holds.
            [other_than, f'UPDATE "{UsageFile._meta.db_table}"%', "SELECT pg_advisory_xact_lock%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _session_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def _pool_processes(pid: int) -> list[int]:
    """The child processes of a worker (Linux)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@dataclass(frozen=True)
class UsageDirectory:
    path: Path
    first: Path
    second: Path


@pytest.fixture
def usage_directory(redis_on_postgresql, tmp_path, pi) -> UsageDirectory:
    """Two usage files of one allocation: 12 GPU-hours in the first, 10.5 in the second."""
    allocation = make_allocation(pi=pi, awarded={make_resource(): 1_000})
    ClusterLogin.objects.create(user=pi, cluster="jupiter", login="pi")
    acct = allocation.account
    directory = tmp_path / "sacct"
    directory.mkdir()
    day = date(2027, 6, 1)
    first = write(
        directory / "jupiter_2027-06-01.txt",
        job(acct, "201", user="pi", gpus=4, seconds=3_600, ended=day),  # 4 GPU-hours
        job(acct, "202", user="pi", gpus=4, seconds=7_200, ended=day),  # 8
    )
    second = write(
        directory / "jupiter_2027-06-02.txt",
        job(acct, "203", user="pi", gpus=2, seconds=3_600, ended=day),  # 2
        job(acct, "204", user="pi", gpus=8, seconds=3_600, ended=day),  # 8
        job(acct, "205", user="pi", gpus=1, seconds=1_800, ended=day),  # 0.5
    )
    return UsageDirectory(directory, first, second)


def _worker_env(directory: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "USAGE_IMPORT_DIR": str(directory),
    }


def _assert_both_files_imported_once(usage: UsageDirectory) -> None:
    assert usage_files() == [
        (str(usage.first), sha256(usage.first)),
        (str(usage.second), sha256(usage.second)),
    ]
    # Jobs 201–205: 4 + 8 + 2 + 8 + 0.5 GPU-hours, all the PI's.
    assert sum(amount for amount, _ in usage_entries()) == Decimal("-22.5")
    assert {user for _, user in usage_entries()} == {"pi@uni.example"}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_loses_nothing(
    redis_on_postgresql, settings, tmp_path, usage_directory
):
    """A worker is killed (SIGKILL to it and its pool process; prefork, as production runs it)
    in the middle of the usage import: after it committed the first file, inside the
    transaction of the second. Its task message is not lost: with late acknowledgement
    (``CELERY_TASK_ACKS_LATE``) it was not acknowledged when the job started, so Redis keeps it
    among the unacknowledged messages, and once the visibility timeout has passed (3 s for the
    next worker here; kombu's default is an hour) the next worker takes it and runs the whole
    job again. Nothing is charged twice: the first file is skipped (it was recorded with its
    hash in the transaction of its entries), the second is imported from scratch (its
    half-done transaction died with the killed worker's database session).

    The worker is caught at a known point rather than after a guessed delay: a second
    connection holds the second file's ``UsageFile`` row uncommitted, as a concurrent import of
    that file would, so the worker waits on it, visibly in ``pg_stat_activity``, and is killed
    there. None of our code is replaced. Needs PostgreSQL: the killed worker is a separate
    process on the test database.
    """
    url = redis_on_postgresql
    usage = usage_directory
    settings.USAGE_IMPORT_DIR = str(usage.path)  # for the next worker, in this process
    # The next worker looks for abandoned messages every second, and takes those unacknowledged
    # for 3 s. The killed worker keeps kombu's default (an hour), so it cannot restore its own
    # message while it runs it.
    redelivery = {
        "visibility_timeout": 3,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    log = tmp_path / "killed-worker.log"

    with (
        celery_on_redis(url, redelivery) as prefix,
        redis.Redis.from_url(url, socket_timeout=5) as broker,
    ):
        killed = worker_process(
            url=url,
            transport_options={"global_keyprefix": prefix},
            env=_worker_env(usage.path),
            log=log,
        )
        with holding_usage_file_path(usage.second), killed as process:
            import_usage_directory.apply_async()
            session = _poll(lambda: _import_waiting(process, log), "the import to wait", log)
            os.killpg(process.pid, signal.SIGKILL)
            assert process.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL
        # The row is released: the killed worker's session ends, its transaction rolled back.
        _poll(lambda: _session_gone(session), "the killed worker's database session to end")

        assert usage_files() == [(str(usage.first), sha256(usage.first))]
        assert sum(amount for amount, _ in usage_entries()) == Decimal(-12)  # jobs 201, 202
        # Not lost: unacknowledged, waiting for the visibility timeout; not in the queue yet.
        assert (broker.hlen(f"{prefix}unacked"), broker.llen(f"{prefix}celery")) == (1, 0)

        with worker_in_thread() as runs:
            assert wait_for(runs, 1) == [(IMPORT, {}, "SUCCESS")]
            _poll(lambda: broker.hlen(f"{prefix}unacked") == 0, "the acknowledgement")
        assert broker.llen(f"{prefix}celery") == 0

    _assert_both_files_imported_once(usage)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_job_loses_nothing(
    redis_on_postgresql, tmp_path, usage_directory
):
    """The pool process running the usage import is killed (SIGKILL, as the kernel's OOM
    killer does) where the previous test kills the whole worker. The worker survives it and,
    with ``CELERY_TASK_REJECT_ON_WORKER_LOST`` beside late acknowledgement, puts the message
    back in the queue at once instead of recording a failure: a new pool process runs the whole
    job again, without waiting for any visibility timeout (the worker keeps kombu's hour).
    Again every job is charged once and each file recorded once.
    """
    url = redis_on_postgresql
    usage = usage_directory
    log = tmp_path / "worker.log"

    with (
        celery_on_redis(url) as prefix,
        redis.Redis.from_url(url, socket_timeout=5) as broker,
        worker_process(
            url=url,
            transport_options={"global_keyprefix": prefix},
            env=_worker_env(usage.path),
            log=log,
        ) as process,
    ):
        with holding_usage_file_path(usage.second):
            import_usage_directory.apply_async()
            killed = _poll(lambda: _import_waiting(process, log), "the import to wait", log)
            [pool_process] = _pool_processes(process.pid)
            os.kill(pool_process, signal.SIGKILL)
            # The same job again, in a new pool process, waiting on the same row.
            _poll(
                lambda: _import_waiting(process, log, other_than=killed),
                "the job to run again",
                log,
            )
            assert usage_files() == [(str(usage.first), sha256(usage.first))]
        _poll(lambda: len(usage_files()) == 2, "the second file to be imported", log)
        _poll(lambda: broker.hlen(f"{prefix}unacked") == 0, "the acknowledgement", log)
        assert broker.llen(f"{prefix}celery") == 0
        assert process.poll() is None  # the worker itself lived on

    _assert_both_files_imported_once(usage)
