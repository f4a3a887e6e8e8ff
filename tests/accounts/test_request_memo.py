"""Permission questions asked once per read-only request (``accounts.request_memo``) and the
request's user read with the call managers' role (``accounts.backends``): fewer queries per
page, and never a stale answer where something changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.request_memo import read_only_request
from proposals.submission.models import TeamMember
from proposals.submission.rules import is_team_member
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import complete_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(pi):
    return complete_proposal(make_call(), pi)


def _team_queries(queries) -> int:
    return sum('"proposals_teammember"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize(("method", "asked"), [("GET", 1), ("HEAD", 1), ("POST", 2)])
def test_a_read_only_request_asks_once(proposal, method, asked):
    outsider = make_user("someone@else.example")
    with read_only_request(method), CaptureQueriesContext(connection) as queries:
        assert is_team_member(outsider, proposal) is False
        assert is_team_member(outsider, proposal) is False
    assert _team_queries(queries) == asked


def test_outside_a_request_every_question_reads_the_database(proposal, coi):
    """A service that changes the team and asks again gets the new answer."""
    assert is_team_member(coi, proposal) is False
    TeamMember.objects.create(
        proposal=proposal, email=coi.email, user=coi, status="accepted", token="t" * 32
    )
    assert is_team_member(coi, proposal) is True


def test_the_answer_is_per_person_and_per_proposal(proposal, pi, coi):
    other = complete_proposal(proposal.call, coi, acronym="OTHER")
    with read_only_request("GET"):
        assert is_team_member(pi, proposal) is True
        assert is_team_member(coi, proposal) is False
        assert is_team_member(coi, other) is True
        assert is_team_member(pi, other) is False


def test_a_page_asks_about_the_team_once_and_not_about_the_managers_group(client, proposal, pi):
    client.force_login(pi)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("proposal_detail", args=[proposal.pk]))
    assert response.status_code == 200
    assert proposal.title in response.content.decode()
    # the PI is on the team without a query; nobody else asks about the team more than once
    assert _team_queries(queries) <= 1
    # the role came with the user (a subquery of the one query that reads them)
    assert not any(q["sql"].startswith('SELECT 1 AS "a" FROM "auth_group"') for q in queries)
    assert response.wsgi_request.user._is_call_manager is False
