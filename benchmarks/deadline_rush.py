"""The deadline rush (PRODUCT §10): 100 applicants submit at the same second over HTTP.

Starts gunicorn with the production settings (DEBUG off, SECRET_KEY and ALLOWED_HOSTS set,
secure cookies, behind a TLS proxy as docker-compose runs it: every request says
``X-Forwarded-Proto: https``) on a fresh PostgreSQL database that this script creates and
migrates, with the static files collected (as the image does). Celery tasks are queued to
Redis (``CELERY_BROKER_URL``, database 6 by default, emptied first); no worker runs, so every
receipt stays queued and can be counted.

Before the rush: an open call whose deadline is a week ahead, N applicants (verified email,
complete profile) each with a complete draft (started through ``proposal_start``, as in the
tests), a session per applicant created in the database (as a sign-in would), and each
applicant's CSRF token fetched over HTTP from their proposal page. Then one thread per
applicant waits on a barrier and POSTs ``/proposals/<id>/submit/`` with its cookie and token.

Afterwards it checks: every answer is the redirect to the proposal page, every proposal is
submitted with exactly one version and a distinct reference, exactly one receipt is queued per
applicant in the outbox, and Redis holds one send task per receipt. It prints the errors and the
p50/p95/max latency of the submissions.

    .venv/bin/python benchmarks/deadline_rush.py [--applicants 100] [--workers 3]
"""

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/allot_rush"
DEFAULT_BROKER = "redis://127.0.0.1:6379/6"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(url: str) -> None:
    """Drop and create the database of ``url``: the rush starts from nothing."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def production_environment(args, port: int, media: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": args.database,
        "CELERY_BROKER_URL": args.broker,
        "CACHE_URL": args.broker,
        "MEDIA_ROOT": media,
        "STATIC_ROOT": str(Path(media) / "static"),
        "LOG_LEVEL": "WARNING",
    }


def build_world(applicants: int):
    """The call, the applicants, their complete drafts and their sessions (in the database)."""
    from datetime import timedelta
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from tests.conftest import COMPLETE_PROFILE
    from tests.factories import make_call
    from tests.proposal_factories import complete_proposal

    call = make_call("RUSH 2027-1", closes_in=timedelta(days=7), reference_prefix="RUSH27-1")
    password = make_password(None)  # nobody signs in with a password: sessions are made here
    store = import_module(settings.SESSION_ENGINE).SessionStore
    people = []
    for n in range(applicants):
        email = f"pi{n:03d}@uni{n % 17}.example"
        user = User.objects.create(
            email=email, password=password, full_name=f"Applicant {n:03d}", **COMPLETE_PROFILE
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        proposal = complete_proposal(call, user, acronym=f"RUSH-{n:03d}")
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        people.append((user.pk, proposal.pk, session.session_key))
    return call.pk, people, settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applicants", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (as deployed)")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--broker", default=DEFAULT_BROKER)
    args = parser.parse_args()

    import redis

    port = free_port()
    media = tempfile.mkdtemp(prefix="allot-rush-media-")
    env = production_environment(args, port, media)
    os.environ.update(env)
    fresh_database(args.database)
    broker = redis.Redis.from_url(args.broker)
    broker.flushdb()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as the image does
    started = time.perf_counter()
    call_pk, people, session_cookie, csrf_cookie = build_world(args.applicants)
    print(
        f"built {len(people)} applicants with complete drafts in "
        f"{time.perf_counter() - started:.1f} s"
    )

    from django.db import connection

    connection.close()
    server = start_gunicorn(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    origin = f"https://127.0.0.1:{port}"
    proxy = {"X-Forwarded-Proto": "https"}
    try:
        prepared = prepare(base, proxy, people, session_cookie, csrf_cookie)
        results, wall = rush(base, origin, proxy, prepared, session_cookie, csrf_cookie)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    latencies = sorted(seconds * 1000 for seconds, _ in results.values())
    errors = [f"applicant {pk}: {outcome}" for pk, (_, outcome) in results.items() if outcome]
    errors += check_outcome(call_pk, people, broker)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"{len(results)} submissions over HTTP, {args.workers} gunicorn workers, "
        f"all within {wall:.2f} s"
    )
    print(
        f"latency ms: p50 {statistics.median(latencies):.0f}  p95 {p95:.0f}  "
        f"max {latencies[-1]:.0f}"
    )
    print(f"errors: {len(errors)}")
    for error in errors:
        print(f"  {error}")


def prepare(base: str, proxy: dict, people, session_cookie: str, csrf_cookie: str) -> list:
    """Each applicant opens their proposal page (over HTTP, signed in): the CSRF cookie and the
    form's token, as a browser would have them before pressing Submit."""
    import requests

    prepared = []
    for user_pk, proposal_pk, session_key in people:
        page = requests.get(
            f"{base}/proposals/{proposal_pk}/",
            headers={**proxy, "Cookie": f"{session_cookie}={session_key}"},
            allow_redirects=False,
            timeout=30,
        )
        token = page.cookies.get(csrf_cookie)
        marker = 'name="csrfmiddlewaretoken" value="'
        start = page.text.find(marker)
        if page.status_code != 200 or not token or start < 0:
            sys.exit(f"proposal page of applicant {user_pk}: {page.status_code}")
        form_token = page.text[start + len(marker) :].split('"', 1)[0]
        prepared.append((user_pk, proposal_pk, session_key, token, form_token))
    return prepared


def rush(
    base: str, origin: str, proxy: dict, prepared: list, session_cookie: str, csrf_cookie: str
) -> tuple[dict[int, tuple[float, str]], float]:
    """Every applicant submits at once (a thread each behind a barrier); the seconds and the
    error ("" when none) per applicant, and the wall time of the whole rush."""
    import requests

    barrier = threading.Barrier(len(prepared))
    results: dict[int, tuple[float, str]] = {}

    def submit(user_pk, proposal_pk, session_key, token, form_token) -> None:
        url = f"{base}/proposals/{proposal_pk}/submit/"
        headers = {
            **proxy,
            "Cookie": f"{session_cookie}={session_key}; {csrf_cookie}={token}",
            "Origin": origin,
            "Referer": f"{origin}/proposals/{proposal_pk}/",
        }
        with requests.Session() as http:
            barrier.wait(timeout=60)
            begin = time.perf_counter()
            try:
                answer = http.post(
                    url,
                    data={"csrfmiddlewaretoken": form_token},
                    headers=headers,
                    allow_redirects=False,
                    timeout=60,
                )
                expected = f"/proposals/{proposal_pk}/"
                if answer.status_code == 302 and answer.headers["Location"] == expected:
                    outcome = ""
                else:
                    outcome = f"HTTP {answer.status_code} {answer.headers.get('Location', '')}"
            except requests.RequestException as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            results[user_pk] = (time.perf_counter() - begin, outcome)

    threads = [threading.Thread(target=submit, args=row) for row in prepared]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def check_outcome(call_pk: int, people, broker) -> list[str]:
    """Every proposal submitted once with a distinct reference; one receipt queued each."""
    from django.db.models import Count

    from notifications.models import OutboxMessage
    from proposals.submission.models import Proposal

    problems = []
    proposals = Proposal.objects.filter(call_id=call_pk).annotate(version_count=Count("versions"))
    references = [proposal.reference for proposal in proposals]
    for proposal in proposals:
        if proposal.status != "submitted" or proposal.version_count != 1:
            problems.append(
                f"proposal {proposal.pk}: {proposal.status}, {proposal.version_count} versions"
            )
    if None in references or len(set(references)) != len(people):
        problems.append(f"{len(set(references) - {None})} distinct references for {len(people)}")
    receipts = OutboxMessage.objects.filter(kind="proposal-submitted")
    per_user = dict(receipts.values_list("user_id").annotate(n=Count("id")))
    for user_pk, _, _ in people:
        if per_user.get(user_pk) != 1:
            problems.append(f"applicant {user_pk}: {per_user.get(user_pk, 0)} receipts queued")
    queued_tasks = broker.llen("celery")
    if queued_tasks != receipts.count():
        problems.append(f"{queued_tasks} send tasks in Redis for {receipts.count()} receipts")
    print(
        f"checked: {len(set(references) - {None})} distinct references, "
        f"{receipts.count()} receipts in the outbox, {queued_tasks} send tasks in Redis"
    )
    return problems


if __name__ == "__main__":
    main()
