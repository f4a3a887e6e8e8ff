"""The emailed link: accept (signed in) or decline (anyone), once (PRODUCT §4.1)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from proposals.submission.enums import TeamStatus
from proposals.submission.models import Proposal, TeamMember
from proposals.submission.services.lifecycle import proposal_withdraw
from proposals.submission.services.team import team_invite, team_respond
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal
from tests.proposals.people import close_call, login_url

pytestmark = pytest.mark.django_db


def url(member) -> str:
    return reverse("invitation", args=[member.token])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def proposal(pi):
    return make_proposal(
        make_call(),
        pi,
        title="Scaling laws of sparse language models",
        acronym="SPARSE",
        pi_affiliation="Uni Example",
    )


@pytest.fixture
def invitation(pi, proposal, coi):
    return team_invite(proposal=proposal, by=pi, email=coi.email)


def test_anyone_with_the_link_sees_who_invites_them_to_what(client, invitation):
    response = client.get(url(invitation))

    html = response.content.decode()
    assert response.status_code == 200
    for expected in [
        "Paula Investigator invites you to join the team of this proposal as a co-investigator.",
        "SPARSE: Scaling laws of sparse language models",
        "Paula Investigator, Uni Example",
        "JUPITER 2027-1",
        "coi@lab.example",
        f'href="/accounts/login/?next={url(invitation)}"',
        f'href="/accounts/signup/?next={url(invitation)}"',
        'value="decline"',
    ]:
        assert expected in html, expected
    assert 'value="accept"' not in html


def test_signed_in_the_invitee_sees_the_accept_button(client, coi, invitation):
    client.force_login(coi)

    html = client.get(url(invitation)).content.decode()

    assert 'value="accept"' in html
    assert "you are signed in as" not in html


def test_accepting_signed_in_joins_the_team(client, coi, proposal, invitation):
    client.force_login(coi)

    response = client.post(url(invitation), {"action": "accept"})

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_detail", args=[proposal.pk])
    assert messages_of(response) == ["Welcome to the team of SPARSE."]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.user) == (TeamStatus.ACCEPTED, coi)
    assert timezone.now() - invitation.responded_at < timedelta(seconds=10)
    assert list(Proposal.objects.with_member(coi)) == [proposal]
    assert client.get(reverse("proposal_detail", args=[proposal.pk])).status_code == 200


def test_someone_who_signed_up_after_the_invitation_accepts_it(client, pi, proposal):
    member = team_invite(proposal=proposal, by=pi, email="newcomer@lab.example")
    assert member.user is None
    newcomer = make_user("newcomer@lab.example", full_name="Nina Newcomer")
    client.force_login(newcomer)

    response = client.post(url(member), {"action": "accept"})

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.status, member.user) == (TeamStatus.ACCEPTED, newcomer)


def test_accepting_without_signing_in_goes_to_sign_in_and_back(client, invitation):
    response = client.post(url(invitation), {"action": "accept"})

    assert response.status_code == 302
    assert response["Location"] == login_url(url(invitation))
    invitation.refresh_from_db()
    assert invitation.status == TeamStatus.INVITED


def test_declining_needs_no_account(client, invitation):
    response = client.post(url(invitation), {"action": "decline"})

    assert response.status_code == 302
    assert response["Location"] == url(invitation)
    assert messages_of(response) == [
        "You declined the invitation to SPARSE. Thank you for answering."
    ]
    invitation.refresh_from_db()
    assert invitation.status == TeamStatus.DECLINED
    assert invitation.responded_at is not None
    page = client.get(url(invitation)).content.decode()
    assert "This invitation was declined on" in page
    assert 'value="decline"' not in page


def test_an_answered_invitation_says_so(client, coi, invitation):
    team_respond(member=invitation, user=coi, accept=True)
    answered_at = TeamMember.objects.get().responded_at
    client.force_login(coi)

    response = client.post(url(invitation), {"action": "decline"})

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("This invitation was already accepted on ")
    member = TeamMember.objects.get()
    assert (member.status, member.responded_at) == (TeamStatus.ACCEPTED, answered_at)
    page = client.get(url(invitation)).content.decode()
    assert "This invitation was accepted on" in page
    assert "Open the proposal" in page


def test_a_declined_invitation_cannot_be_accepted_later(coi, invitation):
    team_respond(member=invitation, user=None, accept=False)

    with pytest.raises(ValidationError) as error:
        team_respond(member=invitation, user=coi, accept=True)

    assert error.value.messages[0].startswith("This invitation was already declined on ")
    assert TeamMember.objects.get().status == TeamStatus.DECLINED


def test_accepting_after_the_deadline_is_refused_but_declining_works(
    client, coi, proposal, invitation
):
    close_call(proposal.call)
    client.force_login(coi)

    page = client.get(url(invitation)).content.decode()
    response = client.post(url(invitation), {"action": "accept"})

    assert 'value="accept"' not in page
    assert "the team of this proposal can no longer change" in page
    [message] = messages_of(response)
    assert message.startswith("The call closed on ")
    assert message.endswith(
        "(Europe/Berlin): the team of this proposal can no longer change. You can still "
        "decline the invitation."
    )
    assert TeamMember.objects.get().status == TeamStatus.INVITED

    client.post(url(invitation), {"action": "decline"})

    assert TeamMember.objects.get().status == TeamStatus.DECLINED


def test_a_withdrawn_proposal_can_be_declined_not_joined(client, pi, coi, proposal, invitation):
    proposal_withdraw(proposal=proposal, by=pi)
    client.force_login(coi)

    response = client.post(url(invitation), {"action": "accept"})

    assert messages_of(response) == [
        "The principal investigator has withdrawn this proposal, so it takes no new team "
        "members. You can still decline the invitation."
    ]
    assert TeamMember.objects.get().status == TeamStatus.INVITED
    team_respond(member=invitation, user=None, accept=False)
    assert TeamMember.objects.get().status == TeamStatus.DECLINED


def test_an_invitation_for_another_account_cannot_be_accepted(client, outsider, invitation):
    client.force_login(outsider)

    page = client.get(url(invitation)).content.decode()
    response = client.post(url(invitation), {"action": "accept"})

    assert (
        "The invitation was sent to coi@lab.example; you are signed in as outsider@else.example."
        in page
    )
    assert messages_of(response) == [
        "This invitation was sent to coi@lab.example, an address of another account. Sign in "
        "with that account to accept it."
    ]
    assert TeamMember.objects.get().user != outsider


def test_an_address_without_account_can_be_accepted_by_the_person_signed_in(
    client, pi, proposal, outsider
):
    # The link went to a mailbox with no Allot account; its owner uses another account.
    member = team_invite(proposal=proposal, by=pi, email="otto@work.example")
    client.force_login(outsider)

    client.post(url(member), {"action": "accept"})

    member.refresh_from_db()
    assert (member.status, member.user) == (TeamStatus.ACCEPTED, outsider)


def test_someone_already_on_the_team_cannot_accept_a_second_invitation(pi, coi, proposal):
    add_member(proposal, coi)
    second = team_invite(proposal=proposal, by=pi, email="carl@home.example")

    with pytest.raises(ValidationError) as error:
        team_respond(member=second, user=coi, accept=True)

    assert error.value.messages == [
        "You are already on the team of this proposal (invited under another address)."
    ]


def test_the_pi_cannot_accept_an_invitation_to_their_own_proposal(pi, proposal):
    member = team_invite(proposal=proposal, by=pi, email="paula@home.example")

    with pytest.raises(ValidationError) as error:
        team_respond(member=member, user=pi, accept=True)

    assert error.value.messages == ["You are the principal investigator of this proposal already."]


def test_accepting_needs_a_user(invitation):
    with pytest.raises(PermissionDenied):
        team_respond(member=invitation, user=None, accept=True)


def test_an_unknown_link_is_404(client, invitation):
    assert client.get(reverse("invitation", args=["not-a-token"])).status_code == 404
    assert (
        client.post(reverse("invitation", args=["not-a-token"]), {"action": "decline"}).status_code
        == 404
    )


def test_an_unknown_action_is_a_bad_request(client, invitation):
    response = client.post(url(invitation), {"action": "maybe"})

    assert response.status_code == 400
    assert TeamMember.objects.get().status == TeamStatus.INVITED


@pytest.mark.parametrize("method", ["put", "delete"])
def test_the_link_answers_get_and_post_only(client, invitation, method):
    assert getattr(client, method)(url(invitation)).status_code == 405
