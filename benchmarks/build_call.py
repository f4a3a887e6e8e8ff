"""Benchmark data: one call at the scale of PRODUCT §10, bulk-created in seconds.

``build_call()`` makes a closed call in review with its resources and criteria, one PI per
proposal, the submitted proposals (references, fields, keywords, resource requests) and the
reviewer pool (users with expertise and keywords, roles with a maximum load), plus a few
confirmed and detected conflicts of interest so that assignment has pairs to avoid. No reviews:
each benchmark adds what it measures.

Reusable from any benchmark once Django is set up::

    from benchmarks.build_call import build_call
    call = build_call(proposals=3000, reviewers=600, reviews_per_proposal=3)

Deterministic (a seeded random generator) and idempotent: a call with the same code is returned
as it is. Everything is written with ``bulk_create``: no services, no emails.
"""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from allocations.models import Resource
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallCriterion, CallResource, CallRole
from proposals.review.enums import ConflictReason, ConflictStatus
from proposals.review.models import Conflict
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal, ResourceRequest

# Panels weighted as on an AI machine: computer science first, physics and life sciences next.
FIELD_WEIGHTS = {
    "PE6": 24,
    "PE2": 6,
    "PE3": 7,
    "PE4": 6,
    "PE5": 4,
    "PE1": 4,
    "PE7": 4,
    "PE8": 4,
    "PE9": 5,
    "PE10": 6,
    "PE11": 3,
    "LS1": 5,
    "LS2": 5,
    "LS3": 2,
    "LS4": 2,
    "LS5": 3,
    "LS6": 1,
    "LS7": 2,
    "LS8": 1,
    "LS9": 1,
    "LS10": 1,
    "SH1": 1,
    "SH2": 0.5,
    "SH3": 1,
    "SH4": 1,
    "SH5": 1,
    "SH6": 0.5,
    "SH7": 0.5,
    "SH8": 0.5,
}
SHARED_KEYWORDS = [
    "deep learning",
    "transformers",
    "large language models",
    "graph neural networks",
    "reinforcement learning",
    "diffusion models",
    "foundation models",
    "mixture of experts",
    "scaling laws",
    "surrogate models",
    "uncertainty quantification",
    "multigrid",
    "molecular dynamics",
    "monte carlo",
    "lattice qcd",
    "density functional theory",
    "climate models",
    "computational fluid dynamics",
    "protein structure",
    "genomics",
]
KEYWORDS_PER_FIELD = 30
INSTITUTIONS = [f"Institute {n} of {city}" for n in range(1, 6) for city in (
    "Jülich", "Munich", "Stuttgart", "Barcelona", "Bologna", "Paris", "Lyon", "Zurich",
    "Lausanne", "Vienna", "Prague", "Warsaw", "Helsinki", "Oslo", "Lisbon", "Madrid",
    "Amsterdam", "Leuven", "Edinburgh", "Dublin", "Copenhagen", "Athens", "Budapest", "Ljubljana",
)]  # fmt: skip
MAX_LOADS = [15, 18, 20, 22, 25]


def _field_keywords(field: str) -> list[str]:
    return [f"{field.lower()} topic {n}" for n in range(KEYWORDS_PER_FIELD)]


def _slug(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def build_call(
    proposals: int = 3000,
    reviewers: int = 600,
    reviews_per_proposal: int = 3,
    *,
    code: str = "BENCH 2027-1",
    conflicts_per_proposal: int = 2,
    seed: int = 2027,
) -> Call:
    """The call ``code``, built if it is not in the database yet (see the module docstring).

    Side effects when it is built: a Resource pair (shared between benchmark calls), the Call
    with two CallResources and two CallCriteria, ``proposals + reviewers`` Users (unusable
    passwords), ``proposals`` submitted Proposals with one or two ResourceRequests each,
    ``reviewers`` CallRoles (reviewer, ``max_load`` 15–25, some left empty for the default),
    and ``conflicts_per_proposal`` Conflicts per proposal (mostly confirmed, some detected).
    """
    existing = Call.objects.filter(code=code).first()
    if existing is not None:
        return existing
    rng = random.Random(seed)
    slug = _slug(code)
    now = timezone.now().replace(microsecond=0)
    password = make_password(None)
    # The random generator is drawn from in this order, so the same seed builds the same call.
    with transaction.atomic():
        call = _call(code, slug, now, proposals=proposals, per_proposal=reviews_per_proposal)
        offers = _offers(call)
        pis = _users(_pi_users(rng, slug, password, proposals))
        pool = _users(_reviewer_users(rng, slug, password, reviewers))
        _reviewer_roles(call, pool, rng)
        made = _proposals(call, pis, rng, submitted_at=now - timedelta(days=12))
        _requests(made, offers, rng)
        _conflicts(made, pool, rng, per_proposal=conflicts_per_proposal)
    return call


def _call(code: str, slug: str, now: datetime, *, proposals: int, per_proposal: int) -> Call:
    """The call, closed ten days ago and in review, with its two criteria."""
    call = Call.objects.create(
        code=code,
        name=f"{code}: benchmark call",
        reference_prefix=slug.upper()[:12],
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=10),
        review_due_at=now + timedelta(days=30),
        decisions_due_at=now + timedelta(days=60),
        period_start=date(now.year + 1, 5, 1),
        period_end=date(now.year + 2, 4, 30),
        reviewers_per_proposal=per_proposal,
        last_reference_number=proposals,
    )
    CallCriterion.objects.create(call=call, name="Scientific excellence", weight=2, position=0)
    CallCriterion.objects.create(call=call, name="Feasibility", weight=1, position=1)
    return call


def _offers(call: Call) -> list[CallResource]:
    """The call's two resources (shared between benchmark calls) with their budgets."""
    booster, _ = Resource.objects.get_or_create(
        code="bench-booster",
        defaults={"name": "Benchmark Booster", "unit": "GPU-hours", "charge_rule": "gpu"},
    )
    cluster, _ = Resource.objects.get_or_create(
        code="bench-cluster",
        defaults={"name": "Benchmark Cluster", "unit": "core-hours", "charge_rule": "billing"},
    )
    return [
        CallResource.objects.create(
            call=call,
            resource=booster,
            budget=Decimal(50_000_000),
            min_request=Decimal(10_000),
            max_request=Decimal(2_000_000),
        ),
        CallResource.objects.create(
            call=call,
            resource=cluster,
            budget=Decimal(200_000_000),
            min_request=Decimal(0),
            max_request=Decimal(10_000_000),
        ),
    ]


def _users(users: list[User]) -> list[User]:
    return User.objects.bulk_create(users, batch_size=1000)


def _pi_users(rng: random.Random, slug: str, password: str, count: int) -> list[User]:
    fields, weights = list(FIELD_WEIGHTS), list(FIELD_WEIGHTS.values())
    return [
        User(
            email=f"pi{n:05d}.{slug}@bench.allot.example",
            password=password,
            full_name=f"PI {n:05d}",
            affiliation=rng.choice(INSTITUTIONS),
            country="DE",
            expertise=[rng.choices(fields, weights)[0]],
        )
        for n in range(1, count + 1)
    ]


def _reviewer_users(rng: random.Random, slug: str, password: str, count: int) -> list[User]:
    """Reviewers with one to three fields, keywords of their fields and a few shared ones."""
    fields, weights = list(FIELD_WEIGHTS), list(FIELD_WEIGHTS.values())
    people = []
    for n in range(1, count + 1):
        own = list(dict.fromkeys(rng.choices(fields, weights, k=rng.randint(1, 3))))
        keywords = [kw for f in own for kw in rng.sample(_field_keywords(f), rng.randint(3, 6))]
        keywords += rng.sample(SHARED_KEYWORDS, rng.randint(1, 3))
        people.append(
            User(
                email=f"reviewer{n:04d}.{slug}@bench.allot.example",
                password=password,
                full_name=f"Reviewer {n:04d}",
                affiliation=rng.choice(INSTITUTIONS),
                country="DE",
                expertise=own,
                keywords=keywords,
            )
        )
    return people


def _reviewer_roles(call: Call, pool: list[User], rng: random.Random) -> None:
    """The pool's roles, with a maximum load of 15–25 (one in twenty left to the default)."""
    CallRole.objects.bulk_create(
        [
            CallRole(
                call=call,
                role=CallRoleKind.REVIEWER,
                email=user.email,
                user=user,
                max_load=None if rng.random() < 0.05 else rng.choice(MAX_LOADS),
            )
            for user in pool
        ],
        batch_size=1000,
    )


def _proposals(
    call: Call, pis: list[User], rng: random.Random, *, submitted_at: datetime
) -> list[Proposal]:
    """One submitted proposal per PI, in the PI's field."""
    return Proposal.objects.bulk_create(
        [
            Proposal(
                call=call,
                pi=pi,
                status=ProposalStatus.SUBMITTED,
                reference=f"{call.reference_prefix}-{n:04d}",
                reference_number=n,
                title=f"Benchmark project {n}",
                acronym=f"BENCH{n:05d}",
                abstract="A benchmark proposal.",
                field=pi.expertise[0],
                keywords=rng.sample(_field_keywords(pi.expertise[0]), 2)
                + rng.sample(SHARED_KEYWORDS, rng.randint(1, 2)),
                pi_affiliation=pi.affiliation,
                pi_country="DE",
                codes="PyTorch",
                job_size="256 GPUs",
                wall_time="24 hours",
                memory="80 GB per GPU",
                storage="100 TB",
                submitted_at=submitted_at,
                updated_by=pi,
            )
            for n, pi in enumerate(pis, start=1)
        ],
        batch_size=1000,
    )


def _requests(made: list[Proposal], offers: list[CallResource], rng: random.Random) -> None:
    """GPU-hours for every proposal, core-hours for about half."""
    requests = []
    for proposal in made:
        requests.append(
            ResourceRequest(
                proposal=proposal,
                call_resource=offers[0],
                amount=Decimal(rng.randrange(10_000, 2_000_000, 1_000)),
                justification="Measured on the previous machine.",
            )
        )
        if rng.random() < 0.5:
            requests.append(
                ResourceRequest(
                    proposal=proposal,
                    call_resource=offers[1],
                    amount=Decimal(rng.randrange(0, 10_000_000, 10_000)),
                    justification="Pre- and post-processing.",
                )
            )
    ResourceRequest.objects.bulk_create(requests, batch_size=2000)


def _conflicts(
    made: list[Proposal], pool: list[User], rng: random.Random, *, per_proposal: int
) -> None:
    """``per_proposal`` conflicts of each proposal: one in five detected, the rest confirmed."""
    conflicts = []
    for proposal in made:
        for reviewer in rng.sample(pool, min(per_proposal, len(pool))):
            conflicts.append(
                Conflict(
                    proposal=proposal,
                    reviewer=reviewer,
                    reason=ConflictReason.AFFILIATION,
                    status=ConflictStatus.DETECTED
                    if rng.random() < 0.2
                    else ConflictStatus.CONFIRMED,
                    detail="Benchmark conflict.",
                )
            )
    Conflict.objects.bulk_create(conflicts, batch_size=2000)
