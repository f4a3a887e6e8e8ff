"""The team page: the PI and the invitations; the invite form and remove buttons for the PI."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.submission.enums import TeamStatus
from proposals.submission.services.team import team_invite
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal
from tests.proposals.people import answers, cast, close_call, login_url

pytestmark = pytest.mark.django_db


def url(proposal) -> str:
    return reverse("proposal_team", args=[proposal.pk])


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def proposal(pi):
    return make_proposal(make_call(), pi, title="Sparse models", acronym="SPARSE")


def test_pi_sees_everyone_with_status_and_dates_and_the_forms(client, pi, coi, proposal):
    add_member(proposal, coi)
    team_invite(proposal=proposal, by=pi, email="waiting@lab.example")
    add_member(proposal, email="no@lab.example", status=TeamStatus.DECLINED)
    client.force_login(pi)

    response = client.get(url(proposal))

    assert response.status_code == 200
    assert [m.email for m in response.context["members"]] == [
        "coi@lab.example",
        "waiting@lab.example",
        "no@lab.example",
    ]
    html = response.content.decode()
    text = text_of(html)
    for expected in [
        "Paula Investigator pi@uni.example Uni Example Principal investigator",
        "Carl Coinvestigator coi@lab.example Lab Example Co-investigator Accepted",
        "waiting@lab.example — Co-investigator Invited",
        "no@lab.example — Co-investigator Declined",
        "Invite a co-investigator",
        "Withdraw the invitation to waiting@lab.example? The link in their email stops working.",
        "Remove Carl Coinvestigator from the team? They can no longer open this proposal.",
    ]:
        assert expected in text, expected
    assert html.count('<th scope="col">') == 6
    assert html.count('<th scope="row"') == 4
    assert html.count(f'action="{reverse("team_invite", args=[proposal.pk])}"') == 1
    assert html.count("Yes, remove") == 3
    assert '<span class="badge badge-invited">Invited</span>' in html
    assert '<label for="id_email">' in html


def test_an_invited_account_shows_no_name_until_it_accepts(client, pi, proposal, coi):
    team_invite(proposal=proposal, by=pi, email=coi.email)
    client.force_login(pi)

    html = client.get(url(proposal)).content.decode()

    assert "Carl Coinvestigator" not in html
    assert "Lab Example" not in html


def test_a_co_investigator_reads_the_list_without_forms(client, pi, coi, proposal):
    add_member(proposal, coi)
    team_invite(proposal=proposal, by=pi, email="waiting@lab.example")
    client.force_login(coi)

    response = client.get(url(proposal))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "waiting@lab.example" in html
    assert "Invite a co-investigator" not in html
    assert "Yes, remove" not in html
    assert "Only the principal investigator invites and removes team members." in html


def test_after_the_deadline_the_pi_reads_the_list_without_forms(client, pi, coi, proposal):
    add_member(proposal, coi)
    close_call(proposal.call)
    client.force_login(pi)

    response = client.get(url(proposal))

    html = response.content.decode()
    assert response.context["form"] is None
    assert "Yes, remove" not in html
    assert "The team can change only while the proposal is a draft and the call is open." in html


def test_headings_in_order_and_section_marked_current(client, pi, proposal):
    client.force_login(pi)

    html = client.get(url(proposal)).content.decode()

    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert levels == [1, 2, 3]
    assert f'<a href="{url(proposal)}" aria-current="page">Team</a>' in html


def test_who_may_see_the_team(client, pi, coi, outsider, reviewer, committee, manager):
    people = cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )
    target = url(people.proposal)

    assert answers(client, people.people, "get", target) == {
        "pi": 200,
        "coi": 200,
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 200,
        "anonymous": login_url(target),
    }


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_team_page_answers_only_get(client, pi, proposal, method):
    client.force_login(pi)

    assert getattr(client, method)(url(proposal)).status_code == 405


def test_an_unknown_proposal_is_404(client, pi):
    client.force_login(pi)

    assert client.get(reverse("proposal_team", args=[999])).status_code == 404


def test_a_user_invited_to_another_proposal_sees_nothing_of_this_one(client, pi, proposal):
    other = make_proposal(proposal.call, make_user("other.pi@uni.example"), acronym="OTHER")
    guest = make_user("guest@lab.example")
    add_member(other, guest)
    client.force_login(guest)

    assert client.get(url(proposal)).status_code == 404


def test_the_page_uses_the_same_queries_with_one_and_three_members(client, pi, proposal):
    team_invite(proposal=proposal, by=pi, email="one@lab.example")
    client.force_login(pi)
    with CaptureQueriesContext(connection) as one:
        client.get(url(proposal))
    team_invite(proposal=proposal, by=pi, email="two@lab.example")
    add_member(proposal, make_user("three@lab.example"))
    with CaptureQueriesContext(connection) as three:
        response = client.get(url(proposal))

    assert len(response.context["members"]) == 3
    assert len(three) == len(one)
