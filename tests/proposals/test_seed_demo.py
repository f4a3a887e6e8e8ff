"""``manage.py seed_demo``: demo data that can be created twice without changing anything."""

import hashlib
import io
import zoneinfo
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from allocations.models import Resource
from notifications.models import OutboxMessage
from proposals.enums import AttachmentKind, CallRoleKind, CallStatus, ProposalStatus, TeamStatus
from proposals.management.commands.seed_demo import (
    PASSWORD,
    call_names,
    closed_call_dates,
    juwels_ai_names,
    open_call_dates,
)
from proposals.models import (
    Attachment,
    Call,
    CallCriterion,
    CallResource,
    CallRole,
    Proposal,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)
from proposals.pdfcheck import inspect_pdf
from proposals.selectors.completeness import proposal_problems

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
        "User": 6,
        "EmailAddress": 6,
        "Resource": 4,
        "Call": 4,
        "CallResource": 11,
        "CallCriterion": 12,
        "CallRole": 4,
        "Proposal": 8,
        "TeamMember": 3,
        "ResourceRequest": 15,
        "ScalingPoint": 14,
        "Attachment": 7,
        "ProposalVersion": 7,
        "OutboxMessage": 0,
    }
    assert "Demo data already present: nothing changed." in output
    assert "Demo data created" in seeded


def test_output_lists_accounts_password_and_address(seeded):
    for expected in [
        "pi@demo.allot.example",
        "coi@demo.allot.example",
        "reviewer@demo.allot.example",
        "committee@demo.allot.example",
        "manager@demo.allot.example",
        "admin@demo.allot.example",
        f"Password for every account: {PASSWORD}",
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

    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 6
    assert all(user.check_password(PASSWORD) for user in User.objects.all())
    assert list(manager.groups.values_list("name", flat=True)) == [settings.CALL_MANAGERS_GROUP]
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert {(role.role, role.user.email) for role in open_call.roles.select_related("user")} == {
        (CallRoleKind.REVIEWER, "reviewer@demo.allot.example"),
        (CallRoleKind.COMMITTEE, "committee@demo.allot.example"),
    }
    assert "PE6" in User.objects.get(email="reviewer@demo.allot.example").expertise
    assert all(user.full_name and user.affiliation and user.country for user in User.objects.all())


def test_proposals_in_every_state(seeded):
    names = {code: kind for kind, code in codes().items()}

    states = sorted(
        (names[p.call.code], p.acronym, p.status, p.pi.email)
        for p in Proposal.objects.select_related("call", "pi")
    )

    assert states == [
        ("closed", "EO-VISION", ProposalStatus.UNDER_REVIEW, "pi@demo.allot.example"),
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
    }
    assert {call.code: call.last_reference_number for call in Call.objects.all()} == {
        c["decided"]: 4,
        c["closed"]: 1,
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
        (role.call.code, role.role, role.user.email)
        for role in CallRole.objects.select_related("call", "user")
    )

    assert roles == sorted(
        [
            (c["open"], CallRoleKind.COMMITTEE, "committee@demo.allot.example"),
            (c["open"], CallRoleKind.REVIEWER, "reviewer@demo.allot.example"),
            (c["closed"], CallRoleKind.COMMITTEE, "committee@demo.allot.example"),
            (c["closed"], CallRoleKind.REVIEWER, "reviewer@demo.allot.example"),
        ]
    )


def test_an_existing_closed_call_is_used_instead_of_a_new_one(db):
    from tests.factories import make_call

    waiting = make_call(
        "HORIZON 2026-2", opens_in=-timedelta(days=60), closes_in=-timedelta(days=5)
    )

    seed()

    assert Call.objects.filter(code__startswith="JUWELS AI").count() == 0
    assert Proposal.objects.get(acronym="EO-VISION").call == waiting
