"""Taking a submitted proposal back to draft before the deadline (PRODUCT §4.2)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from proposals.calls.models import Call
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import (
    DeadlinePassed,
    proposal_submit,
    proposal_unsubmit,
)
from tests.proposal_factories import (
    DEADLINE,
    add_call_role,
    add_member,
    complete_proposal,
    make_call_closing,
)
from tests.proposals.helpers import login_url_for

ONE_SECOND = timedelta(seconds=1)


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


@pytest.fixture
def submitted(call, pi, coi) -> Proposal:
    proposal = complete_proposal(call, pi)
    add_member(proposal, coi)
    proposal_submit(proposal=proposal, by=pi, now=DEADLINE - timedelta(days=2))
    OutboxMessage.objects.all().delete()
    return proposal


def url(proposal: Proposal) -> str:
    return reverse("proposal_unsubmit", args=[proposal.pk])


def test_taking_back_makes_a_draft_and_keeps_reference_and_versions(submitted, pi):
    proposal_unsubmit(proposal=submitted, by=pi, now=DEADLINE - ONE_SECOND)

    submitted.refresh_from_db()
    assert (submitted.status, submitted.reference) == (ProposalStatus.DRAFT, "JUP27-1-0001")
    assert list(submitted.versions.values_list("number", flat=True)) == [1]
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("late", [timedelta(0), ONE_SECOND], ids=["at-deadline", "after"])
def test_after_the_deadline_it_stays_submitted(submitted, pi, late):
    with pytest.raises(DeadlinePassed) as refusal:
        proposal_unsubmit(proposal=submitted, by=pi, now=DEADLINE + late)

    assert refusal.value.messages == [
        "The call closed on 15 Jan 2099, 17:00 CET (Europe/Berlin); a submitted proposal can "
        "no longer be taken back to draft."
    ]
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED


def test_a_draft_cannot_be_taken_back(call, pi):
    draft = complete_proposal(call, pi)

    with pytest.raises(ValidationError) as refusal:
        proposal_unsubmit(proposal=draft, by=pi)

    assert refusal.value.messages == [
        "Only a submitted proposal that is not yet in review can be taken back."
    ]


def test_only_the_pi_may_take_it_back(submitted, coi, manager):
    for person in (coi, manager):
        with pytest.raises(PermissionDenied):
            proposal_unsubmit(proposal=submitted, by=person)
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED


def test_the_page_takes_it_back_and_says_what_happens_next(client, submitted, pi):
    client.force_login(pi)

    response = client.post(url(submitted))

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_detail", args=[submitted.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your proposal is a draft again. Its reference and earlier versions are kept. Submit it "
        "again before the deadline, or it will not be reviewed."
    ]
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.DRAFT


def test_the_page_refuses_after_the_deadline_with_a_message(client, submitted, pi):
    Call.objects.filter(pk=submitted.call_id).update(closes_at=timezone.now() - ONE_SECOND)
    client.force_login(pi)

    response = client.post(url(submitted))

    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.endswith("a submitted proposal can no longer be taken back to draft.")
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED


@pytest.mark.parametrize(
    ("who", "status"),
    [("coi", 403), ("committee", 403), ("manager", 403), ("outsider", 404), ("reviewer", 404)],
)
def test_only_the_pi_can_take_it_back_through_the_page(client, request, submitted, who, status):
    person = request.getfixturevalue(who)
    if who == "committee":
        add_call_role(submitted.call, person)
    if who == "reviewer":
        add_call_role(submitted.call, person, role="reviewer")
    client.force_login(person)

    assert client.post(url(submitted)).status_code == status
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED


def test_anonymous_people_are_sent_to_sign_in(client, submitted):
    response = client.post(url(submitted))

    assert (response.status_code, response["Location"]) == (302, login_url_for(url(submitted)))


def test_taking_back_accepts_only_post(client, submitted, pi):
    client.force_login(pi)

    assert client.get(url(submitted)).status_code == 405
