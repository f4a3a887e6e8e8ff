"""Call managers confirm or dismiss a detected conflict of interest (PRODUCT §5.1)."""

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
from proposals.review.rules import has_blocking_conflict
from proposals.review.services.conflicts import conflict_decide
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_manager
from tests.factories import make_call
from tests.proposal_factories import add_call_role, complete_proposal
from tests.proposals.helpers import login_url_for, second_factor_url


@pytest.fixture
def call(db):
    return make_call()


@pytest.fixture
def proposal(call, pi):
    proposal = complete_proposal(call, pi, acronym="SPARSE-MOE")
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def detected(proposal, reviewer):
    add_call_role(proposal.call, reviewer, role=CallRoleKind.REVIEWER)
    return Conflict.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        reason=ConflictReason.AFFILIATION,
        status=ConflictStatus.DETECTED,
        detail="Same affiliation as the PI, Paula Investigator: Inst Example.",
    )


def make_review(proposal, reviewer, state=ReviewState.ACCEPTED, kind=ReviewKind.SCIENTIFIC):
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=kind,
        state=state,
        due_at=timezone.now() + timedelta(days=20),
        submitted_at=timezone.now() if state == ReviewState.SUBMITTED else None,
    )


def states(proposal) -> dict[tuple[int, str], str]:
    return {(r.reviewer_id, r.kind): r.state for r in Review.objects.filter(proposal=proposal)}


# --- The service -----------------------------------------------------------------------------


def test_confirming_blocks_the_pair_and_records_who_decided(detected, manager, proposal, reviewer):
    now = timezone.now()

    assert conflict_decide(conflict=detected, by=manager, confirm=True, now=now) == 0

    detected.refresh_from_db()
    assert (detected.status, detected.decided_by, detected.decided_at) == (
        ConflictStatus.CONFIRMED,
        manager,
        now,
    )
    assert has_blocking_conflict(reviewer, proposal) is True


def test_dismissing_leaves_the_active_review_alone(detected, manager, proposal, reviewer):
    make_review(proposal, reviewer, ReviewState.ACCEPTED)

    assert conflict_decide(conflict=detected, by=manager, confirm=False) == 0

    detected.refresh_from_db()
    assert (detected.status, detected.decided_by) == (ConflictStatus.DISMISSED, manager)
    assert states(proposal) == {(reviewer.pk, "scientific"): "accepted"}
    assert has_blocking_conflict(reviewer, proposal) is False


def test_confirming_removes_every_active_review_of_the_pair_first(
    detected, manager, proposal, reviewer, coi
):
    make_review(proposal, reviewer, ReviewState.SUBMITTED)
    make_review(proposal, reviewer, ReviewState.INVITED, kind=ReviewKind.TECHNICAL)
    make_review(proposal, coi, ReviewState.ACCEPTED)

    assert conflict_decide(conflict=detected, by=manager, confirm=True) == 2

    assert states(proposal) == {
        (reviewer.pk, "scientific"): "removed",
        (reviewer.pk, "technical"): "removed",
        (coi.pk, "scientific"): "accepted",
    }
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.CONFIRMED


def test_a_declined_review_stays_declined(detected, manager, proposal, reviewer):
    make_review(proposal, reviewer, ReviewState.DECLINED)

    assert conflict_decide(conflict=detected, by=manager, confirm=True) == 0
    assert states(proposal) == {(reviewer.pk, "scientific"): "declined"}


def test_the_removed_review_cannot_come_back_after_confirming(
    detected, manager, proposal, reviewer
):
    review = make_review(proposal, reviewer, ReviewState.ACCEPTED)
    conflict_decide(conflict=detected, by=manager, confirm=True)

    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        Review.objects.filter(pk=review.pk).update(state=ReviewState.ACCEPTED)
    with pytest.raises(IntegrityError, match="conflict of interest"), transaction.atomic():
        make_review(proposal, reviewer, ReviewState.INVITED, kind=ReviewKind.TECHNICAL)
    assert states(proposal) == {(reviewer.pk, "scientific"): "removed"}


@pytest.mark.parametrize(
    "status", [ConflictStatus.CONFIRMED, ConflictStatus.DISMISSED, ConflictStatus.DECLARED]
)
def test_only_a_detected_conflict_can_be_decided(detected, manager, proposal, reviewer, status):
    # each settled state as the test's parameter, set directly (the refusal is the subject)
    Conflict.objects.filter(pk=detected.pk).update(status=status)
    detected.refresh_from_db()
    make_review(proposal, reviewer, ReviewState.DECLINED)

    with pytest.raises(ValidationError) as refused:
        conflict_decide(conflict=detected, by=manager, confirm=status != ConflictStatus.CONFIRMED)

    label = ConflictStatus(status).label.lower()
    assert refused.value.messages == [f"This conflict of interest is already {label}."]
    detected.refresh_from_db()
    assert (detected.status, detected.decided_by) == (status, None)


def test_a_stale_object_does_not_decide_twice(detected, manager, proposal):
    stale = Conflict.objects.get(pk=detected.pk)
    conflict_decide(conflict=detected, by=manager, confirm=False)

    with pytest.raises(ValidationError):
        conflict_decide(conflict=stale, by=manager, confirm=True)
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DISMISSED


def test_only_a_call_manager_decides(detected, pi, proposal, reviewer):
    review = make_review(proposal, reviewer, ReviewState.ACCEPTED)

    with pytest.raises(PermissionDenied):
        conflict_decide(conflict=detected, by=pi, confirm=True)

    detected.refresh_from_db()
    review.refresh_from_db()
    assert (detected.status, review.state) == (ConflictStatus.DETECTED, ReviewState.ACCEPTED)


# --- The view --------------------------------------------------------------------------------


def url(conflict) -> str:
    return reverse("conflict_decide", args=[conflict.pk])


def page(call, status: str = "") -> str:
    base = reverse("manage_conflicts", args=[call.pk])
    return f"{base}?status={status}" if status else base


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_manager_confirms_and_is_told_the_review_was_removed(
    client, manager, detected, proposal, reviewer, call
):
    make_review(proposal, reviewer, ReviewState.ACCEPTED)
    client.force_login(manager)

    response = client.post(url(detected), {"decision": "confirm", "status": "detected"})

    assert response.status_code == 302
    assert response["Location"] == page(call, "detected")
    assert texts(response) == [
        f"Conflict of Rita Reviewer with {proposal.reference} confirmed. "
        "Their active review of this proposal was removed."
    ]
    detected.refresh_from_db()
    assert (detected.status, detected.decided_by) == (ConflictStatus.CONFIRMED, manager)
    assert states(proposal) == {(reviewer.pk, "scientific"): "removed"}


def test_a_manager_confirms_without_a_review(client, manager, detected, proposal, call):
    client.force_login(manager)

    response = client.post(url(detected), {"decision": "confirm"})

    assert response["Location"] == page(call)
    assert texts(response) == [f"Conflict of Rita Reviewer with {proposal.reference} confirmed."]


def test_a_manager_dismisses(client, manager, detected, proposal, call):
    client.force_login(manager)

    response = client.post(url(detected), {"decision": "dismiss", "status": "bogus"})

    assert response["Location"] == page(call)
    assert texts(response) == [f"Conflict of Rita Reviewer with {proposal.reference} dismissed."]
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DISMISSED


@pytest.mark.parametrize("data", [{}, {"decision": ""}, {"decision": "maybe"}])
def test_a_missing_or_unknown_decision_changes_nothing(client, manager, detected, call, data):
    client.force_login(manager)

    response = client.post(url(detected), data)

    assert response.status_code == 302
    assert response["Location"] == page(call)
    assert texts(response) == ["Choose whether to confirm or dismiss the conflict."]
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DETECTED


def test_deciding_again_is_refused_with_a_message(client, manager, detected, call):
    client.force_login(manager)
    # Following the redirect shows (and so uses up) the first message.
    client.post(url(detected), {"decision": "dismiss"}, follow=True)

    response = client.post(url(detected), {"decision": "confirm"})

    assert response["Location"] == page(call)
    assert texts(response) == ["This conflict of interest is already dismissed."]
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DISMISSED


def test_guards(client, pi, reviewer, detected):
    target = url(detected)
    response = client.post(target, {"decision": "confirm"})
    assert (response.status_code, response["Location"]) == (302, login_url_for(target))

    for person in (pi, reviewer):
        client.force_login(person)
        assert client.post(target, {"decision": "confirm"}).status_code == 403

    client.force_login(make_manager("nomfa@centre.example", with_mfa=False))
    response = client.post(target, {"decision": "confirm"})
    assert (response.status_code, response["Location"]) == (
        302,
        second_factor_url("mfa_activate_totp"),
    )

    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DETECTED


def test_an_unknown_conflict_is_404(client, manager, detected):
    client.force_login(manager)
    response = client.post(
        reverse("conflict_decide", args=[detected.pk + 1000]), {"decision": "confirm"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post(client, manager, detected, method):
    client.force_login(manager)
    assert getattr(client, method)(url(detected)).status_code == 405
    detected.refresh_from_db()
    assert detected.status == ConflictStatus.DETECTED
