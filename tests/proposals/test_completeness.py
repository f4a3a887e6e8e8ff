"""What stops a proposal from being submitted, listed all at once (PRODUCT §4.2)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from proposals.calls.models import Call
from proposals.submission.enums import AttachmentKind
from proposals.submission.models import ResourceRequest
from proposals.submission.selectors.completeness import Problem, proposal_problems
from proposals.submission.selectors.lists import problem_label, problem_url
from tests.proposal_factories import (
    add_description,
    complete_proposal,
    make_call_closing,
    make_proposal,
)


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


def test_an_empty_draft_lists_exactly_these_problems(call, pi):
    draft = make_proposal(call, pi, pi_affiliation="", pi_country="")

    assert proposal_problems(draft) == [
        Problem("general", "title", "Fill in “Title”."),
        Problem("general", "acronym", "Fill in “Acronym”."),
        Problem("general", "abstract", "Fill in “Abstract”."),
        Problem("general", "field", "Fill in “Field of science”."),
        Problem("general", "keywords", "Fill in “Keywords”."),
        Problem("general", "pi_affiliation", "Fill in “PI's affiliation”."),
        Problem("general", "pi_country", "Fill in “PI's country”."),
        Problem("technical", "codes", "Fill in “Codes and versions”."),
        Problem("technical", "job_size", "Fill in “Typical job size”."),
        Problem("technical", "wall_time", "Fill in “Typical wall time”."),
        Problem("technical", "memory", "Fill in “Memory per job”."),
        Problem("technical", "storage", "Fill in “Storage and data management”."),
        Problem("resources", "requests", "Request an amount of at least one resource."),
        Problem(
            "technical",
            "scaling",
            "Add at least one row to the scaling table (GPUs and time per step).",
        ),
        Problem("attachments", "description", "Upload the project description (PDF)."),
    ]


def test_a_complete_proposal_has_no_problems(call, pi):
    assert proposal_problems(complete_proposal(call, pi)) == []


@pytest.mark.parametrize(
    ("amount", "justification", "expected"),
    [
        (
            "5000",
            "Why",
            [("amount", "At least 10,000 GPU-hours can be requested on JUPITER Booster.")],
        ),
        (
            "250000",
            "Why",
            [("amount", "At most 200,000 GPU-hours can be requested on JUPITER Booster.")],
        ),
        (
            "50000",
            "  ",
            [
                (
                    "justification",
                    "Explain how you arrived at the amount requested on JUPITER Booster.",
                )
            ],
        ),
    ],
    ids=["below-minimum", "above-maximum", "no-justification"],
)
def test_requests_outside_the_limits_or_unexplained(call, pi, amount, justification, expected):
    proposal = complete_proposal(call, pi)
    ResourceRequest.objects.filter(proposal=proposal).update(
        amount=Decimal(amount), justification=justification
    )
    offer = call.call_resources.get()

    assert proposal_problems(proposal) == [
        Problem("resources", f"request-{offer.pk}-{field}", message) for field, message in expected
    ]


def test_a_zero_request_counts_as_no_request(call, pi):
    proposal = complete_proposal(call, pi)
    ResourceRequest.objects.filter(proposal=proposal).update(amount=0)

    assert proposal_problems(proposal) == [
        Problem("resources", "requests", "Request an amount of at least one resource.")
    ]


def test_a_replaced_description_or_a_cv_is_not_a_description(call, pi):
    proposal = complete_proposal(call, pi)
    proposal.attachments.update(replaced_at=timezone.now())
    cv = add_description(proposal, name="cv.pdf")
    proposal.attachments.filter(pk=cv.pk).update(kind=AttachmentKind.CV)

    assert proposal_problems(proposal) == [
        Problem("attachments", "description", "Upload the project description (PDF).")
    ]


def test_problems_are_named_and_linked_to_their_field(call, pi):
    proposal = complete_proposal(call, pi, title="")
    offer = call.call_resources.get()
    ResourceRequest.objects.filter(proposal=proposal).update(amount=1, justification="")
    proposal.attachments.update(replaced_at=timezone.now())
    proposal.scaling.all().delete()

    named = [
        (problem_label(p, proposal), problem_url(p, proposal)) for p in proposal_problems(proposal)
    ]

    base = f"/proposals/{proposal.pk}"
    assert named == [
        ("title", f"{base}/edit/general/#id_title"),
        ("amount on JUPITER Booster", f"{base}/edit/resources/#id_request-{offer.pk}-amount"),
        (
            "justification for JUPITER Booster",
            f"{base}/edit/resources/#id_request-{offer.pk}-justification",
        ),
        ("scaling table", f"{base}/edit/technical/#id_scaling"),
        ("project description", f"{base}/attachments/#id_description"),
    ]
