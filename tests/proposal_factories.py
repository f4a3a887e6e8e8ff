"""Builders for proposals in tests. Calls and resources are in factories.py, people in conftest.

``make_proposal`` starts the draft through ``proposal_start`` (the real path); the content of
the sections is then written directly, since the section forms are tested on their own.
"""

import hashlib
import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallRole
from proposals.submission.enums import AttachmentKind, TeamStatus
from proposals.submission.models import (
    Attachment,
    Proposal,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)
from proposals.submission.services.lifecycle import proposal_start
from tests.factories import make_call
from tests.pdfs import pdf_bytes

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A deadline far enough ahead that the call is open whenever the tests run.
DEADLINE = datetime(2099, 1, 15, 17, 0, tzinfo=BERLIN)

# Every required field of the general and technical sections, filled in.
COMPLETE_FIELDS = {
    "title": "Scaling laws of sparse mixture-of-experts language models",
    "acronym": "SPARSE-MOE",
    "abstract": "We measure how sparse expert models scale with data and compute.",
    "field": "PE6",
    "keywords": ["language models", "mixture of experts"],
    "pi_affiliation": "Uni Example",
    "pi_country": "DE",
    "codes": "PyTorch 2.5, Megatron-LM 0.9",
    "job_size": "512 GPUs",
    "wall_time": "24 hours",
    "memory": "80 GB per GPU",
    "storage": "200 TB on the project file system, archived to tape after the project.",
}


def make_proposal(call: Call, pi: User, **fields) -> Proposal:
    """A draft started by ``pi`` through ``proposal_start``, with ``fields`` set on it."""
    proposal = proposal_start(call=call, by=pi)
    if fields:
        for name, value in fields.items():
            setattr(proposal, name, value)
        proposal.save(update_fields=[*fields, "updated_at"])
    return proposal


def add_description(proposal: Proposal, *, pages: int = 3, name: str = "description.pdf"):
    """A current project description PDF (a real PDF of ``pages`` pages)."""
    data = pdf_bytes(pages)
    attachment = Attachment(
        proposal=proposal,
        kind=AttachmentKind.DESCRIPTION,
        original_name=name,
        size=len(data),
        pages=pages,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=proposal.pi,
    )
    attachment.file.save(name, ContentFile(data), save=False)
    attachment.save()
    return attachment


def complete_proposal(call: Call, pi: User, **fields) -> Proposal:
    """A draft with every required part: the fields, a request within the limits of the call's
    first resource (with a justification), two scaling rows and a project description."""
    proposal = make_proposal(call, pi, **{**COMPLETE_FIELDS, **fields})
    offer = call.call_resources.select_related("resource").order_by("resource__name").first()
    ResourceRequest.objects.create(
        proposal=proposal,
        call_resource=offer,
        amount=max(offer.min_request, min(offer.max_request, Decimal(100_000))),
        justification="200 runs of 500 GPU-hours, measured on JUWELS Booster.",
    )
    ScalingPoint.objects.create(
        proposal=proposal, gpus=64, seconds_per_step=Decimal("1.2000"), position=0
    )
    ScalingPoint.objects.create(
        proposal=proposal, gpus=128, seconds_per_step=Decimal("0.6500"), position=1
    )
    add_description(proposal)
    return proposal


def add_member(
    proposal: Proposal,
    user: User | None = None,
    *,
    email: str = "",
    status: str = TeamStatus.ACCEPTED,
) -> TeamMember:
    """A co-investigator row: ``accepted`` (linked to ``user``), ``invited`` or ``declined``.

    Written directly, for tests that are not about the team pages.
    """
    return TeamMember.objects.create(
        proposal=proposal,
        email=email or user.email,
        user=user,
        status=status,
        invited_by=proposal.pi,
    )


def add_call_role(call: Call, user: User, role: str = CallRoleKind.COMMITTEE) -> CallRole:
    """``user`` on the call's committee (or, with ``role="reviewer"``, in its reviewer pool)."""
    return CallRole.objects.create(call=call, role=role, email=user.email, user=user)


def make_call_closing(
    closes_at: datetime = DEADLINE, code: str = "JUPITER 2027-1", **fields
) -> Call:
    """An open call (opened ten days ago) with a fixed deadline, for tests that print it."""
    return make_call(
        code,
        closes_at=closes_at,
        review_due_at=closes_at + timedelta(days=40),
        decisions_due_at=closes_at + timedelta(days=70),
        period_start=date(closes_at.year, 5, 1),
        period_end=date(closes_at.year + 1, 4, 30),
        **fields,
    )
