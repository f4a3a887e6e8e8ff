"""A call manager reopens a submitted review (PRODUCT §5.2); its reviewer changes it and
submits it again."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import review_reopen, review_submit
from tests.conftest import make_manager, make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.helpers import login_url_for, second_factor_url
from tests.proposals.reviewing_factories import (
    accepted,
    criteria_ids,
    scientific_post,
    scores_of,
    signed_in,
    submitted_proposal,
)


@pytest.fixture
def call(db):
    return make_call()


@pytest.fixture
def proposal(call, pi):
    return submitted_proposal(call, pi)


@pytest.fixture
def review(proposal, reviewer, call) -> Review:
    review = accepted(proposal, reviewer)
    excellence, feasibility = criteria_ids(call)
    review_submit(
        review=review,
        by=reviewer,
        expected_version=review.lock_version,
        data={"comment_to_applicant": "First version.", "recommendation": "fund"},
        scores={excellence: 5, feasibility: 5},
    )
    return review


def url(review: Review) -> str:
    return reverse("review_reopen", args=[review.pk])


def edit(review: Review) -> str:
    return reverse("review_edit", args=[review.pk])


def test_a_manager_sees_the_submitted_review_with_a_reopen_button(review, manager):
    page = signed_in(manager).get(edit(review)).content.decode()

    assert f'action="{url(review)}"' in page
    assert ">Reopen the review</button>" in page
    assert "First version." in page


def test_reopening_makes_the_review_editable_again_and_it_can_be_submitted_again(
    review, reviewer, manager
):
    submitted_at = Review.objects.get(pk=review.pk).submitted_at
    before = timezone.now()

    response = signed_in(manager).post(url(review))

    assert response.status_code == 302
    assert response["Location"] == edit(review)
    review.refresh_from_db()
    assert (review.state, review.reopened_by, review.submitted_at) == (
        ReviewState.ACCEPTED,
        manager,
        submitted_at,
    )
    assert before <= review.reopened_at <= timezone.now()

    client = signed_in(reviewer)
    page = client.get(edit(review)).content.decode()
    assert 'class="review-form"' in page
    assert "A call manager reopened this review." in page
    data = scientific_post(
        review, save=None, submit="1", comment_to_applicant="Second version, corrected."
    )
    assert client.post(edit(review), data).status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert review.comment_to_applicant == "Second version, corrected."
    assert scores_of(review) == {"Scientific excellence": 4, "Feasibility": 3}
    assert review.submitted_at > submitted_at


def test_only_a_submitted_review_can_be_reopened(proposal, manager):
    draft = accepted(proposal, make_user("slow@inst.example"))

    response = signed_in(manager).post(url(draft), follow=True)

    assert "Only a submitted review can be reopened; this one is accepted." in (
        response.content.decode()
    )
    draft.refresh_from_db()
    assert (draft.state, draft.reopened_at) == (ReviewState.ACCEPTED, None)


def test_who_may_reopen(client, review, reviewer, pi, committee, call):
    add_call_role(call, committee, CallRoleKind.COMMITTEE)
    other_reviewer = make_user("other@inst.example")
    accepted(review.proposal, other_reviewer)

    for person in (reviewer, other_reviewer, pi, committee):
        assert signed_in(person).post(url(review)).status_code == 403, person
        with pytest.raises(PermissionDenied):
            review_reopen(review=review, by=person)
    response = client.post(url(review))
    assert response.status_code == 302
    assert response["Location"] == login_url_for(url(review))
    # A manager without two-factor authentication is sent to set it up first.
    response = signed_in(make_manager("nomfa@centre.example", with_mfa=False)).post(url(review))
    assert response["Location"] == second_factor_url("mfa_activate_totp")
    assert Review.objects.get(pk=review.pk).state == ReviewState.SUBMITTED


def test_reopen_answers_only_post(review, manager):
    client = signed_in(manager)

    assert client.get(url(review)).status_code == 405
    assert Review.objects.get(pk=review.pk).state == ReviewState.SUBMITTED


def test_the_service_refuses_a_review_that_is_not_submitted(proposal, manager):
    draft = accepted(proposal, make_user("slow@inst.example"))

    with pytest.raises(ValidationError) as refused:
        review_reopen(review=draft, by=manager)

    assert refused.value.messages == [
        "Only a submitted review can be reopened; this one is accepted."
    ]
