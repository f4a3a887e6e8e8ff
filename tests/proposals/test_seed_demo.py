"""``manage.py seed_demo``: demo data that can be created twice without changing anything."""

import hashlib
import io
import zoneinfo
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from allocations.models import Resource
from demo.calls import call_names, closed_call_dates, juwels_ai_names, open_call_dates
from demo.management.commands.seed_demo import PASSWORD
from notifications.models import OutboxMessage
from proposals.calls.enums import CallRoleKind, CallStatus
from proposals.calls.models import Call, CallCriterion, CallResource, CallRole
from proposals.review.enums import (
    ConflictReason,
    ConflictStatus,
    Recommendation,
    ReviewKind,
    ReviewState,
    TechnicalVerdict,
)
from proposals.review.models import Conflict, Review, ReviewScore, TechnicalRecommendation
from proposals.review.selectors.assignment import reviewer_pool
from proposals.review.selectors.ranking import call_ranking
from proposals.review.selectors.reviewing import my_reviews, review_problems
from proposals.review.services.conflict_detection import conflicts_detect
from proposals.review.services.suggestion import assignment_suggest
from proposals.submission.enums import AttachmentKind, ProposalStatus, TeamStatus
from proposals.submission.models import (
    Attachment,
    Proposal,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)
from proposals.submission.pdfcheck import inspect_pdf
from proposals.submission.selectors.completeness import proposal_problems

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [
        User,
        EmailAddress,
        Resource,
        Call,
        CallResource,
        CallCriterion,
        CallRole,
        Proposal,
        TeamMember,
        ResourceRequest,
        ScalingPoint,
        Attachment,
        ProposalVersion,
        Review,
        ReviewScore,
        TechnicalRecommendation,
        Conflict,
        OutboxMessage,
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def seeded(db) -> str:
    return seed()


def test_second_run_changes_nothing_and_says_so(seeded):
    first = counts()

    output = seed()

    assert counts() == first
    assert first == {
        "User": 9,
        "EmailAddress": 9,
        "Resource": 4,
        "Call": 4,
        "CallResource": 11,
        "CallCriterion": 12,
        "CallRole": 8,
        "Proposal": 13,
        "TeamMember": 3,
        "ResourceRequest": 25,
        "ScalingPoint": 24,
        "Attachment": 12,
        "ProposalVersion": 12,
        # 9 scientific reviews submitted with 3 scores each, a draft with 2, one invited, one
        # declined; a technical review recommending both resources of its proposal.
        "Review": 13,
        "ReviewScore": 29,
        "TechnicalRecommendation": 2,
        "Conflict": 1,
        "OutboxMessage": 0,
    }
    assert "Demo data already present: nothing changed." in output
    assert "Demo data created" in seeded


def test_output_lists_accounts_password_and_address(seeded):
    for expected in [
        "pi@demo.allot.example",
        "coi@demo.allot.example",
        "reviewer@demo.allot.example",
        "reviewer2@demo.allot.example",
        "reviewer3@demo.allot.example",
        "reviewer4@demo.allot.example",
        "committee@demo.allot.example",
        "manager@demo.allot.example",
        "admin@demo.allot.example",
        f"Password for every account: {PASSWORD}",
        f"Peer review at work in {codes()['closed']}:",
        "two-factor authentication",
        "http://127.0.0.1:8000/",
    ]:
        assert expected in seeded, expected


def codes() -> dict[str, str]:
    today = timezone.localdate(timezone=BERLIN)
    open_code = call_names(open_call_dates(today)["period_start"])["code"]
    year, half = int(open_code[-6:-2]), int(open_code[-1])
    return {
        "decided": f"JUPITER {year - 1}-{half}",
        "closed": juwels_ai_names(closed_call_dates(today)["period_start"])["code"],
        "open": open_code,
        "upcoming": f"JUPITER {year + half - 1}-{3 - half}",
    }


def test_calls_decided_closed_open_and_upcoming(seeded):
    today = timezone.localdate(timezone=BERLIN)
    calls = list(Call.objects.order_by("opens_at"))

    assert [call.status for call in calls] == [
        CallStatus.DECIDED,
        CallStatus.CLOSED,
        CallStatus.OPEN,
        CallStatus.UPCOMING,
    ]
    expected = codes()
    assert [call.code for call in calls] == [
        expected["decided"],
        expected["closed"],
        expected["open"],
        expected["upcoming"],
    ]
    assert expected["closed"].startswith("JUWELS AI ")
    closes = calls[2].closes_at.astimezone(BERLIN)
    assert (closes.hour, closes.minute, closes.second) == (17, 0, 0)
    assert 35 <= (closes.date() - today).days <= 49
    closed = calls[1].closes_at.astimezone(BERLIN)
    assert (today - closed.date()).days == 21
    assert calls[1].decisions_published_at is None


def test_budgets_and_criteria_are_realistic(seeded):
    call = Call.objects.get(code=codes()["open"])

    offers = {
        row.resource.name: (row.budget, row.resource.unit)
        for row in call.call_resources.select_related("resource")
    }
    assert offers == {
        "JUPITER Booster": (2_500_000, "GPU-hours"),
        "JUWELS Cluster": (40_000_000, "core-hours"),
        "Project storage": (500, "TB"),
    }
    assert list(call.criteria.values_list("name", flat=True)) == [
        "Scientific excellence",
        "Technical feasibility",
        "Impact",
    ]
    booster = Resource.objects.get(code="jupiter-booster")
    assert (booster.slurm_cluster, booster.slurm_partition, booster.charge_rule) == (
        "jupiter",
        "booster",
        "gpu",
    )


def test_accounts_are_verified_with_roles(seeded):
    open_call = Call.objects.get(code=codes()["open"])
    manager = User.objects.get(email="manager@demo.allot.example")
    admin = User.objects.get(email="admin@demo.allot.example")

    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 9
    assert all(user.check_password(PASSWORD) for user in User.objects.all())
    assert list(manager.groups.values_list("name", flat=True)) == [settings.CALL_MANAGERS_GROUP]
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert {(role.role, role.user.email) for role in open_call.roles.select_related("user")} == {
        (CallRoleKind.REVIEWER, "reviewer@demo.allot.example"),
        (CallRoleKind.COMMITTEE, "committee@demo.allot.example"),
    }
    for number in ("", "2", "3", "4"):
        assert User.objects.get(email=f"reviewer{number}@demo.allot.example").expertise
    assert "PE6" in User.objects.get(email="reviewer@demo.allot.example").expertise
    assert all(user.full_name and user.affiliation and user.country for user in User.objects.all())


def test_proposals_in_every_state(seeded):
    names = {code: kind for kind, code in codes().items()}

    states = sorted(
        (names[p.call.code], p.acronym, p.status, p.pi.email)
        for p in Proposal.objects.select_related("call", "pi")
    )

    assert states == [
        ("closed", "CONNECTOME", ProposalStatus.UNDER_REVIEW, "coi@demo.allot.example"),
        ("closed", "COSMO-EMU", ProposalStatus.UNDER_REVIEW, "pi@demo.allot.example"),
        ("closed", "CRYSTAL-GEN", ProposalStatus.UNDER_REVIEW, "pi@demo.allot.example"),
        ("closed", "EO-VISION", ProposalStatus.UNDER_REVIEW, "pi@demo.allot.example"),
        ("closed", "PLASMA-RL", ProposalStatus.UNDER_REVIEW, "coi@demo.allot.example"),
        ("closed", "PRESS-OCR", ProposalStatus.UNDER_REVIEW, "coi@demo.allot.example"),
        ("decided", "FLUID-GNN", ProposalStatus.REJECTED, "coi@demo.allot.example"),
        ("decided", "GENOME-LM", ProposalStatus.WAITLISTED, "pi@demo.allot.example"),
        ("decided", "MOE-SCALE", ProposalStatus.AWARDED, "pi@demo.allot.example"),
        (
            "decided",
            "SEISMO-NO",
            ProposalStatus.PARTIALLY_AWARDED,
            "coi@demo.allot.example",
        ),
        ("open", "CLIMA-EMU", ProposalStatus.SUBMITTED, "pi@demo.allot.example"),
        ("open", "EURO-LLM", ProposalStatus.DRAFT, "pi@demo.allot.example"),
        ("open", "PROT-DESIGN", ProposalStatus.WITHDRAWN, "pi@demo.allot.example"),
    ]


def test_references_follow_each_calls_counter(seeded):
    references = {
        p.acronym: (p.reference, p.reference_number)
        for p in Proposal.objects.select_related("call")
    }
    prefix = {code: Call.objects.get(code=code).reference_prefix for code in codes().values()}
    c = codes()

    assert references == {
        "EURO-LLM": (None, None),
        "CLIMA-EMU": (f"{prefix[c['open']]}-0001", 1),
        "PROT-DESIGN": (f"{prefix[c['open']]}-0002", 2),
        "MOE-SCALE": (f"{prefix[c['decided']]}-0001", 1),
        "SEISMO-NO": (f"{prefix[c['decided']]}-0002", 2),
        "GENOME-LM": (f"{prefix[c['decided']]}-0003", 3),
        "FLUID-GNN": (f"{prefix[c['decided']]}-0004", 4),
        "EO-VISION": (f"{prefix[c['closed']]}-0001", 1),
        "PLASMA-RL": (f"{prefix[c['closed']]}-0002", 2),
        "CRYSTAL-GEN": (f"{prefix[c['closed']]}-0003", 3),
        "CONNECTOME": (f"{prefix[c['closed']]}-0004", 4),
        "COSMO-EMU": (f"{prefix[c['closed']]}-0005", 5),
        "PRESS-OCR": (f"{prefix[c['closed']]}-0006", 6),
    }
    assert {call.code: call.last_reference_number for call in Call.objects.all()} == {
        c["decided"]: 4,
        c["closed"]: 6,
        c["open"]: 2,
        c["upcoming"]: 0,
    }
    assert prefix[c["closed"]].startswith("JWA")


def test_the_draft_has_the_co_investigator_and_says_what_is_missing(seeded):
    draft = Proposal.objects.get(acronym="EURO-LLM")
    coi = User.objects.get(email="coi@demo.allot.example")

    member = draft.team.get()
    assert (member.user, member.status) == (coi, TeamStatus.ACCEPTED)
    assert list(Proposal.objects.with_member(coi).filter(status=ProposalStatus.DRAFT)) == [draft]
    assert [problem.field for problem in proposal_problems(draft)] == [
        "codes",
        "job_size",
        "wall_time",
        "memory",
        "storage",
        "scaling",
        "description",
    ]


def test_every_submitted_proposal_has_version_one_and_a_real_description(seeded):
    for proposal in Proposal.objects.exclude(status=ProposalStatus.DRAFT):
        version = proposal.versions.get()
        description = proposal.attachments.get()
        data = description.file.read()
        description.file.close()
        assert version.number == 1
        assert version.submitted_at == proposal.submitted_at
        assert version.snapshot["reference"] == proposal.reference
        assert version.snapshot["attachments"] == [
            {
                "id": description.pk,
                "kind": AttachmentKind.DESCRIPTION,
                "original_name": f"{proposal.acronym}-description.pdf",
                "pages": 4,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        ]
        info = inspect_pdf(io.BytesIO(data), max_pages=10, max_bytes=10 * 1024 * 1024)
        assert (info.pages, description.pages, description.size) == (4, 4, len(data))
        assert description.file.name.startswith(f"proposals/{proposal.pk}/")
        assert description.sha256 == hashlib.sha256(data).hexdigest()
    assert proposal_problems(Proposal.objects.get(acronym="CLIMA-EMU")) == []
    withdrawn = Proposal.objects.get(acronym="PROT-DESIGN")
    assert withdrawn.withdrawn_at > withdrawn.submitted_at


def test_the_committee_member_and_reviewer_serve_the_open_and_the_closed_call(seeded):
    c = codes()

    roles = sorted(
        (role.call.code, role.role, role.user.email, role.max_load)
        for role in CallRole.objects.select_related("call", "user")
    )

    assert roles == sorted(
        [
            (c["open"], CallRoleKind.COMMITTEE, "committee@demo.allot.example", None),
            (c["open"], CallRoleKind.REVIEWER, "reviewer@demo.allot.example", 5),
            (c["closed"], CallRoleKind.COMMITTEE, "committee@demo.allot.example", None),
            (c["closed"], CallRoleKind.REVIEWER, "reviewer@demo.allot.example", 5),
            (c["closed"], CallRoleKind.REVIEWER, "reviewer2@demo.allot.example", 4),
            (c["closed"], CallRoleKind.REVIEWER, "reviewer3@demo.allot.example", 3),
            (c["closed"], CallRoleKind.REVIEWER, "reviewer4@demo.allot.example", 4),
            (c["closed"], CallRoleKind.TECHNICAL, "reviewer4@demo.allot.example", None),
        ]
    )


# --- Peer review in the closed call -----------------------------------------------------------

R1, R2, R3, R4 = (f"reviewer{n}@demo.allot.example" for n in ("", "2", "3", "4"))
SCIENTIFIC, TECHNICAL = ReviewKind.SCIENTIFIC, ReviewKind.TECHNICAL


def test_reviews_in_every_state(seeded):
    reviews = sorted(
        (r.proposal.acronym, r.reviewer.email, r.kind, r.state)
        for r in Review.objects.select_related("proposal", "reviewer")
    )

    assert reviews == sorted(
        [
            ("CONNECTOME", R3, SCIENTIFIC, ReviewState.SUBMITTED),
            ("CONNECTOME", R1, SCIENTIFIC, ReviewState.INVITED),
            ("COSMO-EMU", R1, SCIENTIFIC, ReviewState.ACCEPTED),
            ("COSMO-EMU", R4, SCIENTIFIC, ReviewState.SUBMITTED),
            ("CRYSTAL-GEN", R2, SCIENTIFIC, ReviewState.SUBMITTED),
            ("CRYSTAL-GEN", R3, SCIENTIFIC, ReviewState.SUBMITTED),
            ("EO-VISION", R1, SCIENTIFIC, ReviewState.SUBMITTED),
            ("EO-VISION", R4, SCIENTIFIC, ReviewState.SUBMITTED),
            ("PLASMA-RL", R2, SCIENTIFIC, ReviewState.SUBMITTED),
            ("PLASMA-RL", R1, SCIENTIFIC, ReviewState.SUBMITTED),
            ("PLASMA-RL", R4, TECHNICAL, ReviewState.SUBMITTED),
            ("PRESS-OCR", R3, SCIENTIFIC, ReviewState.DECLINED),
            ("PRESS-OCR", R4, SCIENTIFIC, ReviewState.SUBMITTED),
        ]
    )
    assert {
        (kind, state): Review.objects.filter(kind=kind, state=state).count()
        for kind, state in {(r[2], r[3]) for r in reviews}
    } == {
        (SCIENTIFIC, ReviewState.SUBMITTED): 9,
        (SCIENTIFIC, ReviewState.ACCEPTED): 1,
        (SCIENTIFIC, ReviewState.INVITED): 1,
        (SCIENTIFIC, ReviewState.DECLINED): 1,
        (TECHNICAL, ReviewState.SUBMITTED): 1,
    }
    closed = Call.objects.get(code=codes()["closed"])
    assert {r.proposal.call_id for r in Review.objects.select_related("proposal")} == {closed.pk}


def test_reviews_are_as_the_reviewing_services_leave_them(seeded):
    now = timezone.now()
    closed = Call.objects.get(code=codes()["closed"])
    criteria = list(closed.criteria.values_list("pk", flat=True))

    for review in Review.objects.all():
        assert review.due_at == closed.review_due_at
        assert closed.closes_at < review.assigned_at <= now
        assert review.assigned_by.email == "manager@demo.allot.example"
        if review.state == ReviewState.SUBMITTED:
            assert review_problems(review) == {}
            assert review.assigned_at < review.responded_at < review.submitted_at <= now
            assert review.submitted_at < review.due_at
            assert review.no_conflict_declared_at == review.responded_at
    for review in Review.objects.filter(kind=SCIENTIFIC, state=ReviewState.SUBMITTED):
        assert sorted(review.scores.values_list("criterion_id", flat=True)) == sorted(criteria)
        assert review.comment_to_applicant and review.confidential_comment
        assert review.recommendation in Recommendation.values

    draft = Review.objects.get(state=ReviewState.ACCEPTED)
    assert (draft.proposal.acronym, draft.reviewer.email) == ("COSMO-EMU", R1)
    assert draft.saved_at is not None and draft.submitted_at is None
    assert list(review_problems(draft)) == [f"score-{criteria[2]}", "recommendation"]
    invited = Review.objects.get(state=ReviewState.INVITED)
    assert (invited.responded_at, invited.scores.count(), invited.comment_to_applicant) == (
        None,
        0,
        "",
    )
    declined = Review.objects.get(state=ReviewState.DECLINED)
    assert declined.decline_reason and declined.responded_at is not None
    assert declined.scores.count() == 0

    technical = Review.objects.get(kind=TECHNICAL)
    assert technical.verdict == TechnicalVerdict.FEASIBLE_WITH_CHANGES
    assert technical.confidential_comment and not technical.comment_to_applicant
    assert {
        (row.call_resource.resource.code, row.amount)
        for row in TechnicalRecommendation.objects.select_related("call_resource__resource")
    } == {("juwels-booster", 200_000), ("project-storage", 20)}
    assert ReviewScore.objects.filter(review__kind=TECHNICAL).count() == 0


def test_one_detected_conflict_for_the_manager_and_detection_finds_nothing_more(seeded):
    closed = Call.objects.get(code=codes()["closed"])

    conflict = Conflict.objects.select_related("proposal", "reviewer").get()

    assert (
        conflict.proposal.acronym,
        conflict.reviewer.email,
        conflict.reason,
        conflict.status,
    ) == ("COSMO-EMU", R2, ConflictReason.EXCLUDED, ConflictStatus.DETECTED)
    assert "Renate Gutachter" in conflict.detail
    assert not Review.objects.filter(proposal=conflict.proposal, reviewer=conflict.reviewer)
    assert conflicts_detect(call=closed) == 0


def test_loads_within_the_pool_and_the_suggestion_replaces_the_declined_review(seeded):
    closed = Call.objects.get(code=codes()["closed"])

    loads = {m.user.email: (m.load, m.capacity) for m in reviewer_pool(call=closed)}
    suggestion = assignment_suggest(call=closed)

    assert loads == {R1: (4, 5), R2: (2, 4), R3: (2, 3), R4: (3, 4)}
    assert suggestion.still_needed == 1
    assert [(p.proposal.acronym, p.reviewer.email in {R1, R2}) for p in suggestion.pairs] == [
        ("PRESS-OCR", True)
    ]


def test_my_reviews_of_the_demo_reviewer(seeded):
    reviewer = User.objects.get(email=R1)

    mine = my_reviews(user=reviewer, now=timezone.now())

    assert [row.proposal.acronym for row in mine.invitations] == ["CONNECTOME"]
    assert [(row.proposal.acronym, row.review.state) for row in mine.reviews] == [
        ("COSMO-EMU", ReviewState.ACCEPTED),
        ("PLASMA-RL", ReviewState.SUBMITTED),
        ("EO-VISION", ReviewState.SUBMITTED),
    ]
    assert not any(row.overdue or row.late for row in [*mine.invitations, *mine.reviews])


def test_the_ranking_has_scores_a_flagged_spread_and_the_budget_line(seeded):
    closed = Call.objects.get(code=codes()["closed"])
    committee = User.objects.get(email="committee@demo.allot.example")

    ranking = call_ranking(call=closed, user=committee, page=1)

    assert [(row.acronym, str(row.score), row.submitted, row.assigned) for row in ranking.rows] == [
        ("CONNECTOME", "4.75", 1, 2),
        ("PLASMA-RL", "4.13", 2, 2),
        ("EO-VISION", "4.00", 2, 2),
        ("COSMO-EMU", "3.25", 1, 2),
        ("CRYSTAL-GEN", "3.13", 2, 2),
        ("PRESS-OCR", "2.00", 1, 1),
    ]
    assert [row.acronym for row in ranking.rows if row.spread_flagged] == ["CRYSTAL-GEN"]
    assert [(row.acronym, row.verdict) for row in ranking.rows if row.verdict] == [
        ("PLASMA-RL", TechnicalVerdict.FEASIBLE_WITH_CHANGES)
    ]
    assert (ranking.hidden, ranking.threshold_rank) == (0, 6)
    # The GPU-hours run out at a fundable proposal, the storage below the threshold.
    assert {end.offer.resource.code: end.rank for end in ranking.budget_ends} == {
        "juwels-booster": 5,
        "project-storage": 6,
    }


def test_the_ranking_page_shows_the_scored_proposals_to_the_committee(seeded, client):
    closed = Call.objects.get(code=codes()["closed"])
    client.force_login(User.objects.get(email="committee@demo.allot.example"))

    response = client.get(reverse("call_ranking", args=[closed.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    order = ["CONNECTOME", "PLASMA-RL", "EO-VISION", "COSMO-EMU", "CRYSTAL-GEN", "PRESS-OCR"]
    positions = [page.index(acronym) for acronym in order]
    assert positions == sorted(positions)
    for score in ("4.75", "4.13", "4.00", "3.25", "3.13", "2.00"):
        assert score in page


def test_an_existing_closed_call_is_used_instead_of_a_new_one(db):
    from tests.factories import make_call

    waiting = make_call(
        "HORIZON 2026-2", opens_in=-timedelta(days=60), closes_in=-timedelta(days=5)
    )

    seed()
    first = counts()
    seed()

    assert counts() == first
    assert Call.objects.filter(code__startswith="JUWELS AI").count() == 0
    assert Proposal.objects.get(acronym="EO-VISION").call == waiting
    assert {r.proposal.call for r in Review.objects.select_related("proposal__call")} == {waiting}
    assert Review.objects.count() == 13


def test_the_active_allocation_has_imported_usage_forfeits_and_low_priority(seeded):
    from allocations.models import Allocation, UsageRecord
    from allocations.selectors.ledger import allocation_ledgers

    allocation = Allocation.objects.get(proposal__acronym="MOE-SCALE")
    today = timezone.localdate(timezone=BERLIN)
    [booster] = [
        ledger
        for ledger in allocation_ledgers(allocation=allocation, today=today)
        if ledger.resource.code == "jupiter-booster"
    ]
    assert UsageRecord.objects.filter(account=allocation.account).count() > 0
    # Every job is the PI's, found by their login on the cluster (not by their email).
    assert set(
        UsageRecord.objects.filter(account=allocation.account).values_list("member_id", "user_name")
    ) == {(allocation.pi_id, "pinvest")}
    assert booster.totals.used > 0
    assert booster.quota.today is not None and booster.quota.today.state == "low_priority"
    past = [m for m in booster.quota.months if m.time == "past"]
    assert len(past) < 2 or any(m.forfeited > 0 for m in past)
    assert "Demo data already present: nothing changed." in seed()
