"""Withdrawing a proposal at any time before the decision (PRODUCT §4.2)."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from notifications.models import OutboxMessage
from proposals.calls.models import Call
from proposals.submission.enums import ProposalStatus, TeamStatus
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit, proposal_withdraw
from tests.proposal_factories import (
    DEADLINE,
    add_call_role,
    add_member,
    complete_proposal,
    make_call_closing,
    make_proposal,
)
from tests.proposals.helpers import login_url_for


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


@pytest.fixture
def submitted(call, pi, coi) -> Proposal:
    proposal = complete_proposal(call, pi)
    add_member(proposal, coi)
    add_member(proposal, email="invited@else.example", status=TeamStatus.INVITED)
    proposal_submit(proposal=proposal, by=pi)
    OutboxMessage.objects.all().delete()
    return proposal


def url(proposal: Proposal) -> str:
    return reverse("proposal_withdraw", args=[proposal.pk])


def test_withdrawing_tells_the_pi_and_accepted_team(
    submitted, pi, mailoutbox, django_capture_on_commit_callbacks
):
    when = DEADLINE.replace(day=10, hour=9)

    with django_capture_on_commit_callbacks(execute=True):
        proposal_withdraw(proposal=submitted, by=pi, now=when)

    submitted.refresh_from_db()
    assert (submitted.status, submitted.withdrawn_at) == (ProposalStatus.WITHDRAWN, when)
    assert sorted(m.to[0] for m in mailoutbox) == ["coi@lab.example", "pi@uni.example"]
    assert {m.subject for m in mailoutbox} == {"[Allot] Withdrawn: JUP27-1-0001"}
    body = mailoutbox[0].body
    for expected in [
        "to the call JUPITER 2027-1 was withdrawn by its principal investigator, "
        "Paula Investigator.",
        "Reference: JUP27-1-0001",
        "Withdrawn: 10 Jan 2099, 09:00 CET (Europe/Berlin)",
        f"{settings.SITE_URL}/proposals/{submitted.pk}/",
    ]:
        assert expected in body, expected
    assert set(OutboxMessage.objects.values_list("event", flat=True)) == {
        f"proposal-withdrawn:{submitted.pk}"
    }


def test_a_draft_without_reference_is_named_by_its_title(
    call, pi, mailoutbox, django_capture_on_commit_callbacks
):
    draft = make_proposal(call, pi, title="Unfinished idea")

    with django_capture_on_commit_callbacks(execute=True):
        proposal_withdraw(proposal=draft, by=pi)

    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["pi@uni.example"], "[Allot] Withdrawn: Unfinished idea")
    ]


@pytest.mark.parametrize(
    "status", [ProposalStatus.WITHDRAWN, ProposalStatus.AWARDED, ProposalStatus.REJECTED]
)
def test_withdrawn_or_decided_proposals_cannot_be_withdrawn(submitted, pi, status):
    # each state as the test's parameter, set directly: reaching them takes a whole call's flow
    Proposal.objects.filter(pk=submitted.pk).update(status=status)

    with pytest.raises(ValidationError) as refusal:
        proposal_withdraw(proposal=submitted, by=pi)

    label = {"withdrawn": "withdrawn", "awarded": "awarded", "rejected": "rejected"}[status]
    assert refusal.value.messages == [f"This proposal is {label} and can no longer be withdrawn."]
    assert OutboxMessage.objects.count() == 0


def test_only_the_pi_may_withdraw(submitted, coi, manager):
    for person in (coi, manager):
        with pytest.raises(PermissionDenied):
            proposal_withdraw(proposal=submitted, by=person)
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED


def test_the_page_asks_for_confirmation_first(client, submitted, pi):
    client.force_login(pi)

    response = client.post(url(submitted))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="confirm-withdraw">Withdraw this proposal?</h2>' in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED
    assert OutboxMessage.objects.count() == 0


def test_the_confirmed_page_withdraws(client, submitted, pi, django_capture_on_commit_callbacks):
    client.force_login(pi)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(submitted), {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_detail", args=[submitted.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your proposal is withdrawn. It will not be reviewed; your team has been told."
    ]
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.WITHDRAWN
    assert sorted(OutboxMessage.objects.values_list("recipient", flat=True)) == [
        "coi@lab.example",
        "pi@uni.example",
    ]


def test_withdrawing_twice_is_refused_with_a_message(client, submitted, pi):
    proposal_withdraw(proposal=submitted, by=pi)
    client.force_login(pi)

    response = client.post(url(submitted), {"confirm": "yes"})

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This proposal is withdrawn and can no longer be withdrawn."
    ]


@pytest.mark.parametrize(
    ("who", "status"),
    [("coi", 403), ("committee", 403), ("manager", 403), ("outsider", 404), ("reviewer", 404)],
)
def test_only_the_pi_can_withdraw_through_the_page(client, request, submitted, who, status):
    person = request.getfixturevalue(who)
    if who == "committee":
        add_call_role(submitted.call, person)
    if who == "reviewer":
        add_call_role(submitted.call, person, role="reviewer")
    client.force_login(person)

    assert client.post(url(submitted), {"confirm": "yes"}).status_code == status
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED


def test_anonymous_people_are_sent_to_sign_in(client, submitted):
    response = client.post(url(submitted), {"confirm": "yes"})

    assert (response.status_code, response["Location"]) == (302, login_url_for(url(submitted)))


def test_withdrawing_accepts_only_post(client, submitted, pi):
    client.force_login(pi)

    assert client.get(url(submitted)).status_code == 405
