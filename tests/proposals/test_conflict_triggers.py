"""The database itself refuses an active review of a pair in conflict (PRODUCT §5.1)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from proposals.enums import ConflictReason, ConflictStatus, ReviewState
from proposals.models import Conflict, Review
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
