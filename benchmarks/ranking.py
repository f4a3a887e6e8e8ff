"""Benchmark: the committee's ranking page of a call at the scale of PRODUCT §10 (3,000
proposals, 9,000 submitted scientific reviews with scores, 600 reviewers; pages under 200 ms
on a 2-core machine with PostgreSQL).

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/allot_rankbench \\
        .venv/bin/python benchmarks/ranking.py [--runs 5]

The database is created if missing and migrated. The call comes from
``benchmarks.build_call`` (proposals, requests, reviewers, conflicts; no reviews), and this
script adds, once, what the ranking reads: ``--reviews-per-proposal`` submitted scientific
reviews per proposal with a score per criterion (reviewers with a leniency of their own, never
a pair in conflict), a submitted technical review per proposal with a verdict and recommended
amounts, and a committee member with two conflicts. It then renders the ranking page through
Django's test client as that committee member and prints the median and best of ``--runs``
(after one warm-up), the number of queries, the size of the page, and the same for the CSV
export and for the selector alone.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

from benchmarks.database import setup_on_postgresql  # noqa: E402

COMMITTEE_EMAIL = "bench-committee@bench.allot.example"
TECHNICAL_STAFF = 20


def add_reviews(call, per_proposal: int, seed: int = 5303) -> int:
    """Submitted scientific reviews with scores and a technical review per proposal, unless
    the call has scored reviews already. Returns the number of scientific reviews added."""
    from django.db import transaction
    from django.utils import timezone

    from proposals.review.models import ReviewScore
    from proposals.submission.models import Proposal

    if ReviewScore.objects.filter(review__proposal__call=call).exists():
        return 0
    # One generator, drawn from in this order: the same seed gives the same reviews.
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        proposals = list(Proposal.objects.filter(call=call).values_list("id", flat=True))
        added = _scientific_reviews(call, proposals, per_proposal, rng, now)
        _technical_reviews(call, proposals, rng, now)
    return added


def _scientific_reviews(call, proposals: list[int], per_proposal: int, rng, now) -> int:
    """``per_proposal`` submitted reviews of each proposal by reviewers of the pool (never a
    pair in conflict), scored by the proposal's quality and the reviewer's leniency."""
    from datetime import timedelta

    from proposals.calls.enums import CallRoleKind
    from proposals.calls.models import CallRole
    from proposals.review.enums import BLOCKING_CONFLICTS, Recommendation, ReviewKind, ReviewState
    from proposals.review.models import Conflict, Review, ReviewScore

    criteria = list(call.criteria.order_by("position"))
    pool = list(
        CallRole.objects.filter(call=call, role=CallRoleKind.REVIEWER).values_list(
            "user_id", flat=True
        )
    )
    blocked = set(
        Conflict.objects.filter(proposal__call=call, status__in=BLOCKING_CONFLICTS).values_list(
            "proposal_id", "reviewer_id"
        )
    )
    leniency = {reviewer: rng.gauss(0, 0.6) for reviewer in pool}
    quality = {proposal: rng.uniform(1.0, 4.6) for proposal in proposals}
    recommendations = list(Recommendation.values)

    def value(proposal: int, reviewer: int) -> int:
        raw = quality[proposal] + leniency[reviewer] + rng.gauss(0, 0.5)
        return max(0, min(5, round(raw)))

    reviews = []
    for proposal in proposals:
        chosen: list[int] = []
        while len(chosen) < per_proposal:
            reviewer = rng.choice(pool)
            if reviewer not in chosen and (proposal, reviewer) not in blocked:
                chosen.append(reviewer)
        for reviewer in chosen:
            reviews.append(
                Review(
                    proposal_id=proposal,
                    reviewer_id=reviewer,
                    kind=ReviewKind.SCIENTIFIC,
                    state=ReviewState.SUBMITTED,
                    due_at=now + timedelta(days=20),
                    submitted_at=now - timedelta(hours=rng.randint(1, 400)),
                    comment_to_applicant="A solid plan; the scaling study is convincing.",
                    confidential_comment="The team has delivered before.",
                    recommendation=rng.choice(recommendations),
                )
            )
    reviews = Review.objects.bulk_create(reviews, batch_size=2000)
    ReviewScore.objects.bulk_create(
        [
            ReviewScore(
                review_id=review.pk,
                criterion=criterion,
                value=value(review.proposal_id, review.reviewer_id),
            )
            for review in reviews
            for criterion in criteria
        ],
        batch_size=5000,
    )
    return len(reviews)


def _technical_reviews(call, proposals: list[int], rng, now) -> None:
    """A submitted technical review of each proposal by one of ``TECHNICAL_STAFF`` people, with
    a verdict and recommended amounts (the request, or less)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from proposals.review.enums import ReviewKind, ReviewState, TechnicalVerdict
    from proposals.review.models import Review, TechnicalRecommendation
    from proposals.submission.models import ResourceRequest

    password = make_password(None)
    staff = User.objects.bulk_create(
        [
            User(
                email=f"technical{n:02d}@bench.allot.example",
                password=password,
                full_name=f"Technical {n:02d}",
                affiliation="Benchmark Centre",
                country="DE",
            )
            for n in range(1, TECHNICAL_STAFF + 1)
        ]
    )
    verdicts = [
        TechnicalVerdict.FEASIBLE,
        TechnicalVerdict.FEASIBLE,
        TechnicalVerdict.FEASIBLE_WITH_CHANGES,
        TechnicalVerdict.NOT_FEASIBLE,
    ]
    technical = Review.objects.bulk_create(
        [
            Review(
                proposal_id=proposal,
                reviewer=rng.choice(staff),
                kind=ReviewKind.TECHNICAL,
                state=ReviewState.SUBMITTED,
                due_at=now + timedelta(days=20),
                submitted_at=now - timedelta(hours=rng.randint(1, 400)),
                verdict=rng.choice(verdicts),
                confidential_comment="Scales to 256 GPUs.",
            )
            for proposal in proposals
        ],
        batch_size=2000,
    )
    requests: dict[int, list] = {}
    for request in ResourceRequest.objects.filter(proposal__call=call):
        requests.setdefault(request.proposal_id, []).append(request)
    TechnicalRecommendation.objects.bulk_create(
        [
            TechnicalRecommendation(
                review_id=review.pk,
                call_resource_id=request.call_resource_id,
                amount=(request.amount * Decimal(rng.choice([1, 1, 0.8, 0.5]))).quantize(
                    Decimal(1)
                ),
            )
            for review in technical
            for request in requests.get(review.proposal_id, [])
        ],
        batch_size=5000,
    )


def committee_member(call):
    """A committee member of the call, in conflict with two proposals (rows hidden)."""
    from accounts.models import User
    from proposals.calls.enums import CallRoleKind
    from proposals.calls.models import CallRole
    from proposals.review.enums import ConflictReason, ConflictStatus
    from proposals.review.models import Conflict, Review

    user, _ = User.objects.get_or_create(
        email=COMMITTEE_EMAIL, defaults={"full_name": "Bench Committee"}
    )
    CallRole.objects.get_or_create(
        call=call, role=CallRoleKind.COMMITTEE, email=user.email, defaults={"user": user}
    )
    reviewed = Review.objects.filter(reviewer=user).values("proposal_id")
    for proposal in call.proposals.exclude(pk__in=reviewed).order_by("reference_number")[:2]:
        Conflict.objects.get_or_create(
            proposal=proposal,
            reviewer=user,
            reason=ConflictReason.DECLARED,
            defaults={"status": ConflictStatus.DECLARED, "detail": "Benchmark."},
        )
    return user


def figures(label: str, seconds: list[float], extra: str = "") -> str:
    return (
        f"{label:<30} median {statistics.median(seconds) * 1000:7.1f} ms   "
        f"best {min(seconds) * 1000:7.1f} ms   ({len(seconds)} runs){extra}"
    )


def timed(function, runs: int) -> list[float]:
    function()  # warm-up: template compilation, translations, connection
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=3000)
    parser.add_argument("--reviewers", type=int, default=600)
    parser.add_argument("--reviews-per-proposal", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    setup_on_postgresql()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic here: plain static URLs instead of the manifest (a dict lookup either way).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call, user = prepared_call(args.proposals, args.reviewers, args.reviews_per_proposal)
    measure(call, user, args.runs)


def prepared_call(proposals: int, reviewers: int, per_proposal: int):
    """The call with its reviews, and the committee member who reads its ranking."""
    from django.db import connection

    from benchmarks.build_call import build_call
    from proposals.review.models import Review

    start = time.perf_counter()
    call = build_call(proposals, reviewers, per_proposal)
    added = add_reviews(call, per_proposal)
    user = committee_member(call)
    if added:
        # Fresh statistics for the planner, as autovacuum would give them after a bulk load.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"call {call.code}: ready in {time.perf_counter() - start:.1f} s"
        + (f" ({added:,} scientific reviews added)" if added else "")
    )
    reviews = Review.objects.filter(proposal__call=call, state="submitted")
    print(
        f"{call.proposals.count():,} proposals, "
        f"{reviews.filter(kind='scientific').count():,} submitted scientific reviews, "
        f"{reviews.filter(kind='technical').count():,} technical reviews, "
        f"{call.roles.filter(role='reviewer').count():,} reviewers"
    )
    return call, user


def measure(call, user, runs: int) -> None:
    """The ranking page, its CSV export, the selector alone and the last page, as ``user``."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from proposals.review.selectors.ranking import call_ranking

    client = Client()
    client.force_login(user)
    page = reverse("call_ranking", args=[call.pk])
    export = reverse("call_ranking_csv", args=[call.pk])
    sizes = {}

    def get(path: str):
        def run():
            response = client.get(path, secure=True)
            assert response.status_code == 200, response.status_code
            sizes[path] = len(response.content)

        return run

    def count_queries(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            get(path)()
        return len(queries)

    ranking = call_ranking(call=call, user=user, page=1)
    page_seconds = timed(get(page), runs)
    page_queries = count_queries(page)
    print(
        figures(
            "ranking page (GET)",
            page_seconds,
            f"   {page_queries} queries, {len(ranking.rows)} of {ranking.total:,} rows "
            f"({ranking.hidden} hidden), {sizes[page] / 2**10:.0f} KiB of HTML",
        )
    )
    csv_seconds = timed(get(export), runs)
    print(
        figures(
            "ranking CSV (GET)",
            csv_seconds,
            f"   {count_queries(export)} queries, {sizes[export] / 2**20:.1f} MiB",
        )
    )
    selector_seconds = timed(lambda: call_ranking(call=call, user=user, page=1), runs)
    print(figures("call_ranking selector, 1 page", selector_seconds))
    last = reverse("call_ranking", args=[call.pk]) + f"?page={ranking.pages}"
    print(figures(f"ranking page {ranking.pages} (GET)", timed(get(last), runs)))
    verdict = "met" if statistics.median(page_seconds) < 0.2 else "NOT met"
    print(f"target: ranking page under 200 ms (PRODUCT §10): {verdict}")


if __name__ == "__main__":
    main()
