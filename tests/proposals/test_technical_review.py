"""The technical review (PRODUCT §5.2): the verdict, a recommended amount per resource the
proposal requested, and comments for the committee (kept in ``confidential_comment``)."""

import html
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from proposals.calls.models import Call
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import ReviewIncomplete, review_save, review_submit
from proposals.submission.models import Proposal, ResourceRequest
from tests.conftest import make_user
from tests.factories import make_call, make_resource
from tests.proposals.reviewing_factories import (
    accepted,
    recommended_amounts,
    signed_in,
    submitted_proposal,
)


@pytest.fixture
def call(db) -> Call:
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    return make_call(
        resources=[
            (make_resource(), Decimal(1_000_000), Decimal(10_000), Decimal(200_000)),
            (storage, Decimal(5_000), Decimal(1), Decimal(500)),
        ]
    )


@pytest.fixture
def proposal(call, pi) -> Proposal:
    proposal = submitted_proposal(call, pi)
    # Requested after the submission only to have two rows; reviewers read the live proposal.
    ResourceRequest.objects.create(
        proposal=proposal,
        call_resource=call.call_resources.get(resource__code="project-storage"),
        amount=Decimal("120.5"),
        justification="Checkpoints.",
    )
    return proposal


@pytest.fixture
def staff(db):
    return make_user("staff@centre.example", full_name="Stefan Staff")


@pytest.fixture
def review(proposal, staff) -> Review:
    return accepted(proposal, staff, kind=ReviewKind.TECHNICAL)


def offer_ids(call: Call) -> tuple[int, int]:
    booster = call.call_resources.get(resource__code="jupiter-booster").pk
    storage = call.call_resources.get(resource__code="project-storage").pk
    return booster, storage


def url(review: Review) -> str:
    return reverse("review_edit", args=[review.pk])


def post(review: Review, **fields) -> dict[str, str]:
    booster, storage = offer_ids(review.proposal.call)
    data = {
        "lock_version": str(review.lock_version),
        "verdict": "feasible_with_changes",
        f"recommended-{booster}": "80000",
        f"recommended-{storage}": "100.25",
        "confidential_comment": "Runs at 512 GPUs need the large queue; plan for it.",
        "save": "draft",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_shows_each_requested_resource_with_its_amount_and_unit(review, staff, call):
    booster, storage = offer_ids(call)

    page = html.unescape(signed_in(staff).get(url(review)).content.decode())

    assert "<legend>Technical verdict</legend>" in page
    assert re.findall(r'name="verdict" value="(\w+)"', page) == [
        "feasible",
        "feasible_with_changes",
        "not_feasible",
    ]
    assert (
        f'<label for="id_recommended-{booster}">JUPITER Booster: recommended amount '
        "(GPU-hours)</label>" in page
    )
    assert "Requested: 100,000 GPU-hours." in page
    assert (
        f'<label for="id_recommended-{storage}">Project storage: recommended amount (TB)</label>'
        in page
    )
    assert "Requested: 120.5 TB." in page
    assert '<label for="id_confidential_comment">Comments</label>' in page
    assert "never shown to the applicant" in page
    assert 'name="comment_to_applicant"' not in page
    assert 'name="recommendation"' not in page
    assert 'name="score-' not in page


def test_saving_writes_the_recommended_amounts_exactly(review, staff):
    response = signed_in(staff).post(url(review), post(review))

    assert response.status_code == 302
    review.refresh_from_db()
    assert recommended_amounts(review) == {
        "jupiter-booster": Decimal("80000.00"),
        "project-storage": Decimal("100.25"),
    }
    assert review.verdict == "feasible_with_changes"
    assert review.confidential_comment == "Runs at 512 GPUs need the large queue; plan for it."
    assert (review.comment_to_applicant, review.recommendation) == ("", "")


def test_an_emptied_amount_is_removed_and_a_changed_one_updated(review, staff, call):
    booster, storage = offer_ids(call)
    client = signed_in(staff)
    client.post(url(review), post(review))
    review.refresh_from_db()

    client.post(
        url(review), post(review, **{f"recommended-{booster}": "", f"recommended-{storage}": "7"})
    )

    review.refresh_from_db()
    assert recommended_amounts(review) == {"project-storage": Decimal("7.00")}
    assert review.recommended.count() == 1


def test_more_than_requested_or_negative_is_refused_beside_the_field(review, staff, call):
    booster, storage = offer_ids(call)
    data = post(review, **{f"recommended-{booster}": "100001", f"recommended-{storage}": "-1"})

    response = signed_in(staff).post(url(review), data)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f'<p class="error" id="id_recommended-{storage}_error">Ensure this value is greater' in (
        page
    )
    assert recommended_amounts(review) == {}
    over = post(review, **{f"recommended-{booster}": "100001"})
    page = html.unescape(signed_in(staff).post(url(review), over).content.decode())
    assert (
        f'<p class="error" id="id_recommended-{booster}_error">You cannot recommend more than '
        "the 100,000 GPU-hours requested.</p>" in page
    )
    assert 'value="100001"' in page
    assert recommended_amounts(review) == {}
    with pytest.raises(ValidationError) as refused:
        review_save(
            review=review,
            by=staff,
            expected_version=review.lock_version,
            data={},
            recommended={booster: Decimal(100_001), storage: Decimal(-1)},
        )
    assert refused.value.message_dict == {
        f"recommended-{booster}": [
            "You cannot recommend more than the 100,000 GPU-hours requested."
        ],
        f"recommended-{storage}": ["The recommended amount cannot be negative."],
    }
    assert recommended_amounts(review) == {}


def test_submitting_needs_a_verdict_and_an_amount_per_requested_resource(review, staff, call):
    booster, storage = offer_ids(call)

    with pytest.raises(ReviewIncomplete) as refused:
        review_submit(
            review=review,
            by=staff,
            expected_version=review.lock_version,
            data={"verdict": "", "confidential_comment": ""},
            recommended={booster: Decimal(50_000), storage: None},
        )

    assert refused.value.problems == {
        "verdict": ["Choose a technical verdict."],
        f"recommended-{storage}": ["Recommend an amount of Project storage (TB)."],
    }
    review.refresh_from_db()
    assert review.state == ReviewState.ACCEPTED
    assert recommended_amounts(review) == {"jupiter-booster": Decimal("50000.00")}


def test_a_verdict_other_than_feasible_needs_comments(review, staff, call):
    booster, storage = offer_ids(call)

    with pytest.raises(ReviewIncomplete) as refused:
        review_submit(
            review=review,
            by=staff,
            expected_version=review.lock_version,
            data={"verdict": "not_feasible", "confidential_comment": " "},
            recommended={booster: Decimal(0), storage: Decimal(0)},
        )

    assert refused.value.problems == {
        "confidential_comment": [
            "Say in the comments what must change, or why the proposal is not feasible."
        ]
    }


def test_a_complete_technical_review_is_submitted_and_shown_read_only(review, staff):
    response = signed_in(staff).post(url(review), post(review, save=None, submit="1"))

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert recommended_amounts(review) == {
        "jupiter-booster": Decimal("80000.00"),
        "project-storage": Decimal("100.25"),
    }
    page = html.unescape(signed_in(staff).get(url(review)).content.decode())
    assert "<dd>Feasible with changes</dd>" in page
    assert "80,000 GPU-hours" in page
    assert "100.25 TB" in page
    assert "120.5 TB" in page
