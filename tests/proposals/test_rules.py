"""The predicates about people in a call and what they may read, one by one."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from proposals.calls.enums import CallRoleKind, ReviewVisibility
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call, is_call_reviewer, is_committee_member
from proposals.calls.services import call_role_add
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewKind, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.rules import (
    can_read_reviews,
    can_see_reply,
    reply_opened,
    reviews_shared_with_team,
)
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit
from tests.factories import make_call
from tests.proposal_factories import add_call_role, add_member, complete_proposal


@pytest.fixture
def call(db):
    return make_call("A 2027-1")


def test_committee_member_of_this_call(call, manager, committee):
    call_role_add(call=call, email=committee.email, role="committee", by=manager)

    assert is_committee_member(committee, call) is True
    assert is_call_reviewer(committee, call) is False
    assert is_committee_member(committee, make_call("B 2027-2")) is False


def test_reviewer_of_this_call(call, manager, reviewer):
    call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)

    assert is_call_reviewer(reviewer, call) is True
    assert is_committee_member(reviewer, call) is False
    assert is_call_reviewer(reviewer, make_call("B 2027-2")) is False


def test_a_pending_role_gives_nobody_anything(call, manager, outsider):
    call_role_add(call=call, email="nobody@lab.example", role="reviewer", by=manager)

    assert is_call_reviewer(outsider, call) is False


def test_anonymous_and_inactive_people_have_no_role(call, manager, reviewer):
    call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)
    reviewer.is_active = False

    assert is_call_reviewer(AnonymousUser(), call) is False
    assert is_committee_member(AnonymousUser(), call) is False
    assert is_call_reviewer(reviewer, call) is False


def test_only_call_managers_manage_calls(call, manager, pi, committee):
    assert can_manage_call(manager, call) is True
    assert can_manage_call(pi, call) is False
    assert can_manage_call(committee, call) is False
    assert can_manage_call(AnonymousUser(), call) is False


# --- Reading reviews and the right of reply (PRODUCT §1.1, §5.4) ------------------------------

NOW = timezone.now()


def call_at(**fields) -> Call:
    """A call in memory with its right-of-reply fields: the clock predicates read no rows."""
    return Call(
        right_of_reply=fields.pop("right_of_reply", True),
        reply_opened_at=fields.pop("reply_opened_at", None),
        reply_closes_at=fields.pop("reply_closes_at", None),
        decisions_published_at=fields.pop("decisions_published_at", None),
    )


@pytest.mark.parametrize(
    ("fields", "opened"),
    [
        ({"right_of_reply": False, "reply_opened_at": NOW - timedelta(days=1)}, False),
        ({}, False),
        ({"reply_opened_at": NOW + timedelta(minutes=1)}, False),
        ({"reply_opened_at": NOW}, True),
        ({"reply_opened_at": NOW - timedelta(days=20), "reply_closes_at": NOW}, True),
    ],
    ids=["not offered", "not opened", "opened later", "just opened", "closed since"],
)
def test_the_right_of_reply_counts_as_opened_once_a_manager_opened_it(fields, opened):
    assert reply_opened(call_at(**fields), NOW) is opened


def test_the_team_reads_the_reviews_from_the_reply_or_the_publication_on():
    assert reviews_shared_with_team(call_at(), NOW) is False
    assert reviews_shared_with_team(call_at(reply_opened_at=NOW), NOW) is True
    assert reviews_shared_with_team(call_at(right_of_reply=False, decisions_published_at=NOW), NOW)


@pytest.fixture
def proposal(call, pi, coi, reviewer, committee):
    """A submitted proposal with a co-investigator, an assigned reviewer who has not submitted
    yet, and the call's committee member; the deadline has passed."""
    proposal = complete_proposal(call, pi)
    add_member(proposal, coi)
    proposal_submit(proposal=proposal, by=pi)
    add_call_role(call, committee)
    add_call_role(call, reviewer, CallRoleKind.REVIEWER)
    Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=ReviewKind.SCIENTIFIC,
        state=ReviewState.ACCEPTED,
        due_at=NOW + timedelta(days=10),
    )
    Call.objects.filter(pk=call.pk).update(closes_at=NOW - timedelta(seconds=1))
    proposal.refresh_from_db()
    return proposal


def open_reply(proposal: Proposal) -> None:
    Call.objects.filter(pk=proposal.call_id).update(right_of_reply=True, reply_opened_at=NOW)
    proposal.call.refresh_from_db()


def test_the_team_reads_the_reviews_once_they_are_shared(proposal, pi, coi):
    assert can_read_reviews(pi, proposal, NOW) is False
    assert can_read_reviews(coi, proposal, NOW) is False

    open_reply(proposal)

    assert can_read_reviews(pi, proposal, NOW) is True
    assert can_read_reviews(coi, proposal, NOW) is True


def test_someone_on_the_team_gets_the_teams_view_whatever_else_they_are(proposal, coi):
    add_call_role(proposal.call, coi)  # also on the committee: no conflict recorded yet

    assert can_read_reviews(coi, proposal, NOW) is False


def test_managers_and_the_committee_read_the_reviews_unless_in_conflict(
    proposal, manager, committee
):
    assert can_read_reviews(manager, proposal, NOW) is True
    assert can_read_reviews(committee, proposal, NOW) is True

    Conflict.objects.create(
        proposal=proposal,
        reviewer=committee,
        reason=ConflictReason.DECLARED,
        status=ConflictStatus.DECLARED,
    )

    assert can_read_reviews(committee, proposal, NOW) is False


@pytest.mark.parametrize(
    ("setting", "before", "after"),
    [
        (ReviewVisibility.NEVER, False, False),
        (ReviewVisibility.AFTER_OWN, False, True),
        (ReviewVisibility.ALWAYS, True, True),
    ],
)
def test_an_assigned_reviewer_reads_the_reviews_as_the_call_allows(
    proposal, reviewer, setting, before, after
):
    Call.objects.filter(pk=proposal.call_id).update(review_visibility=setting)
    proposal.call.refresh_from_db()
    assert can_read_reviews(reviewer, proposal, NOW) is before

    Review.objects.filter(reviewer=reviewer).update(state=ReviewState.SUBMITTED, submitted_at=NOW)

    assert can_read_reviews(reviewer, proposal, NOW) is after


def test_nobody_else_reads_the_reviews(proposal, outsider):
    open_reply(proposal)

    assert can_read_reviews(outsider, proposal, NOW) is False
    assert can_read_reviews(AnonymousUser(), proposal, NOW) is False


def test_the_team_sees_the_right_of_reply_once_it_is_opened(
    proposal, pi, coi, manager, committee, reviewer
):
    assert can_see_reply(pi, proposal, NOW) is False

    open_reply(proposal)

    assert can_see_reply(pi, proposal, NOW) is True
    assert can_see_reply(coi, proposal, NOW) is True
    for other in (manager, committee, reviewer, AnonymousUser()):
        assert can_see_reply(other, proposal, NOW) is False
