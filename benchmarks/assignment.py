"""Benchmark: the reviewer-assignment suggestion for a whole call (PRODUCT §10: under 10 s for
3,000 proposals, 9,000 reviews and 600 reviewers, on a 2-core machine with PostgreSQL).

Run from the repository root::

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/allot_bench
    .venv/bin/python benchmarks/assignment.py [--apply] [--pages]

The database is created if missing and migrated; the call is built with
``benchmarks.build_call`` the first time and reused afterwards. Prints, for the suggestion end
to end (``assignment_suggest``: reads, solver, result) and for the solver alone: seconds (best
and median of ``--runs``), pairs suggested, reviewers still missing, the share of pairs whose
reviewer works in the proposal's field, and peak memory. With ``--apply`` it also times
``assignment_apply`` of the whole suggestion inside a transaction that is rolled back, and
with ``--pages`` the assignment page and the preview through the test client.
"""

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

from benchmarks.database import setup_on_postgresql  # noqa: E402


def timed(function, runs: int) -> tuple[list[float], object]:
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def peak_traced(function) -> int:
    """Peak bytes allocated by Python while ``function`` runs (tracemalloc; NumPy arrays
    included, OR-Tools' own C++ memory not: see the process's maximum RSS for that)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def mib(count: float) -> str:
    return f"{count / 2**20:.0f} MiB"


def figures(label: str, seconds: list[float]) -> str:
    return (
        f"{label:<42} best {min(seconds):6.2f} s   median {statistics.median(seconds):6.2f} s"
        f"   ({len(seconds)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=3000)
    parser.add_argument("--reviewers", type=int, default=600)
    parser.add_argument("--reviews-per-proposal", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--apply", action="store_true", help="also time applying it (rolled back)")
    parser.add_argument("--pages", action="store_true", help="also time the pages")
    args = parser.parse_args()

    setup_on_postgresql()

    from benchmarks.build_call import build_call
    from proposals.review import solver
    from proposals.review.selectors.assignment import assignment_inputs
    from proposals.review.services.suggestion import assignment_suggest, solver_inputs

    code = f"BENCH {args.proposals}x{args.reviewers}x{args.reviews_per_proposal}"
    start = time.perf_counter()
    call = build_call(args.proposals, args.reviewers, args.reviews_per_proposal, code=code)
    print(f"call {call.code}: ready in {time.perf_counter() - start:.1f} s")

    def suggest():
        return assignment_suggest(call=call)

    inputs = assignment_inputs(call=call)
    proposals, reviewers = solver_inputs(call=call, inputs=inputs)

    def solve_only():
        return solver.solve(proposals, reviewers, blocked=inputs.blocked, fixed=inputs.fixed)

    suggest_seconds, suggestion = timed(suggest, args.runs)
    solver_seconds, solution = timed(solve_only, args.runs)
    candidate_pairs = len(proposals) * len(reviewers) - len(inputs.blocked)
    print(
        f"{len(proposals)} proposals × {len(reviewers)} reviewers, "
        f"{len(inputs.conflicts)} pairs in conflict, {candidate_pairs:,} candidate pairs"
    )
    print(figures("assignment_suggest (end to end)", suggest_seconds))
    print(figures("solver alone", solver_seconds))
    print(
        f"pairs suggested {len(suggestion.pairs)}, still needed before {suggestion.still_needed}, "
        f"unmet {suggestion.unmet}, proposals short {len(suggestion.problems)}"
    )
    print(
        f"field matches {suggestion.field_match_share:.1%}, "
        f"mean keyword overlap {suggestion.mean_keyword_percent}%, "
        f"solver total cost {solution.total_cost:,}"
    )
    print(f"peak Python memory, suggestion: {mib(peak_traced(suggest))}")
    print(f"peak Python memory, solver alone: {mib(peak_traced(solve_only))}")

    if args.pages:
        time_pages(call, args.runs, "")
    if args.apply:
        # With --pages, the page again with every review in place, before the rollback.
        then = (lambda: time_pages(call, args.runs, ", reviews applied")) if args.pages else None
        time_apply(call, suggestion, then)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"process maximum RSS: {mib(maxrss)}")


class RolledBack(Exception):
    pass


def time_apply(call, suggestion, then=None) -> None:
    from django.db import transaction

    from accounts.models import User
    from proposals.review.services.assignment import assignment_apply

    manager = User.objects.filter(is_superuser=True).first() or User.objects.first()
    start = time.perf_counter()
    try:
        with transaction.atomic():
            result = assignment_apply(call=call, pairs=suggestion.signed_pairs(), by=manager)
            elapsed = time.perf_counter() - start
            print(
                f"{'assignment_apply (rolled back)':<42} {elapsed:6.2f} s   "
                f"{len(result.invited)} reviews and emails, {len(result.skipped)} skipped"
            )
            if then:
                then()
            raise RolledBack
    except RolledBack:
        pass


def time_pages(call, runs: int, note: str) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from accounts.models import User

    manager, created = User.objects.get_or_create(
        email="bench-manager@bench.allot.example", defaults={"full_name": "Bench Manager"}
    )
    if created:
        manager.groups.add(Group.objects.get_or_create(name=settings.CALL_MANAGERS_GROUP)[0])
        TOTP.activate(manager, generate_totp_secret())
    client = Client()
    client.force_login(manager)
    page = reverse("manage_assignment", args=[call.pk])
    suggest = reverse("assignment_suggest", args=[call.pk])

    def get_page():
        response = client.get(page, secure=True)
        assert response.status_code == 200, response.status_code

    def post_suggest():
        response = client.post(suggest, secure=True)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    # The test client's host name, and static files without a collectstatic manifest.
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(
        ALLOWED_HOSTS=["*"], STORAGES={**settings.STORAGES, "staticfiles": static}
    ):
        print(figures(f"assignment page (GET{note})", timed(get_page, runs)[0]))
        seconds, size = timed(post_suggest, runs)
    print(figures(f"suggest + preview (POST{note})", seconds) + f"   {size / 2**20:.1f} MiB HTML")


if __name__ == "__main__":
    main()
