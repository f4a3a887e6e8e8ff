"""The invitation to review (PRODUCT §5.1): the page, accepting with the no-conflict
declaration, declining with a reason, and who may see and answer it (PRODUCT §1.1)."""

import html
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.services.reviewing import review_accept, review_decline
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.helpers import login_url_for
from tests.proposals.reviewing_factories import (
    DUE_TEXT,
    accepted,
    assign,
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
    return assign(proposal, reviewer)


def detail(review: Review) -> str:
    return reverse("review_detail", args=[review.pk])


def respond(review: Review) -> str:
    return reverse("review_respond", args=[review.pk])


def states(review: Review) -> tuple:
    review.refresh_from_db()
    return (
        review.state,
        review.responded_at,
        review.no_conflict_declared_at,
        review.decline_reason,
        review.lock_version,
    )


# --- The page --------------------------------------------------------------------------------


def test_the_invitation_shows_the_proposal_the_due_date_and_the_three_answers(review, reviewer):
    page = html.unescape(signed_in(reviewer).get(detail(review)).content.decode())

    assert "SPARSE-MOE: Scaling laws of sparse mixture-of-experts language models" in page
    assert "We measure how sparse expert models scale with data and compute." in page
    assert "PE6" in page
    assert "JUPITER 2027-1" in page
    assert DUE_TEXT in page
    assert 'name="no_conflict"' in page
    assert '<label class="checkbox" for="id_no_conflict">' in page
    assert "I have no conflict of interest with this proposal" in page
    assert '<label for="id_reason">' in page
    assert f'action="{reverse("conflict_declare", args=[review.proposal_id])}"' in page
    assert "I have a conflict of interest" in page
    # Not yet accepted: no way to the review form.
    assert reverse("review_edit", args=[review.pk]) not in page


def test_after_accepting_the_page_links_to_the_proposal_and_the_review_form(proposal, reviewer):
    review = accepted(proposal, reviewer)

    page = signed_in(reviewer).get(detail(review)).content.decode()

    assert f'href="{reverse("proposal_detail", args=[proposal.pk])}"' in page
    assert f'href="{reverse("review_edit", args=[review.pk])}"' in page
    assert 'name="no_conflict"' not in page


# --- Accepting -------------------------------------------------------------------------------


def test_accepting_records_the_no_conflict_declaration(review, reviewer):
    before = timezone.now()

    response = signed_in(reviewer).post(respond(review), {"action": "accept", "no_conflict": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("review_edit", args=[review.pk])
    state, responded_at, declared_at, reason, version = states(review)
    assert (state, reason, version) == (ReviewState.ACCEPTED, "", 2)
    assert responded_at == declared_at
    assert before <= responded_at <= timezone.now()


def test_accepting_without_the_no_conflict_box_is_refused_and_explained(review, reviewer):
    response = signed_in(reviewer).post(respond(review), {"action": "accept"})

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Tick the box to confirm that you have no conflict of interest, or declare your "
        "conflict below." in page
    )
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)


def test_accepting_twice_says_so_and_changes_nothing(proposal, reviewer):
    review = accepted(proposal, reviewer)
    before = states(review)

    response = signed_in(reviewer).post(
        respond(review), {"action": "accept", "no_conflict": "on"}, follow=True
    )

    assert "You already accepted this review." in response.content.decode()
    assert states(review) == before


def test_accepting_with_a_blocking_conflict_on_record_is_refused(review, reviewer, proposal):
    # The database refuses a declared conflict beside an active review (migration 0005); to
    # reach the service's own check, this test drops the trigger inside its transaction,
    # which rolls back with the test (DDL is transactional on SQLite and PostgreSQL).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER allot_conflict_without_review ON proposals_conflict")
        else:
            cursor.execute("DROP TRIGGER allot_conflict_without_review_insert")
    Conflict.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        reason=ConflictReason.DECLARED,
        status=ConflictStatus.DECLARED,
    )

    with pytest.raises(ValidationError) as refused:
        review_accept(review=review, by=reviewer)

    assert refused.value.messages == [
        "A conflict of interest between you and this proposal is on record; you cannot review it."
    ]
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)


def test_a_detected_conflict_not_yet_decided_does_not_stop_accepting(review, reviewer, proposal):
    Conflict.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        reason=ConflictReason.AFFILIATION,
        status=ConflictStatus.DETECTED,
    )

    review_accept(review=review, by=reviewer)

    assert review.state == ReviewState.ACCEPTED


def test_only_the_reviewer_can_accept(review, outsider, manager):
    for person in (outsider, manager):
        with pytest.raises(PermissionDenied):
            review_accept(review=review, by=person)
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)


def test_a_withdrawn_proposal_needs_no_review(review, reviewer, proposal, pi):
    from proposals.submission.services.lifecycle import proposal_withdraw

    proposal_withdraw(proposal=proposal, by=pi)

    with pytest.raises(ValidationError) as refused:
        review_accept(review=review, by=reviewer)

    assert refused.value.messages == ["This proposal is withdrawn; it no longer needs a review."]


# --- Declining -------------------------------------------------------------------------------


def test_declining_records_the_reason(review, reviewer):
    response = signed_in(reviewer).post(
        respond(review), {"action": "decline", "reason": "  On leave until June.  "}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("my_reviews")
    state, responded_at, declared_at, reason, version = states(review)
    assert (state, declared_at, reason, version) == (
        ReviewState.DECLINED,
        None,
        "On leave until June.",
        2,
    )
    assert responded_at is not None


def test_declining_without_a_reason_is_refused_beside_the_field(review, reviewer):
    response = signed_in(reviewer).post(respond(review), {"action": "decline", "reason": "   "})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<p class="error" id="id_reason_error">' in page
    assert "Please say briefly why you decline, so a replacement can be found." in page
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)


def test_the_service_refuses_a_blank_reason_too(review, reviewer):
    with pytest.raises(ValidationError) as refused:
        review_decline(review=review, by=reviewer, reason=" \n ")

    assert refused.value.message_dict == {
        "reason": ["Please say briefly why you decline, so a replacement can be found."]
    }
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)


def test_a_declined_invitation_shows_only_that_it_was_declined(review, reviewer):
    review_decline(review=review, by=reviewer, reason="No time.")

    page = signed_in(reviewer).get(detail(review)).content.decode()

    assert "You declined this invitation on" in page
    assert "No time." in page
    assert "We measure how sparse expert models" not in page
    assert reverse("proposal_detail", args=[review.proposal_id]) not in page


def test_a_manager_reads_who_declined_and_why(review, reviewer, manager):
    review_decline(review=review, by=reviewer, reason="No time.")

    page = signed_in(manager).get(detail(review)).content.decode()

    assert "Rita Reviewer declined this invitation on" in page
    assert "Reason: No time." in page
    assert "You declined" not in page


def test_an_accepted_review_cannot_be_declined_here(proposal, reviewer):
    review = accepted(proposal, reviewer)

    with pytest.raises(ValidationError) as refused:
        review_decline(review=review, by=reviewer, reason="Changed my mind.")

    assert refused.value.messages == ["You already accepted this review."]


def test_an_unknown_action_is_a_bad_request(review, reviewer):
    response = signed_in(reviewer).post(respond(review), {"action": "maybe"})

    assert response.status_code == 400
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)


# --- Who may see and answer ------------------------------------------------------------------


def test_who_may_open_the_invitation(client, review, reviewer, pi, committee, manager, call):
    other_reviewer = make_user("other@inst.example")
    assign(review.proposal, other_reviewer)
    add_call_role(call, committee, CallRoleKind.COMMITTEE)

    assert signed_in(reviewer).get(detail(review)).status_code == 200
    assert signed_in(other_reviewer).get(detail(review)).status_code == 404
    assert signed_in(pi).get(detail(review)).status_code == 404
    assert signed_in(committee).get(detail(review)).status_code == 404
    manager_page = signed_in(manager).get(detail(review))
    assert manager_page.status_code == 200
    assert 'name="no_conflict"' not in manager_page.content.decode()
    assert "The reviewer has not answered this invitation yet." in manager_page.content.decode()
    response = client.get(detail(review))
    assert response.status_code == 302
    assert response["Location"] == login_url_for(detail(review))


def test_who_may_answer_the_invitation(client, review, reviewer, pi, committee, manager, call):
    other_reviewer = make_user("other@inst.example")
    assign(review.proposal, other_reviewer)
    add_call_role(call, committee, CallRoleKind.COMMITTEE)
    accept = {"action": "accept", "no_conflict": "on"}

    assert signed_in(other_reviewer).post(respond(review), accept).status_code == 404
    assert signed_in(pi).post(respond(review), accept).status_code == 404
    assert signed_in(committee).post(respond(review), accept).status_code == 404
    assert signed_in(manager).post(respond(review), accept).status_code == 403
    response = client.post(respond(review), accept)
    assert response.status_code == 302
    assert response["Location"] == login_url_for(respond(review))
    assert states(review) == (ReviewState.INVITED, None, None, "", 1)
    assert signed_in(reviewer).post(respond(review), accept).status_code == 302


def test_wrong_methods_are_not_allowed(review, reviewer):
    client = signed_in(reviewer)

    assert client.get(respond(review)).status_code == 405
    assert client.post(detail(review)).status_code == 405
    assert client.head(detail(review)).status_code == 200


def test_a_review_a_manager_removed_is_gone_for_its_reviewer(review, reviewer):
    Review.objects.filter(pk=review.pk).update(state=ReviewState.REMOVED)

    assert signed_in(reviewer).get(detail(review)).status_code == 404


def test_an_overdue_invitation_says_so(proposal, reviewer):
    review = assign(proposal, reviewer, due_at=timezone.now() - timedelta(hours=1))

    page = signed_in(reviewer).get(detail(review)).content.decode()

    assert "Overdue" in page
    assert "The due date has passed." in page
