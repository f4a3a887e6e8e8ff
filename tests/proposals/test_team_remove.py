"""The PI removes a co-investigator or withdraws an invitation; access ends at once."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from proposals.submission.enums import TeamStatus
from proposals.submission.models import TeamMember
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.services.team import team_invite, team_remove
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal
from tests.proposals.people import ROLES, answers, cast, close_call, login_url

pytestmark = pytest.mark.django_db


def url(member) -> str:
    return reverse("team_remove", args=[member.proposal_id, member.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def proposal(pi):
    return make_proposal(make_call(), pi, title="Sparse models", acronym="SPARSE")


def test_a_removed_member_loses_access_at_once(client, pi, coi, proposal):
    member = add_member(proposal, coi)
    detail = reverse("proposal_detail", args=[proposal.pk])
    client.force_login(coi)
    assert client.get(detail).status_code == 200
    assert get_proposal_for_user(user=coi, pk=proposal.pk) == proposal

    client.force_login(pi)
    response = client.post(url(member))

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_team", args=[proposal.pk])
    assert messages_of(response) == [
        "Carl Coinvestigator is no longer on the team and can no longer open the proposal."
    ]
    assert TeamMember.objects.count() == 0
    client.force_login(coi)
    assert client.get(detail).status_code == 404
    assert client.get(reverse("proposal_team", args=[proposal.pk])).status_code == 404
    with pytest.raises(Http404):
        get_proposal_for_user(user=coi, pk=proposal.pk)


def test_withdrawing_an_invitation_kills_the_link(client, pi, proposal):
    member = team_invite(proposal=proposal, by=pi, email="waiting@lab.example")
    client.force_login(pi)

    response = client.post(url(member))

    assert messages_of(response) == [
        "The invitation to waiting@lab.example is withdrawn; the link no longer works."
    ]
    client.logout()
    assert client.get(reverse("invitation", args=[member.token])).status_code == 404


def test_a_removed_person_can_be_invited_again(pi, proposal):
    member = add_member(proposal, email="no@lab.example", status=TeamStatus.DECLINED)
    team_remove(member=member, by=pi)

    again = team_invite(proposal=proposal, by=pi, email="no@lab.example")

    assert (again.status, TeamMember.objects.count()) == (TeamStatus.INVITED, 1)


def test_the_pi_cannot_remove_themself(pi, proposal):
    # Such a row cannot come from team_invite; written directly to prove the service refuses.
    member = TeamMember.objects.create(proposal=proposal, email=pi.email, user=pi)

    with pytest.raises(ValidationError) as error:
        team_remove(member=member, by=pi)

    assert error.value.messages == [
        "The principal investigator cannot be removed from their own proposal."
    ]
    assert TeamMember.objects.count() == 1


def test_only_the_pi_removes(coi, proposal):
    add_member(proposal, coi)
    other = add_member(proposal, email="waiting@lab.example", status=TeamStatus.INVITED)

    with pytest.raises(PermissionDenied):
        team_remove(member=other, by=coi)
    assert TeamMember.objects.count() == 2


def test_after_the_deadline_nobody_is_removed(client, pi, coi, proposal):
    member = add_member(proposal, coi)
    close_call(proposal.call)
    client.force_login(pi)

    response = client.post(url(member))

    assert response.status_code == 302
    assert messages_of(response) == [
        "The team can change only while the proposal is a draft and the call is open."
    ]
    assert TeamMember.objects.count() == 1


def test_a_member_of_another_proposal_is_404(client, pi, proposal, outsider, coi):
    other = make_proposal(proposal.call, outsider, acronym="OTHER")
    foreign = add_member(other, coi)
    client.force_login(pi)

    response = client.post(reverse("team_remove", args=[proposal.pk, foreign.pk]))

    assert response.status_code == 404
    assert TeamMember.objects.count() == 1


def test_who_may_remove(client, pi, coi, outsider, reviewer, committee, manager):
    people = cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )
    member = people.proposal.team.get(email="invited@lab.example")
    target = url(member)

    # Everyone but the PI first: the PI's answer removes the row.
    result = answers(client, people.people, "post", target, roles=ROLES[1:])

    assert result == {
        "coi": 403,
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 403,
        "anonymous": login_url(target),
    }
    assert people.proposal.team.filter(pk=member.pk).exists()

    client.force_login(pi)
    assert client.post(target).status_code == 302
    assert not people.proposal.team.filter(pk=member.pk).exists()


def test_remove_answers_only_post(client, pi, coi, proposal):
    member = add_member(proposal, coi)
    client.force_login(pi)

    assert client.get(url(member)).status_code == 405
