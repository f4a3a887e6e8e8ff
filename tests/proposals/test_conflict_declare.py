"""A reviewer declares a conflict of interest with a proposal they were asked to review."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewKind, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.rules import has_blocking_conflict, is_assigned_reviewer
from proposals.review.services.conflicts import DECLINE_REASON, conflict_declare
from proposals.submission.rules import can_view_proposal
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, complete_proposal
from tests.proposals.helpers import login_url_for

WHY = "I co-authored two papers with the PI last year."


@pytest.fixture
def call(db):
    return make_call()


@pytest.fixture
def proposal(call, pi):
    proposal = complete_proposal(call, pi, acronym="SPARSE-MOE")
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


def make_review(proposal, reviewer, state=ReviewState.INVITED, kind=ReviewKind.SCIENTIFIC):
    if not proposal.call.roles.filter(user=reviewer).exists():
        add_call_role(proposal.call, reviewer, role=CallRoleKind.REVIEWER)
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=kind,
        state=state,
        due_at=timezone.now() + timedelta(days=20),
        submitted_at=timezone.now() if state == ReviewState.SUBMITTED else None,
    )


def declared(proposal) -> set[tuple[int, str, str, str]]:
    return set(
        Conflict.objects.filter(proposal=proposal).values_list(
            "reviewer_id", "reason", "status", "detail"
        )
    )


# --- The service -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [ReviewState.INVITED, ReviewState.ACCEPTED, ReviewState.SUBMITTED]
)
def test_declaring_declines_the_active_review_then_blocks_the_pair(proposal, reviewer, state):
    review = make_review(proposal, reviewer, state)
    now = timezone.now()

    conflict = conflict_declare(proposal=proposal, reviewer=reviewer, detail=f"  {WHY}\n", now=now)

    review.refresh_from_db()
    assert (review.state, review.decline_reason, review.responded_at) == (
        ReviewState.DECLINED,
        "Conflict of interest declared",
        now,
    )
    assert DECLINE_REASON == "Conflict of interest declared"
    assert (conflict.reason, conflict.status, conflict.detail) == ("declared", "declared", WHY)
    assert declared(proposal) == {(reviewer.pk, "declared", "declared", WHY)}
    assert has_blocking_conflict(reviewer, proposal) is True
    assert is_assigned_reviewer(reviewer, proposal) is False
    assert can_view_proposal(reviewer, proposal) is False


def test_both_kinds_of_review_of_the_pair_are_declined(proposal, reviewer, coi):
    make_review(proposal, reviewer, ReviewState.ACCEPTED)
    make_review(proposal, reviewer, ReviewState.INVITED, kind=ReviewKind.TECHNICAL)
    make_review(proposal, coi, ReviewState.ACCEPTED)

    conflict_declare(proposal=proposal, reviewer=reviewer, detail=WHY)

    assert set(Review.objects.values_list("reviewer_id", "kind", "state", "decline_reason")) == {
        (reviewer.pk, "scientific", "declined", DECLINE_REASON),
        (reviewer.pk, "technical", "declined", DECLINE_REASON),
        (coi.pk, "scientific", "accepted", ""),
    }


def test_a_reviewer_who_already_declined_can_still_declare(proposal, reviewer):
    review = make_review(proposal, reviewer, ReviewState.DECLINED)
    Review.objects.filter(pk=review.pk).update(decline_reason="No time this spring.")

    conflict_declare(proposal=proposal, reviewer=reviewer, detail=WHY)

    review.refresh_from_db()
    assert (review.state, review.decline_reason) == (ReviewState.DECLINED, "No time this spring.")
    assert declared(proposal) == {(reviewer.pk, "declared", "declared", WHY)}


def test_declaring_twice_keeps_the_first_declaration(proposal, reviewer):
    make_review(proposal, reviewer)
    first = conflict_declare(proposal=proposal, reviewer=reviewer, detail=WHY)

    again = conflict_declare(proposal=proposal, reviewer=reviewer, detail="Something else.")

    assert again.pk == first.pk
    assert declared(proposal) == {(reviewer.pk, "declared", "declared", WHY)}


def test_a_detected_conflict_of_the_pair_stays_beside_the_declaration(proposal, reviewer):
    make_review(proposal, reviewer)
    Conflict.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        reason=ConflictReason.AFFILIATION,
        status=ConflictStatus.DETECTED,
        detail="Same affiliation.",
    )

    conflict_declare(proposal=proposal, reviewer=reviewer, detail=WHY)

    assert declared(proposal) == {
        (reviewer.pk, "affiliation", "detected", "Same affiliation."),
        (reviewer.pk, "declared", "declared", WHY),
    }


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ("", "Please say briefly why you are in conflict with this proposal."),
        ("  \n ", "Please say briefly why you are in conflict with this proposal."),
        ("x" * 2001, "Please keep the explanation under 2000 characters."),
    ],
)
def test_a_blank_or_too_long_explanation_is_refused(proposal, reviewer, detail, message):
    review = make_review(proposal, reviewer, ReviewState.ACCEPTED)

    with pytest.raises(ValidationError) as refused:
        conflict_declare(proposal=proposal, reviewer=reviewer, detail=detail)

    assert refused.value.messages == [message]
    review.refresh_from_db()
    assert review.state == ReviewState.ACCEPTED
    assert declared(proposal) == set()


def test_the_longest_explanation_is_accepted(proposal, reviewer):
    make_review(proposal, reviewer)
    conflict = conflict_declare(proposal=proposal, reviewer=reviewer, detail="x" * 2000)
    assert conflict.detail == "x" * 2000


@pytest.mark.parametrize("state", [None, ReviewState.REMOVED])
def test_only_a_reviewer_of_the_proposal_may_declare(proposal, reviewer, state):
    if state is not None:
        make_review(proposal, reviewer, state)

    with pytest.raises(PermissionDenied):
        conflict_declare(proposal=proposal, reviewer=reviewer, detail=WHY)
    assert declared(proposal) == set()


def test_the_database_still_refuses_a_new_review_after_a_declaration(proposal, reviewer):
    review = make_review(proposal, reviewer, ReviewState.ACCEPTED)
    conflict_declare(proposal=proposal, reviewer=reviewer, detail=WHY)

    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        Review.objects.create(
            proposal=proposal,
            reviewer=reviewer,
            kind=ReviewKind.TECHNICAL,
            due_at=timezone.now() + timedelta(days=20),
        )
    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        Review.objects.filter(pk=review.pk).update(state=ReviewState.INVITED)
    assert list(Review.objects.values_list("kind", "state")) == [("scientific", "declined")]


# --- The view --------------------------------------------------------------------------------


def url(proposal) -> str:
    return reverse("conflict_declare", args=[proposal.pk])


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_invited_reviewer_declares(client, proposal, reviewer):
    review = make_review(proposal, reviewer)
    client.force_login(reviewer)

    response = client.post(url(proposal), {"detail": WHY})

    assert response.status_code == 302
    assert response["Location"] == reverse("my_reviews")
    assert texts(response) == [
        f"You declared a conflict of interest with {proposal.reference}. You will not review "
        "it, and it is no longer shown to you."
    ]
    review.refresh_from_db()
    assert review.state == ReviewState.DECLINED
    assert declared(proposal) == {(reviewer.pk, "declared", "declared", WHY)}


def test_a_blank_explanation_is_refused_beside_the_field(client, proposal, reviewer):
    review = make_review(proposal, reviewer)
    client.force_login(reviewer)

    response = client.post(url(proposal), {"detail": "   "})

    assert response.status_code == 200
    assert response.context["conflict_form"].errors == {
        "detail": ["Please say briefly why you are in conflict with this proposal."]
    }
    assert 'id="id_conflict_detail_error"' in response.content.decode()
    review.refresh_from_db()
    assert review.state == ReviewState.INVITED
    assert declared(proposal) == set()


def test_who_may_declare(client, proposal, pi, reviewer, committee, manager, outsider):
    make_review(proposal, reviewer)
    other_reviewer = make_user("otto.r@else.example", full_name="Other Reviewer")
    add_call_role(proposal.call, other_reviewer, role=CallRoleKind.REVIEWER)
    removed = make_user("remy@else.example", full_name="Remy Removed")
    make_review(proposal, removed, ReviewState.REMOVED)
    add_call_role(proposal.call, committee, role=CallRoleKind.COMMITTEE)

    answers = {}
    for name, person in {
        "another reviewer": other_reviewer,
        "removed reviewer": removed,
        "pi": pi,
        "committee": committee,
        "manager": manager,
        "outsider": outsider,
    }.items():
        client.force_login(person)
        answers[name] = client.post(url(proposal), {"detail": WHY}).status_code
    client.logout()
    anonymous = client.post(url(proposal), {"detail": WHY})

    assert answers == {
        "another reviewer": 404,
        "removed reviewer": 404,
        "pi": 404,
        "committee": 302,  # the committee declares too (PRODUCT §5.1 as amended)
        "manager": 404,
        "outsider": 404,
    }
    assert (anonymous.status_code, anonymous["Location"]) == (302, login_url_for(url(proposal)))
    assert declared(proposal) == {(committee.pk, "declared", "declared", WHY)}


def test_an_unknown_proposal_is_404(client, proposal, reviewer):
    make_review(proposal, reviewer)
    client.force_login(reviewer)
    response = client.post(reverse("conflict_declare", args=[proposal.pk + 1000]), {"detail": WHY})
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post(client, proposal, reviewer, method):
    make_review(proposal, reviewer)
    client.force_login(reviewer)
    assert getattr(client, method)(url(proposal)).status_code == 405
    assert declared(proposal) == set()
