"""The database itself refuses an active review of a pair in conflict (PRODUCT §5.1)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from proposals.review.enums import ConflictReason, ConflictStatus, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.services.conflicts import conflict_decide, conflict_declare
from tests.factories import make_call
from tests.proposal_factories import make_proposal


@pytest.fixture
def proposal(pi):
    return make_proposal(make_call(), pi, title="Sparse attention at scale")


def review(proposal, reviewer, state=ReviewState.INVITED) -> Review:
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        state=state,
        due_at=timezone.now() + timedelta(days=20),
    )


def conflict(proposal, reviewer, status) -> Conflict:
    return Conflict.objects.create(
        proposal=proposal, reviewer=reviewer, reason=ConflictReason.DECLARED, status=status
    )


@pytest.mark.parametrize("status", [ConflictStatus.CONFIRMED, ConflictStatus.DECLARED])
def test_no_review_can_be_inserted_for_a_blocked_pair(proposal, reviewer, status):
    conflict(proposal, reviewer, status)
    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        review(proposal, reviewer)
    assert Review.objects.count() == 0


def test_a_declined_review_can_be_reactivated_only_without_a_conflict(proposal, reviewer):
    declined = review(proposal, reviewer, state=ReviewState.DECLINED)
    conflict(proposal, reviewer, ConflictStatus.DECLARED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.filter(pk=declined.pk).update(state=ReviewState.ACCEPTED)
    declined.refresh_from_db()
    assert declined.state == ReviewState.DECLINED


def test_a_conflict_cannot_be_confirmed_while_the_review_is_active(proposal, reviewer):
    review(proposal, reviewer, state=ReviewState.ACCEPTED)
    detected = conflict(proposal, reviewer, ConflictStatus.DETECTED)
    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        Conflict.objects.filter(pk=detected.pk).update(status=ConflictStatus.CONFIRMED)
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DETECTED


def test_detected_and_dismissed_conflicts_do_not_block(proposal, reviewer):
    conflict(proposal, reviewer, ConflictStatus.DISMISSED)
    assert review(proposal, reviewer).state == ReviewState.INVITED


@pytest.mark.parametrize("status", [ConflictStatus.CONFIRMED, ConflictStatus.DECLARED])
@pytest.mark.parametrize(
    "state", [ReviewState.INVITED, ReviewState.ACCEPTED, ReviewState.SUBMITTED]
)
def test_no_blocking_conflict_can_be_inserted_beside_an_active_review(
    proposal, reviewer, status, state
):
    Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        state=state,
        due_at=timezone.now() + timedelta(days=20),
        submitted_at=timezone.now() if state == ReviewState.SUBMITTED else None,
    )
    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        conflict(proposal, reviewer, status)
    assert Conflict.objects.count() == 0


def test_a_detected_conflict_can_be_recorded_beside_an_active_review(proposal, reviewer):
    review(proposal, reviewer, state=ReviewState.ACCEPTED)
    assert conflict(proposal, reviewer, ConflictStatus.DETECTED).status == "detected"


def test_ending_the_review_first_lets_the_conflict_be_confirmed(proposal, reviewer):
    active = review(proposal, reviewer, state=ReviewState.ACCEPTED)
    detected = conflict(proposal, reviewer, ConflictStatus.DETECTED)
    with transaction.atomic():
        Review.objects.filter(pk=active.pk).update(state=ReviewState.REMOVED)
        Conflict.objects.filter(pk=detected.pk).update(status=ConflictStatus.CONFIRMED)
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.CONFIRMED


def test_a_blocked_pair_does_not_block_other_pairs(proposal, reviewer, coi):
    conflict(proposal, reviewer, ConflictStatus.CONFIRMED)
    other = make_proposal(proposal.call, coi, title="Another proposal")
    assert review(proposal, coi).state == ReviewState.INVITED
    assert review(other, reviewer).state == ReviewState.INVITED


# The services end the review before blocking the pair, in one transaction, so the triggers
# let them through (on PostgreSQL too, where the services' row locks are real).


def test_confirming_through_the_service_removes_the_review_first(proposal, reviewer, manager):
    active = review(proposal, reviewer, state=ReviewState.ACCEPTED)
    detected = conflict(proposal, reviewer, ConflictStatus.DETECTED)

    assert conflict_decide(conflict=detected, by=manager, confirm=True) == 1

    active.refresh_from_db()
    detected.refresh_from_db()
    assert (active.state, detected.status) == (ReviewState.REMOVED, ConflictStatus.CONFIRMED)


def test_declaring_through_the_service_declines_the_review_first(proposal, reviewer):
    active = review(proposal, reviewer, state=ReviewState.INVITED)

    declared = conflict_declare(proposal=proposal, reviewer=reviewer, detail="Co-author.")

    active.refresh_from_db()
    assert (active.state, declared.status) == (ReviewState.DECLINED, ConflictStatus.DECLARED)
