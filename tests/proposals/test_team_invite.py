"""The PI invites co-investigators by email (PRODUCT §4.1): one row and one email per person."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from notifications.models import OutboxMessage
from proposals.submission.enums import ProposalStatus, TeamStatus
from proposals.submission.models import Proposal, TeamMember
from proposals.submission.services.team import team_invite
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal
from tests.proposals.people import answers, cast, close_call, login_url

pytestmark = pytest.mark.django_db


def url(proposal) -> str:
    return reverse("team_invite", args=[proposal.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def proposal(pi):
    return make_proposal(
        make_call(), pi, title="Scaling laws of sparse language models", acronym="SPARSE"
    )


def test_invitation_email_goes_to_the_invitee_with_the_link(
    client, pi, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(pi)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(proposal), {"email": "New.Person@lab.example"})

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_team", args=[proposal.pk])
    assert messages_of(response) == [
        "Invitation sent to New.Person@lab.example. They join once they accept it."
    ]
    member = TeamMember.objects.get()
    assert (member.proposal, member.email, member.user, member.status, member.invited_by) == (
        proposal,
        "New.Person@lab.example",
        None,
        TeamStatus.INVITED,
        pi,
    )
    assert [message.to for message in mailoutbox] == [["New.Person@lab.example"]]
    email = mailoutbox[0]
    assert email.subject == ("[Allot] Paula Investigator invites you to join the proposal SPARSE")
    link = f"http://127.0.0.1:8000/invitations/{member.token}/"
    assert link in email.body
    assert "JUPITER 2027-1 (JUPITER 2027-1 call for proposals)" in email.body
    assert "Principal investigator: Paula Investigator, Uni Example" in email.body
    assert "If you have no account yet, sign up with this address" in email.body
    assert f'href="{link}"' in email.alternatives[0].content
    outbox = OutboxMessage.objects.get()
    assert (outbox.kind, outbox.event, outbox.recipient) == (
        "team-invitation",
        f"team-invitation:{member.pk}",
        "New.Person@lab.example",
    )


def test_an_untitled_draft_is_named_by_its_call_in_the_subject(
    pi, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = make_proposal(make_call(), pi)

    with django_capture_on_commit_callbacks(execute=True):
        team_invite(proposal=proposal, by=pi, email="someone@lab.example")

    assert [m.subject for m in mailoutbox] == [
        "[Allot] Paula Investigator invites you to join a proposal to JUPITER 2027-1"
    ]


def test_the_title_names_the_proposal_when_it_has_no_acronym(
    pi, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = make_proposal(make_call(), pi, title="Protein language models")

    with django_capture_on_commit_callbacks(execute=True):
        team_invite(proposal=proposal, by=pi, email="someone@lab.example")

    assert [m.subject for m in mailoutbox] == [
        "[Allot] Paula Investigator invites you to join the proposal Protein language models"
    ]


def test_inviting_twice_gives_one_row_and_one_email(
    client, pi, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(pi)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(proposal), {"email": "twice@lab.example"}, follow=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(proposal), {"email": "TWICE@lab.example"})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "email": ["twice@lab.example is already invited. The email with the link was sent once."]
    }
    assert TeamMember.objects.count() == 1
    assert len(mailoutbox) == 1
    assert OutboxMessage.objects.count() == 1


def test_an_existing_account_is_linked_but_stays_invited(pi, proposal, coi):
    member = team_invite(proposal=proposal, by=pi, email="COI@lab.example")

    assert (member.user, member.status, member.responded_at) == (coi, TeamStatus.INVITED, None)
    assert Proposal.objects.with_member(coi).count() == 0


def test_the_email_to_someone_with_an_account_asks_them_to_sign_in(
    pi, proposal, coi, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        team_invite(proposal=proposal, by=pi, email=coi.email)

    assert "Sign in with your account for coi@lab.example to accept." in mailoutbox[0].body
    assert "sign up" not in mailoutbox[0].body


@pytest.mark.parametrize("email", ["pi@uni.example", "PI@UNI.example"])
def test_the_pi_cannot_invite_their_own_address(client, pi, proposal, email):
    client.force_login(pi)

    response = client.post(url(proposal), {"email": email})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "email": [
            "This is your own address: you lead this proposal as its principal investigator "
            "already."
        ]
    }
    assert TeamMember.objects.count() == 0


def test_the_pis_other_verified_address_is_theirs_too(pi, proposal):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=pi, email="paula@second.example", verified=True)

    with pytest.raises(ValidationError) as error:
        team_invite(proposal=proposal, by=pi, email="paula@second.example")

    assert error.value.message_dict == {
        "email": [
            "This is your own address: you lead this proposal as its principal investigator "
            "already."
        ]
    }


def test_a_declined_invitation_must_be_removed_before_inviting_again(pi, proposal):
    add_member(proposal, email="no@lab.example", status=TeamStatus.DECLINED)

    with pytest.raises(ValidationError) as error:
        team_invite(proposal=proposal, by=pi, email="no@lab.example")

    assert error.value.message_dict == {
        "email": [
            "no@lab.example was already invited and declined. Remove them from the list first "
            "to invite them again."
        ]
    }


def test_an_accepted_member_is_already_on_the_team(pi, proposal, coi):
    add_member(proposal, coi)

    with pytest.raises(ValidationError) as error:
        team_invite(proposal=proposal, by=pi, email=coi.email)

    assert error.value.message_dict == {
        "email": ["coi@lab.example is already a member of the team."]
    }


def test_an_account_on_the_team_under_another_address_is_not_invited_twice(pi, proposal, coi):
    from allauth.account.models import EmailAddress

    add_member(proposal, coi)
    EmailAddress.objects.create(user=coi, email="carl@home.example", verified=True)

    with pytest.raises(ValidationError) as error:
        team_invite(proposal=proposal, by=pi, email="carl@home.example")

    assert error.value.message_dict == {
        "email": [
            "This address belongs to an account that is already on the list as coi@lab.example."
        ]
    }
    assert TeamMember.objects.count() == 1


def test_an_invalid_address_is_refused_beside_the_field(client, pi, proposal):
    client.force_login(pi)

    response = client.post(url(proposal), {"email": "not an address"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
    assert 'id="id_email_error"' in response.content.decode()


def test_after_the_deadline_the_pi_is_told_the_team_is_frozen(client, pi, proposal, mailoutbox):
    close_call(proposal.call)
    client.force_login(pi)

    response = client.post(url(proposal), {"email": "late@lab.example"})

    assert response.status_code == 302
    assert messages_of(response) == [
        "The team can change only while the proposal is a draft and the call is open."
    ]
    assert TeamMember.objects.count() == 0
    with pytest.raises(ValidationError) as error:
        team_invite(proposal=proposal, by=pi, email="late@lab.example")
    assert error.value.messages[0].startswith(
        "The team can change only while the proposal is a draft and the call is open (the call "
        "closes on "
    )


def test_a_submitted_proposal_takes_no_invitations(pi, proposal):
    Proposal.objects.filter(pk=proposal.pk).update(
        status=ProposalStatus.SUBMITTED, reference="JUP27-1-0001"
    )
    proposal.refresh_from_db()

    with pytest.raises(ValidationError):
        team_invite(proposal=proposal, by=pi, email="late@lab.example")


def test_only_the_pi_invites(coi, proposal):
    add_member(proposal, coi)

    with pytest.raises(PermissionDenied):
        team_invite(proposal=proposal, by=coi, email="friend@lab.example")


def test_who_may_invite(client, pi, coi, outsider, reviewer, committee, manager):
    people = cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )
    target = url(people.proposal)

    result = answers(client, people.people, "post", target, {"email": "new@lab.example"})

    assert result == {
        "pi": 302,
        "coi": 403,
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 403,
        "anonymous": login_url(target),
    }
    assert list(people.proposal.team.values_list("email", flat=True)) == [
        "coi@lab.example",
        "invited@lab.example",
        "new@lab.example",
    ]


def test_invite_answers_only_post(client, pi, proposal):
    client.force_login(pi)

    assert client.get(url(proposal)).status_code == 405


def test_an_unknown_proposal_is_404(client, pi):
    client.force_login(pi)

    assert (
        client.post(reverse("team_invite", args=[999]), {"email": "a@b.example"}).status_code == 404
    )


def test_a_new_user_with_the_address_but_unverified_is_not_linked(pi, proposal):
    from allauth.account.models import EmailAddress

    user = make_user("pending@lab.example")
    EmailAddress.objects.filter(user=user).update(verified=False)

    member = team_invite(proposal=proposal, by=pi, email="pending@lab.example")

    assert member.user is None
