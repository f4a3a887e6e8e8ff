"""Benchmark: every page at the scale of PRODUCT §10, as every persona.

Builds (or reuses, keyed by ``--world``) one world with bulk inserts: a call in review with
3,000 proposals, 9,000 submitted scientific reviews (and a technical review each) and 600
reviewers (``benchmarks.build_call``, ``benchmarks.ranking``); 5,000 active allocations on a
monthly quota with a month of daily usage in the ledger (``benchmarks.build_allocations``);
an outbox of 30,000 messages and an audit trail of 20,000 entries on the call.

Then it signs in as each persona (a call manager whose session passed the second factor, a
committee member, a reviewer, an applicant with a proposal and an allocation, an outsider) and
requests with GET every URL pattern of the URL conf (the admin's aside) with real ids for that
persona, through Django's test client. For each page the persona reaches (200) it prints the
median and p95 of ``--runs`` requests (after one warm-up), the queries, the HTML size and the
objects one request leaves for the garbage collector, and flags what breaks PRODUCT §10: a
median over 200 ms, more than 15 queries, more than 500 KB. Pages answering 403, 404 or 405
(POST only) are counted, not timed.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/allot_scale_bench \\
        .venv/bin/python benchmarks/pages.py [--world scale] [--runs 5] [--only manage/]
"""

import argparse
import gc
import os
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

from benchmarks.database import setup_on_postgresql  # noqa: E402

LIMIT_MS = 200
LIMIT_QUERIES = 15
LIMIT_BYTES = 500 * 1000
# Downloads of a whole call or allocation (exports, the panel book): files, not pages. They are
# measured once each and listed without flags: §10's limits are for pages people read.
FILES = (".csv", ".xlsx", ".pdf")
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


# --- The world -------------------------------------------------------------------------------


def build_world(name: str):
    """The call, the allocations, the outbox and the audit trail (each reused when there)."""
    from django.db import connection

    from benchmarks.build_allocations import build_allocations
    from benchmarks.build_call import build_call
    from benchmarks.ranking import add_reviews
    from tests.allocation_factories import period_around_today

    start = time.perf_counter()
    call = build_call(proposals=3000, reviewers=600, reviews_per_proposal=3)
    added = add_reviews(call, per_proposal=3)
    period_start, period_end = period_around_today(started_months_ago=3, months=12)
    prefix = f"{name}{period_start:%y%m}"
    resource, allocations = build_allocations(
        5000,
        prefix=prefix,
        cluster=f"{prefix}cluster",
        start=period_start,
        end=period_end,
        awarded=Decimal(120_000),
        policy="monthly",
    )
    usage = add_daily_usage(allocations, resource, name)
    messages = add_outbox(name, 30_000)
    entries = add_audit(call, name, 20_000)
    if added or usage or messages or entries:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"world {name!r} ready in {time.perf_counter() - start:.1f} s: call {call.code} "
        f"(3,000 proposals, 9,000 reviews, 600 reviewers), {len(allocations):,} allocations"
    )
    return call, allocations


def add_daily_usage(allocations, resource, name: str) -> int:
    """30 days of usage per allocation, one ledger row a day (PRODUCT §8 charges per day)."""
    from django.utils import timezone

    from allocations.enums import LedgerKind
    from allocations.models import LedgerEntry

    marker = f"{name}:daily:"
    if LedgerEntry.objects.filter(source__startswith=marker).exists():
        return 0
    rng = random.Random(1510)
    today = timezone.localdate()
    tz = allocations[0].proposal.call.tz
    rows = []
    for allocation in allocations:
        # Monthly share 10,000: from a quiet project to one at low priority.
        daily = Decimal(rng.choice([50, 150, 300, 330, 450, 700]))
        for back in range(1, 31):
            day = today - timedelta(days=back)
            rows.append(
                LedgerEntry(
                    allocation=allocation,
                    resource=resource,
                    kind=LedgerKind.USAGE,
                    amount=-daily,
                    user=allocation.pi,
                    occurred_at=datetime.combine(day, clock(12), tzinfo=tz),
                    source=f"{marker}{allocation.pk}:{day:%Y%m%d}",
                )
            )
    LedgerEntry.objects.bulk_create(rows, batch_size=10_000)
    return len(rows)


def add_outbox(name: str, count: int) -> int:
    from django.utils import timezone

    from notifications.models import OutboxMessage

    if OutboxMessage.objects.filter(event__startswith=f"{name}:").exists():
        return 0
    now = timezone.now()
    statuses = ["sent"] * 17 + ["queued", "failed", "sending"]
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                kind="review-assigned",
                event=f"{name}:bench:{n}",
                recipient=f"person{n % 3000}@bench.allot.example",
                subject=f"[Allot] Benchmark message {n}",
                body_text="A benchmark message.\n" * 20,
                body_html="<p>A benchmark message.</p>" * 20,
                status=statuses[n % len(statuses)],
                attempts=1,
                last_error="SMTP 451 try again later" if n % 20 == 18 else "",
                sent_at=now if n % 20 < 17 else None,
            )
            for n in range(count)
        ],
        batch_size=5000,
    )
    return count


def add_audit(call, name: str, count: int) -> int:
    from proposals.calls.models import AuditEntry

    if AuditEntry.objects.filter(call=call, action=f"{name}.bench").exists():
        return 0
    proposals = list(call.proposals.values_list("pk", flat=True)[:3000])
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                call=call,
                subject_type="proposal",
                subject_id=proposals[n % len(proposals)],
                action=f"{name}.bench",
                before={"status": "submitted"},
                after={"status": "under_review", "n": n},
            )
            for n in range(count)
        ],
        batch_size=5000,
    )
    return count


# --- The personas ----------------------------------------------------------------------------


def personas(call, allocations, name: str) -> dict:
    """Each persona's client (signed in) and the ids of what it may open."""
    from django.test import Client

    from accounts.models import User
    from benchmarks.ranking import committee_member
    from notifications.models import OutboxMessage
    from proposals.calls.models import CallRole
    from proposals.review.models import Conflict, Review
    from tests.conftest import make_manager, make_user, record_second_factor

    email = f"{name}-manager@bench.allot.example"
    manager = User.objects.filter(email=email).first() or make_manager(email)
    outsider_email = f"{name}-outsider@bench.allot.example"
    outsider = User.objects.filter(email=outsider_email).first() or make_user(outsider_email)
    committee = committee_member(call)
    review = Review.objects.filter(proposal__call=call, kind="scientific").order_by("pk").first()
    first = call.proposals.order_by("reference_number").first()
    allocation = allocations[0]
    applicant = allocation.pi
    any_ids = {
        "call": call.pk,
        "proposal": first.pk,
        "allocation": allocation.pk,
        "review": review.pk,
        "conflict": Conflict.objects.filter(proposal__call=call).values_list("pk", flat=True)[0],
        "role": CallRole.objects.filter(call=call).values_list("pk", flat=True)[0],
        "message": OutboxMessage.objects.values_list("pk", flat=True).first(),
    }
    cast = {
        "manager": (manager, any_ids),
        "committee": (committee, any_ids),
        "reviewer": (review.reviewer, {**any_ids, "proposal": review.proposal_id}),
        "applicant": (applicant, {**any_ids, "proposal": allocation.proposal_id}),
        "outsider": (outsider, any_ids),
    }
    clients = {}
    for role, (user, ids) in cast.items():
        client = Client()
        client.force_login(user)
        if role == "manager":
            record_second_factor(client, user)
        clients[role] = (client, ids)
    return clients


# --- The URLs --------------------------------------------------------------------------------


def routes() -> list[str]:
    """Every route of the URL conf but the admin's and those with a secret or a regular
    expression in them (emailed keys, invitation tokens)."""
    from django.urls import get_resolver

    from tests.url_walk import _routes

    return [
        route
        for route in _routes(get_resolver().url_patterns)
        if not route.startswith("admin/")
        and "(?P<" not in route
        and "^" not in route
        and "<str:token>" not in route
    ]


def fill(route: str, ids: dict) -> str:
    """The route with each parameter given the persona's id of that kind of object."""

    def value(match: re.Match) -> str:
        parameter = match["name"]
        if parameter == "pk":
            kind = route.removeprefix("manage/").split("/", 1)[0]
            return str(
                ids.get({"calls": "call", "allocations": "allocation"}.get(kind), ids["proposal"])
            )
        return str(
            {
                "section": "general",
                "number": 1,
                "review_pk": ids["review"],
                "conflict_pk": ids["conflict"],
                "role_pk": ids["role"],
                "message_id": ids["message"],
                "proposal_pk": ids["proposal"],
            }.get(parameter, 1)
        )

    return "/" + PARAMETER.sub(value, route)


def measure(client, path: str, runs: int):
    """(status, [seconds], queries, bytes, objects left for the GC) of GET ``path``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(path, secure=True)
    if first.status_code != 200:
        return first.status_code, [], 0, 0, 0
    seconds = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        answer = client.get(path, secure=True)
        if answer.streaming:  # a streamed export is timed until its last byte
            for _chunk in answer.streaming_content:
                pass
        seconds.append(time.perf_counter() - start)
    gc.collect()
    gc.disable()
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)
        left = gc.collect()
    finally:
        gc.enable()
    size = (
        sum(map(len, response.streaming_content)) if response.streaming else len(response.content)
    )
    return response.status_code, seconds, len(queries), size, left


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="scale", help="name of the world (reused if built)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="only routes starting with this")
    parser.add_argument("--persona", action="append", help="only these personas")
    args = parser.parse_args()

    setup_on_postgresql()
    from django.conf import settings

    # Start as gunicorn's workers do (config/wsgi.py): what start-up loaded is out of the
    # garbage collector's sight, so a page pays for its own garbage, not for walking the
    # whole process. The world built below is not frozen.
    import config.wsgi  # noqa: F401

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic here: plain static URLs instead of the manifest (a dict lookup either way).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    import logging

    # Each refused page (403, 404, 405) would log a warning with its traceback.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("django.security").setLevel(logging.ERROR)
    call, allocations = build_world(args.world)
    cast = personas(call, allocations, args.world)
    flagged = 0
    header = (
        f"{'persona':<10} {'route':<52} {'median':>8} {'p95':>8} {'queries':>7} "
        f"{'KB':>7} {'gc':>7}  flags"
    )
    print(header)
    for role, (client, ids) in cast.items():
        if args.persona and role not in args.persona:
            continue
        refused: dict[int, int] = {}
        for route in routes():
            if not route.startswith(args.only):
                continue
            is_file = route.endswith(FILES)
            status, seconds, queries, size, left = measure(
                client, fill(route, ids), 1 if is_file else args.runs
            )
            if status != 200:
                refused[status] = refused.get(status, 0) + 1
                continue
            median = statistics.median(seconds) * 1000
            flags = [
                text
                for text, broken in (
                    (f"> {LIMIT_MS} ms", median > LIMIT_MS),
                    (f"> {LIMIT_QUERIES} queries", queries > LIMIT_QUERIES),
                    ("> 500 KB", size > LIMIT_BYTES),
                )
                if broken and not is_file
            ] or (["file (not a page)"] if is_file else [])
            flagged += bool(flags) and not is_file
            print(
                f"{role:<10} /{route:<51} {median:6.1f}ms {p95(seconds) * 1000:6.1f}ms "
                f"{queries:>7} {size / 1000:>7.1f} {left:>7}  {', '.join(flags)}"
            )
        others = ", ".join(f"{n} × {status}" for status, n in sorted(refused.items()))
        print(f"{role:<10} not timed: {others}")
    print(f"pages over a limit: {flagged}")


if __name__ == "__main__":
    main()
