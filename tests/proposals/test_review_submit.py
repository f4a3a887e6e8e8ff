"""Submitting a review (PRODUCT §5.2): everything checked at once with nothing lost, locked
afterwards, late allowed, and the managers told once when the call's last review is in (§7)."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import (
    ReviewIncomplete,
    ReviewLocked,
    review_decline,
    review_save,
    review_submit,
)
from tests.conftest import make_manager, make_user
from tests.factories import make_call
from tests.proposals.reviewing_factories import (
    accepted,
    assign,
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
def review(proposal, reviewer) -> Review:
    return accepted(proposal, reviewer)


def url(review: Review) -> str:
    return reverse("review_edit", args=[review.pk])


def submit_post(review: Review, **fields) -> dict[str, str]:
    return scientific_post(review, save=None, submit="1", **fields)


def complete_submit(review: Review, by) -> Review:
    """Submit ``review`` complete through the service."""
    excellence, feasibility = criteria_ids(review.proposal.call)
    review.refresh_from_db()
    return review_submit(
        review=review,
        by=by,
        expected_version=review.lock_version,
        data={
            "comment_to_applicant": "Good.",
            "confidential_comment": "",
            "recommendation": "fund",
        },
        scores={excellence: 5, feasibility: 4},
    )


def complete_mails():
    return list(
        OutboxMessage.objects.filter(kind="reviews-complete")
        .order_by("recipient")
        .values_list("event", "recipient", "subject")
    )


# --- Submitting ------------------------------------------------------------------------------


def test_a_complete_review_is_submitted(review, reviewer):
    before = timezone.now()

    response = signed_in(reviewer).post(url(review), submit_post(review))

    assert response.status_code == 302
    assert response["Location"] == reverse("my_reviews")
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert before <= review.submitted_at <= timezone.now()
    assert scores_of(review) == {"Scientific excellence": 4, "Feasibility": 3}
    assert review.comment_to_applicant == "A clear plan; the scaling runs are convincing."
    assert review.recommendation == "fund_reduced"


def test_submitting_an_incomplete_review_lists_every_problem_and_keeps_everything(
    review, reviewer, call
):
    excellence, feasibility = criteria_ids(call)
    data = submit_post(
        review,
        comment_to_applicant="  ",
        recommendation=None,
        confidential_comment="Typed, and kept.",
        **{f"score-{excellence}": None, f"score-{feasibility}": "2"},
    )

    response = signed_in(reviewer).post(url(review), data)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Your review is not submitted yet" in page
    assert "What you entered is saved as a draft. Fix these 3 things, then submit again:" in page
    summary = page.split('id="submit-problems"')[1].split("</div>")[0]
    assert [line.strip() for line in summary.split("<li>")[1:]] == [
        f'<a href="#id_score-{excellence}">Give a score for “Scientific excellence”.</a></li>',
        '<a href="#id_comment_to_applicant">Write a comment to the applicant.</a></li>',
        '<a href="#id_recommendation">Choose a recommendation.</a></li>\n      </ul>',
    ]
    assert f'id="id_score-{excellence}_error"' in page
    assert 'id="id_comment_to_applicant_error"' in page
    assert 'id="id_recommendation_error"' in page
    assert "Typed, and kept." in page
    assert f'value="2" id="id_score-{feasibility}_2" checked' in page
    # What was typed is saved as a draft; the review is not submitted.
    review.refresh_from_db()
    assert (review.state, review.submitted_at, review.lock_version) == (
        ReviewState.ACCEPTED,
        None,
        3,
    )
    assert scores_of(review) == {"Feasibility": 2}
    assert review.confidential_comment == "Typed, and kept."
    assert 'name="lock_version" value="3"' in page


def test_the_service_names_every_problem_at_once(review, reviewer, call):
    excellence, feasibility = criteria_ids(call)

    with pytest.raises(ReviewIncomplete) as refused:
        review_submit(review=review, by=reviewer, expected_version=2, data={})

    assert refused.value.problems == {
        f"score-{excellence}": ["Give a score for “Scientific excellence”."],
        f"score-{feasibility}": ["Give a score for “Feasibility”."],
        "comment_to_applicant": ["Write a comment to the applicant."],
        "recommendation": ["Choose a recommendation."],
    }
    assert Review.objects.get(pk=review.pk).state == ReviewState.ACCEPTED


# --- Locked afterwards -----------------------------------------------------------------------


def test_a_submitted_review_is_read_only_for_its_reviewer(review, reviewer):
    complete_submit(review, reviewer)

    page = html.unescape(signed_in(reviewer).get(url(review)).content.decode())

    assert 'class="review-form"' not in page
    assert "Submitted on " in page
    assert "Your review is submitted and locked." in page
    assert '<dt>Scientific excellence <span class="muted">(weight 2)</span></dt>' in page
    assert "<dd>5 on 0–5</dd>" in page
    assert "<dd>Fund</dd>" in page
    assert "Reopen the review" not in page


def test_a_later_save_is_refused_with_a_message_and_changes_nothing(review, reviewer):
    stale_tab = scientific_post(review, comment_to_applicant="Changed afterwards.")
    complete_submit(review, reviewer)
    review.refresh_from_db()
    version = review.lock_version

    response = signed_in(reviewer).post(url(review), stale_tab)

    assert response.status_code == 409
    page = response.content.decode()
    assert "This review was submitted on " in page
    assert (
        "and is locked; nothing was changed. A call manager can reopen it if it must change."
        in (page)
    )
    review.refresh_from_db()
    assert (review.state, review.comment_to_applicant, review.lock_version) == (
        ReviewState.SUBMITTED,
        "Good.",
        version,
    )
    with pytest.raises(ReviewLocked):
        review_save(review=review, by=reviewer, expected_version=version, data={})


# --- Late ------------------------------------------------------------------------------------


def test_submitting_after_the_due_date_is_allowed_and_called_late(proposal, reviewer):
    review = accepted(proposal, reviewer, due_at=timezone.now() - timedelta(days=2))
    client = signed_in(reviewer)
    assert "This review is overdue." in client.get(url(review)).content.decode()

    complete_submit(review, reviewer)

    assert review.state == ReviewState.SUBMITTED
    page = client.get(url(review)).content.decode()
    assert '<span class="badge badge-warning">late</span>' in page
    assert "Submitted late" in client.get(reverse("my_reviews")).content.decode()


# --- The call's last review ------------------------------------------------------------------


def test_the_managers_are_told_once_when_the_last_review_of_the_call_is_in(call, pi, reviewer):
    second_manager = make_manager("second@centre.example")
    first_manager = make_manager()
    proposal = submitted_proposal(call, pi)
    colleague = make_user("colleague@inst.example")
    first = accepted(proposal, reviewer)
    second = accepted(proposal, colleague)
    technical = accepted(proposal, make_user("staff@centre.example"), kind=ReviewKind.TECHNICAL)

    complete_submit(first, reviewer)
    assert complete_mails() == []
    complete_submit(second, colleague)
    assert complete_mails() == []  # the technical review is still outstanding
    technical.refresh_from_db()
    request = proposal.requests.get()
    review_submit(
        review=technical,
        by=technical.reviewer,
        expected_version=technical.lock_version,
        data={"verdict": "feasible", "confidential_comment": ""},
        recommended={request.call_resource_id: request.amount},
    )

    subject = "[Allot] All reviews of JUPITER 2027-1 are in"
    assert complete_mails() == [
        (f"reviews-complete:{call.pk}", "manager@centre.example", subject),
        (f"reviews-complete:{call.pk}", "second@centre.example", subject),
    ]
    body = OutboxMessage.objects.get(recipient="manager@centre.example").body_text
    assert "Every review of the call JUPITER 2027-1 (JUPITER 2027-1 call for proposals)" in body
    assert "1 proposal in review" in body
    assert "3 submitted reviews" in body
    assert reverse("call_ranking", args=[call.pk]) in body
    assert {first_manager.pk, second_manager.pk} == set(
        OutboxMessage.objects.filter(kind="reviews-complete").values_list("user_id", flat=True)
    )


def test_not_before_every_proposal_in_review_has_its_reviews(call, pi, reviewer):
    make_manager()
    first = submitted_proposal(call, pi)
    second = submitted_proposal(call, make_user("pi2@uni.example"), acronym="SECOND")
    invited = assign(second, make_user("slow@inst.example"))
    review = accepted(first, reviewer)

    complete_submit(review, reviewer)
    assert complete_mails() == []  # one invitation still unanswered

    review_two = accepted(second, make_user("fast@inst.example"))
    review_decline(review=invited, by=invited.reviewer, reason="No time.")
    complete_submit(review_two, review_two.reviewer)

    assert [event for event, _, _ in complete_mails()] == [f"reviews-complete:{call.pk}"]


def test_a_proposal_without_any_submitted_review_keeps_the_call_incomplete(call, pi, reviewer):
    make_manager()
    first = submitted_proposal(call, pi)
    submitted_proposal(call, make_user("pi2@uni.example"), acronym="UNASSIGNED")
    review = accepted(first, reviewer)

    complete_submit(review, reviewer)

    assert complete_mails() == []


def test_reopening_and_submitting_again_does_not_tell_the_managers_twice(
    proposal, reviewer, manager
):
    from proposals.review.services.reviewing import review_reopen

    review = accepted(proposal, reviewer)
    complete_submit(review, reviewer)
    assert len(complete_mails()) == 1

    review_reopen(review=review, by=manager)
    complete_submit(review, reviewer)

    assert len(complete_mails()) == 1
    assert OutboxMessage.objects.filter(kind="reviews-complete").count() == 1
